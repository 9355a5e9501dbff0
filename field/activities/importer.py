"""An activity's stores and their budgets from a spreadsheet (CSV or XLSX).

All or nothing: every row is checked first — the store code must name an active store in
the applicant's scope, the budget must be an amount above zero, no store twice — and any
error imports nothing, each one reported with its row and column. A store already in the
draft gets the file's budget; stores the file does not name stay as they are."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func

from field import scope, tabular
from field.activities import operations as ops
from field.activities.models import Activity
from field.auth.models import User
from field.core import DomainError
from field.extensions import db
from field.stores.models import Store
from field.tabular import Column, ImportResult, RowError

HEADERS = ("store_code", "budget")


def columns() -> list[Column]:
    return [
        Column("store_code", tabular.text(40), required=True,
               aliases=("code", "store", "门店编码", "门店代码", "编码")),
        Column("budget", tabular.amount, required=True, aliases=("budget_yuan", "预算", "预算金额", "金额")),
    ]


def _stores(codes: list[str], actor: User) -> dict[str, Store]:
    """Active stores in the actor's scope with these codes, keyed by lower-case code."""
    found: dict[str, Store] = {}
    keys = sorted({c.lower() for c in codes})
    for i in range(0, len(keys), 1000):
        for store in db.session.execute(ops.pickable_stores(actor)
                                        .where(func.lower(Store.code).in_(keys[i:i + 1000]))).scalars():
            found[store.code.lower()] = store
    return found


def _inactive(codes: list[str], actor: User) -> set[str]:
    keys = sorted({c.lower() for c in codes})
    out: set[str] = set()
    for i in range(0, len(keys), 1000):
        out.update(c.lower() for c in db.session.execute(
            scope.stores(actor).where(Store.active.is_(False), func.lower(Store.code).in_(keys[i:i + 1000]))
            .with_only_columns(Store.code)).scalars())
    return out


def check(table: tabular.Table, actor: User) -> dict[Store, int]:
    """Resolve every row to (store, budget); errors go into table.errors."""
    codes = [row["store_code"] for row in table.rows]
    stores = _stores(codes, actor)
    inactive = _inactive(codes, actor)
    plan: dict[Store, int] = {}
    first_row: dict[str, int] = {}
    for row in table.rows:
        n, code, budget = row.number, row["store_code"], row["budget"]
        key = code.lower()
        if key in first_row:
            table.error(n, "store_code", _("%(code)s is also in row %(row)s", code=code, row=first_row[key]))
            continue
        first_row[key] = n
        store = stores.get(key)
        if store is None:
            table.error(n, "store_code", _("store %(code)s is inactive", code=code) if key in inactive
                        else _("no store with code %(code)s in your scope", code=code))
        try:
            ops.check_budget(budget)
        except DomainError as exc:
            table.error(n, "budget", exc.message)
            continue
        if store is not None:
            plan[store] = budget
    return plan


def import_budgets(activity: Activity, data: bytes, filename: str, actor: User) -> ImportResult:
    """Check the whole file, then add or update every store's budget in one transaction (or nothing)."""
    ops.require_editable(activity, actor)
    table = tabular.read(data, columns(), filename, max_rows=ops.MAX_STORES)
    if not table.columns:
        return ImportResult(errors=table.errors)
    plan = check(table, actor)
    if table.errors:
        return ImportResult(errors=sorted(table.errors, key=lambda e: (e.row <= 0, e.row)))
    if not plan:
        return ImportResult(errors=[RowError(0, "", _("The file has no rows."))])
    added, changed = ops.set_store_budgets(activity, plan, actor, "activity.import", filename=filename)
    return ImportResult(rows=len(plan), created=added, updated=changed, unchanged=len(plan) - added - changed)
