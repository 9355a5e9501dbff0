"""The sales import page (managers and admins): upload a CSV or Excel file of store, date, SKU,
quantity and amount; every error comes back with its row and column, and nothing is imported
from a file with any."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required

from field import permissions
from field.sales import bp, importer
from field.tabular import ImportForm
from field.tabular import CSV_MIMETYPE
from field.web import import_page, me


@bp.before_request
def importers_only():
    """Both pages are the importer's (the signed-in; login_required sends the rest to sign in)."""
    if current_user.is_authenticated:
        permissions.require(permissions.may_import_sales(current_user))


@bp.route("/sales/import", methods=["GET", "POST"])
@login_required
def import_():
    return import_page(
        ImportForm(), lambda data, name: importer.import_sales(data, name, me()),
        lambda result: (_("Sales imported: %(created)s new, %(updated)s replaced, %(unchanged)s already there.",
                          created=result.created, updated=result.updated, unchanged=result.unchanged)
                        + (" " + ngettext("%(num)s row was not imported: its sales are counted from an order.",
                                          "%(num)s rows were not imported: their sales are counted from orders.",
                                          len(result.skipped)) if result.skipped else ""),
                        url_for("sales.import_")),
        "sales/import.html", max_rows=importer.MAX_ROWS)


@bp.route("/sales/template.csv")
@login_required
def template():
    return importer.template(), 200, {"Content-Type": CSV_MIMETYPE,
                                      "Content-Disposition": 'attachment; filename="sales-template.csv"'}
