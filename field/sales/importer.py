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
before import.

Never counted twice with orders (the README's "Sales, never counted twice"). A delivered order's lines are
already sales (source "order", field/orders), so an import row that is that delivery again is not imported:
- a row whose optional `order` column (订单号) names an order the importer may see, delivered or partly
  delivered, is skipped ("already counted from order N, delivered on D"); one still submitted or confirmed
  is skipped too (its delivery will count it); a cancelled order's row is imported. An order the importer
  may not see, or of another store, or without the row's SKU, is an error like an unknown store;
- a row without an order whose store, day, product and quantity are exactly those of delivered order lines
  (the day's delivered units of that product at that store) is skipped as a likely double. `none` (无) in
  its order column says it is another sale: it is then imported.
Skipped rows are listed in the result with their reasons; the other rows go in. When a skipped row's key
was imported before (a file loaded before the order was delivered), that sale is set to 0: the order's
delivery counts it now. Errors still refuse the whole file. The orders domain answers through providers
(orders_named_in_import, order_deliveries_like), within the importer's scope, so a message never names an
order the importer could not open."""
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
HEADERS = ("store_code", "date", "sku", "quantity", "amount", "order")
NO_ORDER = 0  # `none` in the order column: not an order's delivery, import it even if it looks like one
NO_ORDER_WORDS = ("none", "无", "-")
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


def parse_order(value: str) -> int:
    """An order number as field shows it (1234, #1234), or `none` / 无: this row is no order's delivery."""
    text = value.strip().lstrip("#").strip()
    if text.lower() in NO_ORDER_WORDS:
        return NO_ORDER
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise ValueError(_("not an order number (write it as field shows it, like 1234, or none): %(value)s",
                           value=value))
    return int(text)


def columns() -> list[Column]:
    return [
        Column("store_code", tabular.text(40), required=True, aliases=("store", "code", "门店编码", "门店代码")),
        Column("date", parse_date, required=True, aliases=("day", "sold_on", "日期", "销售日期")),
        Column("sku", tabular.text(60), required=True, aliases=("product", "产品编码", "商品编码", "SKU编码")),
        Column("quantity", tabular.integer(0, MAX_QUANTITY), required=True, aliases=("qty", "数量", "销量")),
        Column("amount", tabular.amount, required=True, aliases=("amount_yuan", "金额", "销售额")),
        Column("order", parse_order, aliases=("order_no", "order_id", "订单号", "订单编号")),
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


def double_of(value: dict, named: dict | None, delivered: dict | None) -> str | None:
    """The rule: why this row (a resolved sale, `order` its order column) would count an order's delivery twice,
    or None. `named`: the order its order column names, as orders_named_in_import gives it; `delivered`: what
    delivered orders counted at its store, day and product (order_deliveries_like)."""
    order = value.get("order")
    if order:
        if named is None or not (named["counted"] or named["pending"]):
            return None  # a cancelled order: its sales come from nowhere else
        if named["counted"]:
            return _("already counted from order %(order)s, delivered on %(day)s: not imported",
                     order=order, day=named["delivered_on"].isoformat())
        return _("order %(order)s is %(status)s: its sales are counted when the dealer marks it delivered; "
                 "not imported", order=order, status=named["status_text"])
    if order is None and delivered and delivered["quantity"] == value["quantity"]:
        return _("the same store, day, product and quantity as the delivery of order %(orders)s: likely the same "
                 "sale, not imported (write none in its order column if it is another sale)",
                 orders=", ".join(str(o) for o in delivered["orders"]))
    return None


def _orders_named(table: tabular.Table, stores: dict[str, int], actor: User) -> dict[int, dict]:
    """The orders the file names, as the importer may see them; a wrong one is an error of its row."""
    ids = {row.get("order") for row in table.rows if row.get("order")}
    if not ids:
        return {}
    named = providers.ask("orders_named_in_import", ids, actor, default={})
    for row in table.rows:
        order = row.get("order")
        if not order:
            continue
        found = named.get(order)
        if found is None:
            table.error(row.number, "order", _("no order %(order)s in your scope", order=order))
        elif stores.get(row["store_code"].lower()) not in (None, found["store_id"]):
            table.error(row.number, "order", _("order %(order)s is another store's", order=order))
        elif row["sku"].lower() not in found["skus"]:
            table.error(row.number, "order", _("order %(order)s has no line for SKU %(sku)s", order=order,
                                               sku=row["sku"]))
    return named


def check(table: tabular.Table, actor: User) -> list[dict]:
    """Resolve every row to the values of a sale; errors go into table.errors."""
    stores = _stores({row["store_code"].lower() for row in table.rows}, actor)
    products = _products({row["sku"].lower() for row in table.rows})
    named = _orders_named(table, stores, actor)
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
                         "quantity": row["quantity"], "amount": row["amount"], "source": SOURCE, "source_key": key,
                         "row": n, "order": row.get("order"), "named": named.get(row.get("order"))})
    return plan


def _doubles(plan: list[dict], actor: User) -> tuple[list[dict], list[tuple[dict, str]]]:
    """The rows to import, and those that are an order's delivery again with why (double_of), in plan order."""
    unnamed = {(v["store_id"], v["sold_on"], v["product_id"]) for v in plan if v["order"] is None}
    delivered = providers.ask("order_deliveries_like", unnamed, actor, default={}) if unnamed else {}
    keep, doubles = [], []
    for v in plan:
        why = double_of(v, v["named"], delivered.get((v["store_id"], v["sold_on"], v["product_id"])))
        if why is None:
            keep.append(v)
        else:
            doubles.append((v, why))
    return keep, doubles


SALE_COLUMNS = ("store_id", "sold_on", "product_id", "category", "quantity", "amount", "source", "source_key")


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
    plan, doubles = _doubles(plan, actor)
    existing = _existing([v["source_key"] for v in plan] + [v["source_key"] for v, _why in doubles])
    new = [v for v in plan if v["source_key"] not in existing]
    changed = [{"id": existing[v["source_key"]][0], "quantity": v["quantity"], "amount": v["amount"],
                "product_id": v["product_id"], "category": v["category"]}
               for v in plan if v["source_key"] in existing
               and existing[v["source_key"]][1:] != (v["quantity"], v["amount"])]
    zeroed, skipped = [], []
    for v, why in doubles:
        earlier = existing.get(v["source_key"])
        if earlier is not None and earlier[1:] != (0, 0):
            # Imported before the order was delivered: the delivery counts it now, so the import's own part is 0.
            zeroed.append({"id": earlier[0], "quantity": 0, "amount": 0, "product_id": v["product_id"],
                           "category": v["category"]})
            why = why + " " + _("The sale an earlier import made for this store, day and SKU is set to 0.")
        skipped.append(tabular.RowError(v["row"], "", why))
    result = ImportResult(rows=len(plan), created=len(new), updated=len(changed) + len(zeroed),
                          unchanged=len(plan) - len(new) - len(changed),
                          skipped=sorted(skipped, key=lambda e: e.row))
    changed += zeroed
    created_at = now()
    try:
        with db.session.begin_nested():
            if new:
                db.session.execute(insert(Sale), [{**{c: v[c] for c in SALE_COLUMNS}, "created_at": created_at}
                                                  for v in new])
            if changed:
                db.session.execute(update(Sale), changed)
    except IntegrityError:  # another import added one of these keys meanwhile
        raise Conflict(_("Another import added some of these sales in the meantime. Nothing was imported; "
                         "import the file again.")) from None
    days = [v["sold_on"] for v in plan] or [v["sold_on"] for v, _why in doubles]
    audit.record("sales.import", None, actor=actor, filename=filename, rows=result.rows, created=result.created,
                 updated=result.updated, unchanged=result.unchanged, skipped=len(result.skipped),
                 first_day=min(days), last_day=max(days))
    return result


def template() -> bytes:
    """An empty sheet with the columns, and one example row."""
    return tabular.write_csv(HEADERS, [["S00001", "2026-03-02", "SKU0001", 12, "42.00", ""]])
