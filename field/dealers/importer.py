"""Dealers from a spreadsheet, and back: one CSV/XLSX layout for import and export (as stores do).

All or nothing: every row is checked first (cells, duplicate codes, regions in the importer's scope,
dealers the importer may change) and any error imports nothing. Rows are keyed by code, so an export
imported again changes nothing."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from field import audit, scope, tabular
from field.auth.models import Region, User
from field.dealers import operations as ops
from field.dealers.models import Dealer
from field.extensions import db
from field.tabular import Column, ImportResult

HEADERS = ("code", "name", "contact_name", "phone", "address", "region", "tier", "active")


def columns() -> list[Column]:
    return [
        Column("code", tabular.text(40), required=True, aliases=("经销商编码", "编码", "dealer code")),
        Column("name", tabular.text(200), required=True, aliases=("经销商名称", "名称", "dealer name")),
        Column("contact_name", tabular.text(120), default="", aliases=("contact", "联系人")),
        Column("phone", tabular.text(40), default="", aliases=("电话", "联系电话")),
        Column("address", tabular.text(400), default="", aliases=("地址",)),
        Column("region", tabular.text(40), aliases=("区域",)),
        # Exported for reading; a tier changes only through a confirmed proposal, so an import ignores it.
        Column("tier", tabular.text(40), default="", aliases=("等级",)),
        Column("active", tabular.boolean, default=True, aliases=("启用",)),
    ]


def check(table: tabular.Table, actor: User) -> list[tuple[int, Dealer | None, dict]]:
    """Resolve every row to (row number, existing dealer or None, values for operations.apply)."""
    allowed_regions = set(db.session.execute(scope.regions(actor).with_only_columns(Region.id)).scalars())
    existing = ops.by_code(row["code"] for row in table.rows)
    visible = set(db.session.execute(scope.query(Dealer, actor).with_only_columns(Dealer.id).where(
        Dealer.id.in_([d.id for d in existing.values()] or [0]))).scalars())
    codes = sorted({row["region"].lower() for row in table.rows if row.get("region")})
    regions = {r.code.lower(): r for r in db.session.execute(
        select(Region).where(func.lower(Region.code).in_(codes or [""]))).scalars()}
    plan, first_row = [], {}
    for row in table.rows:
        n, code = row.number, row["code"]
        if code.lower() in first_row:
            table.error(n, "code", _("%(code)s is also in row %(row)s", code=code, row=first_row[code.lower()]))
            continue
        first_row[code.lower()] = n
        dealer = existing.get(code.lower())
        if dealer is not None and dealer.id not in visible:
            table.error(n, "code", _("%(code)s is already used by a dealer outside your scope", code=code))
            continue
        values = {k: v for k, v in row.values.items() if k not in ("region", "tier")}
        if "region" in row or dealer is None:
            code_ = row.get("region") or ""
            region = regions.get(code_.lower()) if code_ else None
            if region is None or (region.id not in allowed_regions and (dealer is None or dealer.region_id != region.id)):
                table.error(n, "region", _("no region with code %(code)s in your scope", code=code_) if code_
                            else _("give the dealer's region code"))
                continue
            values["region"] = region
        plan.append((n, dealer, values))
    return plan


def import_dealers(data: bytes, filename: str, actor: User) -> ImportResult:
    """Check the whole file, then stage every dealer's creation or change (or nothing)."""
    table = tabular.read(data, columns(), filename)
    plan = check(table, actor) if table.columns else []
    refused = tabular.checked(table)
    if refused is not None:
        return refused

    def write() -> ImportResult:
        result = ImportResult(rows=len(plan))
        for _n, dealer, values in plan:
            if dealer is None:
                dealer = Dealer(active=True, tier="", contact_name="", phone="", address="")
                ops.apply(dealer, values)
                db.session.add(dealer)
                result.created += 1
            elif ops.apply(dealer, values):
                result.updated += 1
            else:
                result.unchanged += 1
        db.session.flush()
        audit.record("dealers.import", None, actor=actor, filename=filename, rows=result.rows,
                     created=result.created, updated=result.updated, unchanged=result.unchanged)
        return result

    return tabular.stage_import(
        write, _("Someone changed these dealers in the meantime. Nothing was imported; try again."))


def export(actor: User, fmt: str) -> bytes:
    dealers = db.session.execute(scope.query(Dealer, actor).order_by(Dealer.code)).scalars()
    rows = [[d.code, d.name, d.contact_name, d.phone, d.address, d.region.code if d.region else "", d.tier,
             bool(d.active)] for d in dealers]
    return tabular.write(fmt, HEADERS, rows, sheet_title="dealers")
