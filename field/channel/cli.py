"""`flask dealers-recompute` (monthly, e.g. cron on the 1st) and `flask dealers-link` (once, after the
dealers are imported). Operator tooling: English output, one commit at the end."""
from __future__ import annotations

from datetime import date

import click

from field import audit, transaction
from field.channel import operations as ops
from field.channel.tiers import add_months
from field.core import company_today
from field.stores import dealer_links


def register_cli(app) -> None:
    @app.cli.command("dealers-recompute")
    @click.option("--month", default=None, help="YYYY-MM (default: last month).")
    def dealers_recompute(month):
        """Keep each dealer's figures for the month and propose tier changes for managers to confirm."""
        if month:
            try:
                when = date.fromisoformat(month + "-01")
            except ValueError:
                raise click.BadParameter(f"{month!r} is not a month (YYYY-MM)", param_hint="--month") from None
        else:
            when = add_months(company_today().replace(day=1), -1)
        result = ops.recompute(when, actor=audit.SYSTEM)
        transaction.commit()
        click.echo(f"{when:%Y-%m}: {result['dealers']} dealers recomputed, {result['proposals']} new proposals.")

    @app.cli.command("dealers-link")
    def dealers_link():
        """Link stores whose free-text dealer names exactly one dealer record (by code or name)."""
        result = dealer_links.link_by_name(actor=audit.SYSTEM)
        transaction.commit()
        click.echo(f"{result['linked']} stores linked, {result['ambiguous']} ambiguous, "
                   f"{result['unknown']} with no matching dealer.")
