"""Product pages: the catalogue for everyone signed in; create, edit, (de)activate, import and
export for admins and managers. Views read the request, call operations.py or importer.py, render."""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from field import scope
from field.auth.models import Role
from field.products import bp
from field.products import importer
from field.products import operations as ops
from field.products.forms import ProductForm
from field.products.models import Product
from field.stores.forms import ImportForm
from field.stores.operations import FieldError
from field.tabular import CSV_MIMETYPE, XLSX_MIMETYPE
from field.web import import_page, render, me as _me, page_arg as _page_arg

EDITORS = (Role.ADMIN, Role.MANAGER)



def _can_edit() -> bool:
    return current_user.role in EDITORS


def _require_editor() -> None:
    if not _can_edit():
        abort(403)


def _product(product_id: int) -> Product:
    return scope.get_or_404(ops.catalogue(), product_id)



@bp.route("/products")
@login_required
def index():
    q = request.args.get("q", "").strip()[:100]
    page = ops.list_products(q=q, page=_page_arg(), per_page=current_app.config["PAGE_SIZE"])
    return render("products/index.html", block="results", page=page, q=q, args={"q": q} if q else {},
                  can_edit=_can_edit())


@bp.route("/products/<int:product_id>")
@login_required
def detail(product_id: int):
    return render("products/product.html", product=_product(product_id), can_edit=_can_edit())


def _save(form: ProductForm, product: Product | None):
    try:
        if product is None:
            product = ops.create_product(form.values(), _me())
            flash(_("Product %(sku)s added.", sku=product.sku))
        else:
            ops.update_product(product, form.values(), _me())
            flash(_("Product %(sku)s saved.", sku=product.sku))
    except FieldError as exc:
        getattr(form, exc.field).errors.append(exc.message)
        return None
    return redirect(url_for("products.detail", product_id=product.id))


@bp.route("/products/new", methods=["GET", "POST"])
@login_required
def new():
    _require_editor()
    form = ProductForm()
    if request.method == "GET":
        form.margin_pct.data = "0"
    if form.validate_on_submit():
        done = _save(form, None)
        if done is not None:
            return done
    status = 422 if form.is_submitted() else 200
    return render("products/form.html", block="form", form=form, product=None, status=status)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@login_required
def edit(product_id: int):
    _require_editor()
    product = _product(product_id)
    form = ProductForm()
    if request.method == "GET":
        form.fill(product)
    if form.validate_on_submit():
        done = _save(form, product)
        if done is not None:
            return done
    status = 422 if form.is_submitted() else 200
    return render("products/form.html", block="form", form=form, product=product, status=status)


def _set_active(product_id: int, active: bool):
    _require_editor()
    product = _product(product_id)
    if ops.set_active(product, active, _me()):
        flash(_("Product %(sku)s reactivated.", sku=product.sku) if active
              else _("Product %(sku)s deactivated.", sku=product.sku))
    return redirect(url_for("products.detail", product_id=product.id))


@bp.route("/products/<int:product_id>/deactivate", methods=["POST"])
@login_required
def deactivate(product_id: int):
    return _set_active(product_id, False)


@bp.route("/products/<int:product_id>/activate", methods=["POST"])
@login_required
def activate(product_id: int):
    return _set_active(product_id, True)


@bp.route("/products/import", methods=["GET", "POST"])
@login_required
def import_():
    _require_editor()
    return import_page(
        ImportForm(), lambda data, name: importer.import_products(data, name, _me()),
        lambda result: (_("Import done: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.",
                          created=result.created, updated=result.updated, unchanged=result.unchanged),
                        url_for("products.index")),
        "products/import.html")


@bp.route("/products/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    _require_editor()
    body = importer.export(fmt)
    name = f"products-{date.today().isoformat()}.{fmt}"
    return body, 200, {"Content-Type": XLSX_MIMETYPE if fmt == "xlsx" else CSV_MIMETYPE,
                       "Content-Disposition": f'attachment; filename="{name}"'}
