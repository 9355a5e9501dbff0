"""The sales import page (managers and admins): upload a CSV or Excel file of store, date, SKU,
quantity and amount; every error comes back with its row and column, and nothing is imported
from a file with any."""
from __future__ import annotations

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from field.auth.models import Role
from field.sales import bp, importer
from field.stores.forms import ImportForm
from field.tabular import CSV_MIMETYPE
from field.web import import_page

IMPORTERS = (Role.ADMIN, Role.MANAGER)


def _require_importer() -> None:
    if current_user.role not in IMPORTERS:
        abort(403)


@bp.route("/sales/import", methods=["GET", "POST"])
@login_required
def import_():
    _require_importer()
    return import_page(
        ImportForm(), lambda data, name: importer.import_sales(data, name, current_user._get_current_object()),
        lambda result: (_("Sales imported: %(created)s new, %(updated)s replaced, %(unchanged)s already there.",
                          created=result.created, updated=result.updated, unchanged=result.unchanged),
                        url_for("sales.import_")),
        "sales/import.html", max_rows=importer.MAX_ROWS)


@bp.route("/sales/template.csv")
@login_required
def template():
    _require_importer()
    return importer.template(), 200, {"Content-Type": CSV_MIMETYPE,
                                      "Content-Disposition": 'attachment; filename="sales-template.csv"'}
