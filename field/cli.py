"""Command-line tasks: flask --app wsgi <command>.

Operator tooling, like `flask db`: its output is English and not translated. A command that
writes is one unit of work, like a request: it ends with transaction.commit()."""
import unicodedata
from datetime import date, timedelta

import click
from sqlalchemy import or_, select

from field import audit, demo, transaction
from field.activities import operations as activity_ops
from field.activities.models import Activity
from field.auth.models import Role, User
from field.core import company_today
from field.extensions import db
from field.notifications import cli as notifications_cli
from field.photos.models import Photo
from field.photos.storage import storage, sweep_orphans
from field.roi import figures
from field.roi.queries import Filters

MIN_PASSWORD = 8
# An ingest writes its files before its row commits (seconds): a younger file may be one in flight.
MIN_SWEEP_AGE_MINUTES = 10


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: tuple, rows: list[tuple]) -> str:
    widths = [max(_width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, tuple("-" * w for w in widths), *rows]:
        cells = [str(c) + " " * (w - _width(str(c))) for c, w in zip(row, widths)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _echo_logins() -> bool:
    rows = demo.login_rows()
    if not rows:
        return False
    click.echo(_table(("role", "login", "name", "region", "password"), rows))
    return True


def _photo_keys_in_use(keys: set[str]) -> set[str]:
    """Which of these storage keys a photo row (voided or not) refers to, as committed now: the read
    transaction ends with the answer, so the sweep's second look sees rows committed since its first
    (SQLite keeps a transaction's first snapshot)."""
    rows = db.session.execute(select(Photo.original_key, Photo.display_key, Photo.thumb_key).where(or_(
        Photo.original_key.in_(keys), Photo.display_key.in_(keys), Photo.thumb_key.in_(keys)))).all()
    db.session.rollback()  # read only
    return keys & {key for row in rows for key in row}


def register(app):
    from field.alerts.cli import register_cli as alerts_cli; alerts_cli(app)  # flask alerts-evaluate
    from field.incentives.cli import register_cli as incentives_cli; incentives_cli(app)  # flask incentives-grant
    from field.channel.cli import register_cli as channel_cli; channel_cli(app)  # flask dealers-recompute, dealers-link
    notifications_cli.register_cli(app)
    from field.workday.cli import register_cli as workday_cli; workday_cli(app)  # flask workday-close
    @app.cli.command("seed-demo")
    def seed_demo():
        """Create the demo company (idempotent: a database with users is left alone)."""
        if demo.is_seeded():
            if demo.login_rows():
                click.echo("Demo company already seeded.")
                _echo_logins()
            else:
                click.echo("The database already has users; the demo company was not seeded.")
            return
        counts = demo.seed()
        transaction.commit()
        click.echo("Seeded the demo company: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".")
        _echo_logins()

    @app.cli.command("logins")
    def logins():
        """Print the demo logins."""
        if not _echo_logins():
            click.echo("No demo users in this database; run `flask --app wsgi seed-demo`.")

    @app.cli.command("roi-refresh")
    def roi_refresh():
        """Measure the ROI figures that are missing or stale (run nightly, after the day's sales import)."""
        # Not stored: an admin sees every activity store, and the figures are the same for all readers.
        everyone = User(role=str(Role.ADMIN), login="roi-refresh", name="roi-refresh", active=True)
        measured = figures.refresh(Filters(date.min, date.max), everyone, company_today())
        transaction.commit()
        click.echo(f"Measured {measured} activity stores.")

    @app.cli.command("activities-advance")
    @click.option("--on", "day", default=None, help="The day to advance to (YYYY-MM-DD; default: today).")
    def activities_advance(day: str | None):
        """Start the approved activities whose first day has come and end those whose last day has passed."""
        today = date.fromisoformat(day) if day else company_today()
        moved = activity_ops.advance_by_dates(select(Activity), today)
        transaction.commit()
        click.echo(f"{moved} activities moved on {today.isoformat()}.")

    @app.cli.command("create-admin")
    @click.argument("login")
    @click.option("--name", default=None, help="Display name (default: the login).")
    @click.password_option(help="Asked for when not given.")
    def create_admin(login, name, password):
        """Create an administrator account (for production setups)."""
        login = login.strip()
        if not login or len(login) > 80:
            raise click.ClickException("A login is 1 to 80 characters.")
        if len(password) < MIN_PASSWORD:
            raise click.ClickException(f"The password needs at least {MIN_PASSWORD} characters.")
        if db.session.scalar(select(User.id).where(User.login == login)) is not None:
            raise click.ClickException(f"A user with login {login!r} already exists.")
        user = User(login=login, name=(name or login).strip()[:120], role=str(Role.ADMIN), active=True)
        user.set_password(password)
        db.session.add(user)
        audit.record("user.create", user, role=str(Role.ADMIN), via="cli")
        transaction.commit()
        click.echo(f"Created admin {login!r}.")

    @app.cli.command("photos-sweep")
    @click.option("--older-than-minutes", default=60, show_default=True,
                  type=click.IntRange(min=MIN_SWEEP_AGE_MINUTES),
                  help=f"Only files last written this long ago (at least {MIN_SWEEP_AGE_MINUTES}).")
    @click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
    def photos_sweep(older_than_minutes: int, dry_run: bool):
        """Remove stored photo files (originals, display copies, thumbnails) that no photo refers to,
        such as those a worker killed mid-upload left; files a photo refers to are never touched."""
        orphans = sweep_orphans(storage(), _photo_keys_in_use, timedelta(minutes=older_than_minutes),
                                dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        for f in orphans:
            click.echo(f"{verb.split()[-1].lower()} {f.key} ({f.size} bytes)")
        click.echo(f"{verb} {len(orphans)} orphan files, {sum(f.size for f in orphans)} bytes"
                   f"{' (dry run)' if dry_run else ''}.")
