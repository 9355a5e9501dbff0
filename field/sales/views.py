"""The sales import page (managers and admins): upload a CSV or Excel file of store, date, SKU,
quantity and amount; every error comes back with its row and column, and nothing is imported
from a file with any."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from field.auth.models import Role
from field.sales import bp, importer
from field.stores.forms import ImportForm
from field.tabular import CSV_MIMETYPE
from field.web import render

IMPORTERS = (Role.ADMIN, Role.MANAGER)
MAX_ERRORS_SHOWN = 500


def _require_importer() -> None:
    if current_user.role not in IMPORTERS:
        abort(403)


@bp.route("/sales/import", methods=["GET", "POST"])
@login_required
def import_():
    _require_importer()
    form = ImportForm()
    errors, status = [], 200
    if form.validate_on_submit():
        upload = form.file.data
        result = importer.import_sales(upload.read(), upload.filename or "", current_user._get_current_object())
        if result.ok:
            flash(_("Sales imported: %(created)s new, %(updated)s replaced, %(unchanged)s already there.",
                    created=result.created, updated=result.updated, unchanged=result.unchanged))
            return redirect(url_for("sales.import_"))
        errors, status = result.errors, 422
    elif form.is_submitted():
        status = 422
    return render("sales/import.html", form=form, errors=errors[:MAX_ERRORS_SHOWN],
                  more_errors=max(0, len(errors) - MAX_ERRORS_SHOWN), max_rows=importer.MAX_ROWS, status=status)


@bp.route("/sales/template.csv")
@login_required
def template():
    _require_importer()
    return importer.template(), 200, {"Content-Type": CSV_MIMETYPE,
                                      "Content-Disposition": 'attachment; filename="sales-template.csv"'}
