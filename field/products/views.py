"""Product pages: the catalogue for everyone signed in; create, edit, (de)activate, import and
export for admins and managers. Views read the request, call operations.py or importer.py, render."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from field import permissions, scope, tabular
from field.products import bp
from field.products import importer
from field.products import operations as ops
from field.products.forms import ProductForm
from field.products.models import Product
from field.web import import_page, me, page_arg, render, saved_form


def _require_editor() -> None:
    permissions.require(permissions.may_edit_products(me()))


def _product(product_id: int) -> Product:
    return scope.get_or_404(ops.catalogue(), product_id)


@bp.route("/products")
@login_required
def index():
    q = request.args.get("q", "").strip()[:100]
    page = ops.list_products(q=q, page=page_arg(), per_page=current_app.config["PAGE_SIZE"])
    return render("products/index.html", block="results", page=page, q=q, args={"q": q} if q else {})


@bp.route("/products/<int:product_id>")
@login_required
def detail(product_id: int):
    return render("products/product.html", product=_product(product_id))


def _save(form: ProductForm, product: Product | None) -> Product:
    if product is None:
        return ops.create_product(form.values(), me())
    ops.update_product(product, form.values(), me())
    return product


def _form_page(form: ProductForm, product: Product | None):
    """The product form: a valid one is saved (or its refused field marked), anything else answered again."""
    return saved_form(form, lambda: _save(form, product),
                      lambda saved: _("Product %(sku)s saved.", sku=saved.sku) if product
                      else _("Product %(sku)s added.", sku=saved.sku),
                      lambda saved: url_for("products.detail", product_id=saved.id)) or \
        render("products/form.html", block="form", form=form, product=product,
               status=422 if form.is_submitted() else 200)


@bp.route("/products/new", methods=["GET", "POST"])
@login_required
def new():
    _require_editor()
    form = ProductForm()
    if request.method == "GET":
        form.margin_pct.data = "0"
    return _form_page(form, None)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@login_required
def edit(product_id: int):
    _require_editor()
    product = _product(product_id)
    form = ProductForm()
    if request.method == "GET":
        form.fill(product)
    return _form_page(form, product)


@bp.route("/products/<int:product_id>/<any(activate, deactivate):action>", methods=["POST"])
@login_required
def set_active(product_id: int, action: str):
    _require_editor()
    product = _product(product_id)
    active = action == "activate"
    if ops.set_active(product, active, me()):
        flash(_("Product %(sku)s reactivated.", sku=product.sku) if active
              else _("Product %(sku)s deactivated.", sku=product.sku))
    return redirect(url_for("products.detail", product_id=product.id))


@bp.route("/products/import", methods=["GET", "POST"])
@login_required
def import_():
    _require_editor()
    return import_page(tabular.ImportForm(), lambda data, name: importer.import_products(data, name, me()),
                       lambda result: (tabular.import_done(result), url_for("products.index")),
                       "products/import.html")


@bp.route("/products/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    _require_editor()
    return tabular.download(importer.export(fmt), fmt, "products")
