"""Products from a spreadsheet, and back: one CSV/XLSX layout for import and export, keyed by SKU.

All or nothing, like the store import: any bad row imports nothing. Prices are yuan
with at most two decimals in the file and minor units (fen) in the database."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from field import audit, tabular
from field.auth.models import User
from field.core import money_decimal
from field.extensions import db
from field.products import operations as ops
from field.products.models import Product
from field.tabular import Column, ImportResult

HEADERS = ("sku", "name", "category", "unit_price", "margin_pct", "active")
MAX_MARGIN = 100


def columns() -> list[Column]:
    return [
        Column("sku", tabular.text(60), required=True, aliases=("商品编码", "编码", "SKU code")),
        Column("name", tabular.text(200), required=True, aliases=("商品名称", "名称", "product name")),
        Column("category", tabular.text(100), default="", aliases=("品类", "类别")),
        Column("unit_price", tabular.amount, default=0, aliases=("price", "单价")),
        Column("margin_pct", tabular.decimal(2, 0, MAX_MARGIN), default=tabular.decimal(2)("0"),
               aliases=("margin", "毛利率")),
        Column("active", tabular.boolean, default=True, aliases=("启用",)),
    ]


def _existing(skus: list[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    keys = sorted({s.lower() for s in skus})
    for i in range(0, len(keys), 1000):
        for product in db.session.execute(select(Product).where(func.lower(Product.sku).in_(keys[i:i + 1000]))
                                          ).scalars():
            found[product.sku.lower()] = product
    return found


def import_products(data: bytes, filename: str, actor: User) -> ImportResult:
    """Check the whole file, then stage every product's creation or change (or nothing)."""
    table = tabular.read(data, columns(), filename)
    first_row: dict[str, int] = {}
    for row in table.rows if table.columns else []:
        key = row["sku"].lower()
        if key in first_row:
            table.error(row.number, "sku", _("%(sku)s is also in row %(row)s", sku=row["sku"], row=first_row[key]))
        else:
            first_row[key] = row.number
    refused = tabular.checked(table)
    if refused is not None:
        return refused

    def write() -> ImportResult:
        existing = _existing([row["sku"] for row in table.rows])
        result = ImportResult(rows=len(table.rows))
        for row in table.rows:
            product = existing.get(row["sku"].lower())
            if product is None:
                product = Product(category="", unit_price=0, margin_pct=tabular.decimal(2)("0"), active=True)
                ops.apply(product, row.values)
                db.session.add(product)
                result.created += 1
            elif ops.apply(product, row.values):
                result.updated += 1
            else:
                result.unchanged += 1
        audit.record("products.import", None, actor=actor, filename=filename, rows=result.rows,
                     created=result.created, updated=result.updated, unchanged=result.unchanged)
        return result

    return tabular.stage_import(
        write, _("Someone changed these products in the meantime. Nothing was imported; try again."))


def export(fmt: str) -> bytes:
    products = db.session.execute(ops.catalogue().order_by(Product.sku)).scalars()
    rows = [[p.sku, p.name, p.category or "", money_decimal(p.unit_price or 0), p.margin_pct, bool(p.active)]
            for p in products]
    return tabular.write(fmt, HEADERS, rows, sheet_title="products")
