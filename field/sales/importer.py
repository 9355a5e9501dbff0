"""Sales from a spreadsheet (CSV or XLSX): store code, date, SKU, quantity, amount.

All or nothing: every row is checked first — a store in the importer's scope, a known SKU, a
date not in the future, a whole quantity, an amount in yuan with at most two decimals, no key
twice in the file — and any error imports nothing, each one reported with its row and column.

The natural key of an imported sale is (store, date, SKU): one line per product per store per
day. It is stored as the sale's source_key ("import" source, unique with it), and a row whose
key is already stored REPLACES that sale's quantity and amount. So importing the same file
twice changes nothing the second time, and an overlapping file (last week's export and this
week's, say) counts every store-day-SKU once, with the newest file's figures. A file therefore
gives each store, day and SKU's total: two receipts of the same SKU on one day are added up
before import. Orders taken on visits are their own sales (source "visit") and are not matched
by an import: import only what did not come in through field."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from field import audit, providers, scope, tabular
from field.auth.models import User
from field.core import Conflict, company_today, now
from field.extensions import db
from field.products.models import Product
from field.sales.models import Sale
from field.stores.models import Store
from field.tabular import Column, ImportResult

SOURCE = "import"
HEADERS = ("store_code", "date", "sku", "quantity", "amount")
MAX_ROWS = 100_000
MAX_BYTES = 20 * 1024 * 1024
MAX_QUANTITY = 10_000_000
EARLIEST = date(2000, 1, 1)
CHUNK = 1000
DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]00:00(?::00)?)?$")


def parse_date(value: str) -> date:
    """2026-03-02, 2026/3/2, 2026.03.02, 2026年3月2日; Excel's dates arrive as '2026-03-02 00:00:00'."""
    match = DATE.match(value.strip())
    if not match:
        raise ValueError(_("not a date (write it as 2026-03-02): %(value)s", value=value))
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(_("not a date (write it as 2026-03-02): %(value)s", value=value)) from None


def columns() -> list[Column]:
    return [
        Column("store_code", tabular.text(40), required=True, aliases=("store", "code", "门店编码", "门店代码")),
        Column("date", parse_date, required=True, aliases=("day", "sold_on", "日期", "销售日期")),
        Column("sku", tabular.text(60), required=True, aliases=("product", "产品编码", "商品编码", "SKU编码")),
        Column("quantity", tabular.integer(0, MAX_QUANTITY), required=True, aliases=("qty", "数量", "销量")),
        Column("amount", tabular.amount, required=True, aliases=("amount_yuan", "金额", "销售额")),
    ]


def natural_key(store_code: str, day: date, sku: str) -> str:
    return f"{store_code.lower()}|{day.isoformat()}|{sku.lower()}"


def _chunks(items: list):
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _stores(codes: set[str], actor: User) -> dict[str, int]:
    """Store ids in the importer's scope by lower-case code."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(codes)):
        found.update((code.lower(), id_) for id_, code in db.session.execute(
            scope.stores(actor).where(func.lower(Store.code).in_(chunk)).with_only_columns(Store.id, Store.code)))
    return found


def _products(skus: set[str]) -> dict[str, tuple[int, str]]:
    # The catalogue is company-wide: no scope to apply to products.
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(sorted(skus)):
        for id_, sku, category in db.session.execute(
                select(Product.id, Product.sku, Product.category).where(func.lower(Product.sku).in_(chunk))):
            found[sku.lower()] = (id_, category)
    return found


def _existing(keys: list[str]) -> dict[str, tuple[int, int, int]]:
    """Imported sales already stored under these keys: key → (id, quantity, amount)."""
    found: dict[str, tuple[int, int, int]] = {}
    for chunk in _chunks(keys):
        for id_, key, quantity, amount in db.session.execute(
                select(Sale.id, Sale.source_key, Sale.quantity, Sale.amount)
                .where(Sale.source == SOURCE, Sale.source_key.in_(chunk))):
            found[key] = (id_, quantity, amount)
    return found


def check(table: tabular.Table, actor: User) -> list[dict]:
    """Resolve every row to the values of a sale; errors go into table.errors."""
    stores = _stores({row["store_code"].lower() for row in table.rows}, actor)
    products = _products({row["sku"].lower() for row in table.rows})
    today = company_today()
    plan: list[dict] = []
    first_row: dict[str, int] = {}
    for row in table.rows:
        n, code, day, sku = row.number, row["store_code"], row["date"], row["sku"]
        ok = True
        store_id = stores.get(code.lower())
        if store_id is None:
            table.error(n, "store_code", _("no store with code %(code)s in your scope", code=code))
            ok = False
        product = products.get(sku.lower())
        if product is None:
            table.error(n, "sku", _("no product with SKU %(sku)s", sku=sku))
            ok = False
        if day > today:
            table.error(n, "date", _("%(day)s is in the future", day=day.isoformat()))
            ok = False
        elif day < EARLIEST:
            table.error(n, "date", _("%(day)s is too long ago", day=day.isoformat()))
            ok = False
        key = natural_key(code, day, sku)
        if key in first_row:
            table.error(n, "sku", _("store %(code)s, %(day)s, %(sku)s is also in row %(row)s: one row per store, "
                                    "day and SKU (add them up)", code=code, day=day.isoformat(), sku=sku,
                                    row=first_row[key]))
            continue
        first_row[key] = n
        if ok:
            plan.append({"store_id": store_id, "sold_on": day, "product_id": product[0], "category": product[1],
                         "quantity": row["quantity"], "amount": row["amount"], "source": SOURCE, "source_key": key})
    return plan


def import_sales(data: bytes, filename: str, actor: User) -> ImportResult:
    """Check the whole file, then stage new sales and the new figures of known ones (the request commits them
    together, or nothing)."""
    table = tabular.read(data, columns(), filename, max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
    if not table.columns:
        return ImportResult(errors=table.errors)
    plan = check(table, actor)
    if table.errors:
        return ImportResult(errors=sorted(table.errors, key=lambda e: (e.row <= 0, e.row)))
    # Store-group, store and day order: concurrent imports then lock the counters that the database
    # keeps per store group (ROI asks to be told its group keys) and the daily sums in the same order,
    # and never deadlock.
    groups = providers.ask("store_group_keys", {v["store_id"] for v in plan}, default={})
    plan.sort(key=lambda v: (groups.get(v["store_id"], ""), v["store_id"], v["sold_on"], v["source_key"]))
    existing = _existing([v["source_key"] for v in plan])
    new = [v for v in plan if v["source_key"] not in existing]
    changed = [{"id": existing[v["source_key"]][0], "quantity": v["quantity"], "amount": v["amount"],
                "product_id": v["product_id"], "category": v["category"]}
               for v in plan if v["source_key"] in existing
               and existing[v["source_key"]][1:] != (v["quantity"], v["amount"])]
    result = ImportResult(rows=len(plan), created=len(new), updated=len(changed),
                          unchanged=len(plan) - len(new) - len(changed))
    created_at = now()
    try:
        with db.session.begin_nested():
            if new:
                db.session.execute(insert(Sale), [{**v, "created_at": created_at} for v in new])
            if changed:
                db.session.execute(update(Sale), changed)
    except IntegrityError:  # another import added one of these keys meanwhile
        raise Conflict(_("Another import added some of these sales in the meantime. Nothing was imported; "
                         "import the file again.")) from None
    audit.record("sales.import", None, actor=actor, filename=filename, rows=result.rows, created=result.created,
                 updated=result.updated, unchanged=result.unchanged,
                 first_day=min(v["sold_on"] for v in plan), last_day=max(v["sold_on"] for v in plan))
    return result


def template() -> bytes:
    """An empty sheet with the columns, and one example row."""
    return tabular.write_csv(HEADERS, [["S00001", "2026-03-02", "SKU0001", 12, "42.00"]])
