"""The ledger for finance: lines by period, region and activity, as rows, CSV or XLSX.

Amounts leave as yuan Decimals with two places (Excel keeps them as numbers); a reversal is a
negative line that names the line it reverses, so the sheet adds up to what was written off."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from field import scope, tabular
from field.activities.models import Activity
from field.auth.models import Region, User
from field.claims.models import Claim, LedgerLine
from field.core import money_decimal
from field.extensions import db
from field.stores.models import Store

HEADERS = ("posted_on", "line", "kind", "claim", "activity", "activity_title", "activity_type", "store_code",
           "store_name", "region", "amount", "reverses_line", "reason", "posted_by", "category")


@dataclass(frozen=True)
class LedgerFilters:
    start: date | None = None
    end: date | None = None
    region: Region | None = None
    activity_id: int | None = None


def _matching(filters: LedgerFilters, user: User | None) -> Select:
    stmt = scope.ledger_lines(user)
    if filters.start:
        stmt = stmt.where(LedgerLine.posted_on >= filters.start)
    if filters.end:
        stmt = stmt.where(LedgerLine.posted_on <= filters.end)
    if filters.region is not None:
        stmt = stmt.where(LedgerLine.store_id.in_(
            select(Store.id).where(Store.region_id.in_(
                select(Region.id).where(Region.path.startswith(filters.region.path))))))
    if filters.activity_id:
        stmt = stmt.where(LedgerLine.activity_id == filters.activity_id)
    return stmt


def ledger_total(filters: LedgerFilters, user: User | None = None) -> int:
    """The net amount of the matching lines (minor units)."""
    stmt = _matching(filters, user).with_only_columns(func.coalesce(func.sum(LedgerLine.amount), 0))
    return int(db.session.execute(stmt).scalar_one())


def ledger_query(filters: LedgerFilters, user: User | None = None) -> Select:
    """The user's ledger lines matching the filters, oldest first."""
    return _matching(filters, user).options(
        selectinload(LedgerLine.activity).selectinload(Activity.type),
        selectinload(LedgerLine.store).selectinload(Store.region),
        selectinload(LedgerLine.claim).selectinload(Claim.activity_store),
        selectinload(LedgerLine.travel_claim), selectinload(LedgerLine.actor)).order_by(LedgerLine.posted_on, LedgerLine.id)


def rows(lines) -> list[list]:
    out = []
    for line in lines:
        if line.travel_claim_id is not None:  # a travel claim's line: no activity, no store (its own category)
            out.append([line.posted_on, line.id, line.kind, line.travel_claim.code, "", "", "", "", "", "",
                        money_decimal(line.amount), line.reverses_id or "", line.reason, line.actor.login,
                        line.category])
            continue
        out.append([line.posted_on, line.id, line.kind, line.claim.code, line.activity.code, line.activity.title,
                    line.activity.type.name, line.store.code, line.store.name,
                    line.store.region.code if line.store.region else "", money_decimal(line.amount),
                    line.reverses_id or "", line.reason, line.actor.login, line.category])
    return out


def export(filters: LedgerFilters, user: User, fmt: str) -> bytes:
    lines = db.session.execute(ledger_query(filters, user)).scalars()
    data = rows(lines)
    if fmt == "xlsx":
        return tabular.write_xlsx(HEADERS, data, sheet_title="ledger")
    return tabular.write_csv(HEADERS, data)
