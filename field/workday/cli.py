"""`flask workday-close`: close the working days nobody ended once their local close time (WORKDAY_CLOSE_AT,
default 23:00) has passed, flagged "not ended". Run it from cron (every hour, say). One commit at the end."""
from __future__ import annotations

import click

from field import transaction
from field.workday.operations import close_open_days


def register_cli(app) -> None:
    @app.cli.command("workday-close")
    def workday_close():
        """Close the open working days whose close time has passed (flagged: not ended)."""
        closed = close_open_days()
        transaction.commit()
        click.echo(f"Closed {len(closed)} working days nobody ended.")
