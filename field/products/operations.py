"""Everything that lists or changes the product catalogue: search, create, edit, (de)activate.

The catalogue is company-wide (every signed-in user reads it; it is not scoped by
region). Each change stages itself with its audit line, or raises a DomainError having staged
nothing; the request commits."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select

from field import audit
from field.auth.models import User
from field.auth.operations import unique
from field.core import FieldError, like_pattern
from field.extensions import db
from field.products.models import Product
from field.web import Page, paginate

FIELDS = ("sku", "name", "category", "unit_price", "margin_pct", "active")


def catalogue():
    """Every product: the catalogue is shared by all roles, so there is no scope to apply."""
    return select(Product)


def list_products(q: str = "", page: int = 1, per_page: int = 50) -> Page:
    """One page of products matching a text (SKU, name, category): active first, then by name."""
    stmt = catalogue()
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(or_(Product.sku.ilike(pattern, escape="\\"), Product.name.ilike(pattern, escape="\\"),
                              Product.category.ilike(pattern, escape="\\")))
    return paginate(stmt.order_by(case((Product.active.is_(True), 0), else_=1), Product.name, Product.id),
                    page, per_page)


def apply(product: Product, values: dict) -> dict[str, list]:
    """Set the given fields; returns {field: [old, new]} of what changed."""
    changes: dict[str, list] = {}
    for key in FIELDS:
        if key not in values:
            continue
        old, new = getattr(product, key), values[key]
        if old == new:
            continue
        changes[key] = [old, new]
        setattr(product, key, new)
    return changes


def sku_taken(sku: str, product: Product | None = None) -> bool:
    stmt = select(Product.id).where(func.lower(Product.sku) == sku.lower())
    if product is not None and product.id is not None:
        stmt = stmt.where(Product.id != product.id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _taken() -> str:
    return _("A product with this SKU already exists.")


def create_product(values: dict, actor: User) -> Product:
    if sku_taken(values["sku"]):
        raise FieldError("sku", _taken())
    with unique("sku", _taken()):
        product = Product(active=True)
        apply(product, values)
        db.session.add(product)
        db.session.flush()
        audit.record("product.create", product, actor=actor, sku=product.sku, name=product.name)
    return product


def update_product(product: Product, values: dict, actor: User) -> dict:
    if "sku" in values and values["sku"] != product.sku and sku_taken(values["sku"], product):
        raise FieldError("sku", _taken())
    with unique("sku", _taken()):
        changes = apply(product, values)
        if changes:
            audit.record("product.update", product, actor=actor, changes=changes)
    return changes


def set_active(product: Product, active: bool, actor: User) -> bool:
    """Deactivate (or reactivate) a product: it leaves order forms; past orders keep it."""
    return audit.set_active(product, active, "product", actor, sku=product.sku)
