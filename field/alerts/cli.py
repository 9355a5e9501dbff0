"""`flask alerts-evaluate`: the scheduled evaluation (cron every 15 minutes, or a worker's timer).

Operator tooling like field/cli.py: English output, and one commit at the end (one unit of work)."""
from __future__ import annotations

from datetime import date

import click
from sqlalchemy import select

from field import transaction
from field.alerts.evaluate import evaluate_all
from field.auth.models import Region
from field.extensions import db


def register_cli(app) -> None:
    @app.cli.command("alerts-evaluate")
    @click.option("--region", "code", default=None, help="Region code: evaluate the areas under it (default: all).")
    @click.option("--day", default=None, help="YYYY-MM-DD on the company calendar (default: today).")
    def alerts_evaluate(code, day):
        """Evaluate the alert rules: open alerts for new findings, clear those whose condition is gone."""
        under = None
        if code:
            under = db.session.execute(select(Region).where(Region.code == code)).scalar_one_or_none()
            if under is None:
                raise click.BadParameter(f"no region with code {code!r}", param_hint="--region")
        when = None
        if day:
            try:
                when = date.fromisoformat(day)
            except ValueError:
                raise click.BadParameter(f"{day!r} is not a date (YYYY-MM-DD)", param_hint="--day") from None
        outcomes = evaluate_all(under, when)
        transaction.commit()
        opened = sum(len(o.opened) for o in outcomes.values())
        cleared = sum(len(o.cleared) for o in outcomes.values())
        standing = sum(o.standing for o in outcomes.values())
        click.echo(f"Evaluated {len(outcomes)} regions: {opened} alerts opened, {cleared} cleared, "
                   f"{standing} still standing.")
