"""`flask incentives-grant`: run the points rules over every rep (daily, after the day's work; a task set or
widened afterwards pays what was already done). Idempotent: what was granted is not granted again.

Operator tooling like field/cli.py: English output, and one commit at the end (one unit of work)."""
from __future__ import annotations

from datetime import date

import click

from field import transaction
from field.incentives import rules


def register_cli(app) -> None:
    @app.cli.command("incentives-grant")
    @click.option("--day", default=None, help="YYYY-MM-DD on the company calendar (default: today).")
    def incentives_grant(day):
        """Grant the points of verified outcomes not granted yet; reverse those no longer verified."""
        when = None
        if day:
            try:
                when = date.fromisoformat(day)
            except ValueError:
                raise click.BadParameter(f"{day!r} is not a date (YYYY-MM-DD)", param_hint="--day") from None
        result = rules.evaluate_all(today=when)
        transaction.commit()
        click.echo(f"Points: {result.granted} granted, {result.reversed} reversed.")
