"""Targets from a spreadsheet (CSV or XLSX), and back: month, region, rep, store, amount.

Which columns a row fills says what it sets: region alone → the region's target for the month; region and
rep → that rep's part of it; region and store (the rep may be given too, and must then be the store's
owner) → the store's part of its rep's. A part's parent must be in the file or already stored.

All or nothing: every row is checked first — a month, a region/rep/store in the importer's scope and in
the region, an amount in yuan (at most two decimals, not negative), no subject twice a month — then the
rows are staged, and every split must still add up to at most its parent; any error imports nothing.
Rows are keyed by (month, level, subject), so importing the same file twice, or an export, changes nothing
the second time. The export's name, actual and completion columns are read back and ignored."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from field import audit, permissions, scope, tabular
from field.auth.models import Region, User, user_regions
from field.core import format_money, money_decimal, now
from field.extensions import db
from field.stores.models import Store
from field.tabular import Column, ImportResult
from field.targets import queries
from field.targets.models import Target
from field.targets.operations import MAX_TARGET

HEADERS = ("month", "region", "rep", "store", "name", "amount", "actual", "completion")
MAX_ROWS = 20_000
CHUNK = 1000


def _month(value: str) -> date:
    try:
        return queries.parse_month(value)
    except queries.MonthError as exc:
        raise ValueError(str(exc)) from None


def _amount(value: str) -> int:
    amount = tabular.amount(value)
    if amount > MAX_TARGET:
        raise ValueError(_("That target is too large."))
    return amount


def columns() -> list[Column]:
    return [
        Column("month", _month, required=True, aliases=("月份", "月")),
        Column("region", tabular.text(40), required=True, aliases=("region_code", "区域", "区域编码")),
        Column("rep", lambda v: v.strip().lower(), aliases=("rep_login", "业务员", "业务员账号")),
        Column("store", tabular.text(40), aliases=("store_code", "门店", "门店编码")),
        Column("name", aliases=("名称",)),
        Column("amount", _amount, required=True, aliases=("target", "指标", "目标", "指标金额")),
        Column("actual", aliases=("实际", "实际销售")),
        Column("completion", aliases=("完成率",)),
    ]


def _chunks(items: list):
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _regions(actor: User, codes: set[str]) -> dict[str, Region]:
    found: dict[str, Region] = {}
    for chunk in _chunks(sorted(codes)):
        for region in db.session.execute(scope.regions(actor).where(func.lower(Region.code).in_(chunk))).scalars():
            found[region.code.lower()] = region
    return found


def _reps(actor: User, logins: set[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in _chunks(sorted(logins)):
        for user in db.session.execute(scope.reps(actor).where(func.lower(User.login).in_(chunk))).scalars():
            found[user.login.lower()] = user
    return found


def _stores(actor: User, codes: set[str]) -> dict[str, Store]:
    found: dict[str, Store] = {}
    for chunk in _chunks(sorted(codes)):
        for store in db.session.execute(scope.stores(actor).where(func.lower(Store.code).in_(chunk))
                                        .options(selectinload(Store.owner_rep))).scalars():
            found[store.code.lower()] = store
    return found


def _works_in(rep: User, region: Region) -> bool:
    ids = queries.subtree(region)
    member = db.session.execute(select(user_regions.c.user_id).where(
        user_regions.c.user_id == rep.id, user_regions.c.region_id.in_(ids)).limit(1)).first()
    return member is not None or db.session.execute(select(Store.id).where(
        Store.owner_rep_id == rep.id, Store.region_id.in_(ids)).limit(1)).first() is not None


def _in_region(store: Store, region: Region) -> bool:
    return store.region is not None and store.region.path.startswith(region.path)


def check(table: tabular.Table, actor: User) -> list[dict]:
    """Resolve each row to {number, month, level, subject, region, rep, store, amount}; errors into table."""
    regions = _regions(actor, {r["region"].lower() for r in table.rows})
    reps = _reps(actor, {r["rep"] for r in table.rows if r.get("rep")})
    stores = _stores(actor, {r["store"].lower() for r in table.rows if r.get("store")})
    plan, seen = [], {}
    for row in table.rows:
        n = row.number
        region = regions.get(row["region"].lower())
        if region is None:
            table.error(n, "region", _("no region with code %(code)s in your scope", code=row["region"]))
            continue
        rep = store = None
        if row.get("store"):
            store = stores.get(row["store"].lower())
            if store is None:
                table.error(n, "store", _("no store with code %(code)s in your scope", code=row["store"]))
                continue
            if not _in_region(store, region):
                table.error(n, "store", _("store %(code)s is not in region %(region)s", code=store.code,
                                          region=region.code))
                continue
            rep = store.owner_rep
            if rep is None:
                table.error(n, "store", _("store %(code)s has no rep: its target is split from its rep's",
                                          code=store.code))
                continue
            if row.get("rep") and row["rep"] != rep.login.lower():
                table.error(n, "rep", _("store %(code)s belongs to %(login)s, not %(other)s", code=store.code,
                                        login=rep.login, other=row["rep"]))
                continue
        elif row.get("rep"):
            rep = reps.get(row["rep"])
            if rep is None:
                table.error(n, "rep", _("no rep with login %(login)s in your scope", login=row["rep"]))
                continue
            if not _works_in(rep, region):
                table.error(n, "rep", _("%(login)s does not work in region %(region)s", login=rep.login,
                                        region=region.code))
                continue
        level = "store" if store else "rep" if rep else "region"
        subject = (store or rep or region).id
        key = (row["month"], level, subject)
        if key in seen:
            table.error(n, "amount", _("the same target is also in row %(row)s", row=seen[key]))
            continue
        seen[key] = n
        plan.append({"number": n, "month": row["month"], "level": level, "subject": subject, "region": region,
                     "rep": rep, "store": store, "amount": row["amount"]})
    return plan


def _stored(month: date, level: str, subject: int) -> Target | None:
    return db.session.execute(select(Target).where(Target.month == month, Target.level == level,
                                                   Target.subject_id == subject)).scalar_one_or_none()


def import_targets(data: bytes, filename: str, actor: User) -> ImportResult:
    permissions.require(permissions.may_set_targets(actor))
    table = tabular.read(data, columns(), filename, max_rows=MAX_ROWS)
    if not table.columns:
        return ImportResult(errors=table.errors)
    plan = check(table, actor)
    done = tabular.checked(table)
    if done is not None:
        return done
    order = {"region": 0, "rep": 1, "store": 2}
    plan.sort(key=lambda p: (order[p["level"]], p["number"]))

    def write() -> ImportResult:
        result = ImportResult(rows=len(plan))
        touched: dict[int, int] = {}  # parent row id → the file's row that names it (or a part of it)
        for p in plan:
            n, month = p["number"], p["month"]
            parent = None
            if p["level"] == "rep":
                parent = _stored(month, "region", p["region"].id)
                missing = _("region %(region)s has no target for %(month)s: add its row first",
                            region=p["region"].code, month=queries.month_key(month))
            elif p["level"] == "store":
                parent = _stored(month, "rep", p["rep"].id)
                missing = _("%(login)s has no target for %(month)s: add their row first", login=p["rep"].login,
                            month=queries.month_key(month))
            if p["level"] != "region" and parent is None:
                result.errors.append(tabular.RowError(n, "amount", missing))
                continue
            if parent is not None and parent.region_id != p["region"].id:
                result.errors.append(tabular.RowError(n, "region", _(
                    "this target is split from region %(region)s's target", region=parent.region.code)))
                continue
            row = _stored(month, p["level"], p["subject"])
            if row is not None and parent is not None and row.parent_id != parent.id:
                result.errors.append(tabular.RowError(n, "region", _("already split from another target")))
                continue
            if row is None:
                row = Target(month=month, level=p["level"], subject_id=p["subject"], region_id=p["region"].id,
                             rep_id=p["rep"].id if p["rep"] else None,
                             store_id=p["store"].id if p["store"] else None,
                             parent_id=parent.id if parent else None, amount=p["amount"], basis="import",
                             updated_at=now(), updated_by_id=actor.id)
                db.session.add(row)
                db.session.flush()
                result.created += 1
            elif row.amount != p["amount"]:
                row.amount, row.basis, row.updated_at, row.updated_by_id = p["amount"], "import", now(), actor.id
                result.updated += 1
            else:
                result.unchanged += 1
            touched.setdefault(row.id, n)
            if parent is not None:
                touched.setdefault(parent.id, n)
        db.session.flush()
        for target_id, n in touched.items():
            target = db.session.get(Target, target_id)
            parts = queries.allocated(target)
            if parts > target.amount:
                result.errors.append(tabular.RowError(n, "amount", _(
                    "the parts of %(name)s's target for %(month)s add up to %(parts)s, more than its %(target)s",
                    name=queries.label(target), month=queries.month_key(target.month), parts=format_money(parts),
                    target=format_money(target.amount))))
        result.errors.sort(key=lambda e: e.row)
        if result.ok:
            audit.record("targets.import", None, actor=actor, filename=filename, rows=result.rows,
                         created=result.created, updated=result.updated, unchanged=result.unchanged,
                         months=sorted({queries.month_key(p["month"]) for p in plan}))
        return result

    return tabular.stage_import(write, _("Someone changed these targets at the same moment. Nothing was imported; "
                                         "import the file again."))


def export(actor: User, month: date, fmt: str) -> bytes:
    """The month's targets the actor sees, every level, in the import's columns (with name, actual and
    completion): region rows first, each followed by its reps, each rep by their stores."""
    rows = list(db.session.execute(queries.visible(actor).where(Target.month == month)
                                   .options(selectinload(Target.region), selectinload(Target.rep),
                                            selectinload(Target.store))).scalars())
    sums = queries.actuals(rows)
    by_parent: dict[int | None, list[Target]] = {}
    ids = {r.id for r in rows}
    for r in rows:
        by_parent.setdefault(r.parent_id if r.parent_id in ids else None, []).append(r)
    out: list[list] = []

    def walk(parent_id):
        for r in sorted(by_parent.get(parent_id, []), key=lambda r: (r.level != "region", r.region.path,
                                                                     queries.label(r))):
            done = queries.pct(sums.get(r.id, 0), r.amount)
            out.append([queries.month_key(r.month), r.region.code, r.rep.login if r.rep else "",
                        r.store.code if r.store else "", queries.label(r), money_decimal(r.amount),
                        money_decimal(sums.get(r.id, 0)), f"{done}%" if done is not None else ""])
            walk(r.id)
    walk(None)
    return tabular.write(fmt, HEADERS, out, sheet_title=f"targets {queries.month_key(month)}")


def template() -> bytes:
    return tabular.write_csv(HEADERS[:4] + ("amount",), [["2026-03", "EAST", "", "", "500000.00"],
                                                          ["2026-03", "EAST", "rep1", "", "120000.00"],
                                                          ["2026-03", "EAST", "rep1", "S00001", "8000.00"]])
