"""What targets read: months, the sales a target is measured against, completion, and the rows a user sees.

Completion is measured on the sales the app holds (field.sales: visit orders and imports), in the month:
- a region's target against every sale at the stores of the region and the regions below it;
- a rep's against the sales at the stores they own (now; a rep has one target a month, whatever region
  splits it, so all of their stores);
- a store's against the store's sales.
All sums are integers of minor units; the percentage is a Decimal to one place, None without a target."""
from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from field import permissions, scope
from field.auth.models import Region, User
from field.extensions import db
from field.sales.models import Sale
from field.stores.models import Store
from field.targets.models import Target

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 1)
MONTH = re.compile(r"^(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*(?:月)?(?:[-/.]\s*0?1(?:日)?)?(?:[ T]00:00(?::00)?)?$")


class MonthError(ValueError):
    """A month that could not be read; the message is for the user."""


def parse_month(text: str) -> date:
    """2026-03, 2026/3, 2026.03, 2026年3月, or an Excel date on the first of the month → date(2026, 3, 1)."""
    value = (text or "").strip()
    match = MONTH.match(value)
    if match:
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12:
            day = date(year, month, 1)
            if EARLIEST <= day <= LATEST:
                return day
    raise MonthError(_("not a month (write it as 2026-03): %(value)s", value=value[:40]))


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_key(month: date) -> str:
    return f"{month:%Y-%m}"


def pct(actual: int, target: int) -> Decimal | None:
    """Completion in per cent, to one decimal (half up); None when there is no target to complete."""
    if not target:
        return None
    return (Decimal(actual) * 100 / Decimal(target)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def subtree(region: Region):
    """Ids of the region and every region below it."""
    return select(Region.id).where(Region.path.startswith(region.path))


def _in_month(month: date):
    return and_(Sale.sold_on >= month, Sale.sold_on < add_months(month, 1))


# --- sales sums -------------------------------------------------------------------------------------

def region_sales(region: Region, month: date) -> int:
    return db.session.execute(
        select(func.coalesce(func.sum(Sale.amount), 0)).join(Store, Store.id == Sale.store_id)
        .where(_in_month(month), Store.region_id.in_(subtree(region)))).scalar_one()


def rep_sales(month: date, rep_ids) -> dict[int, int]:
    """Sales of each rep's stores (owned now), in the month."""
    rep_ids = list(rep_ids)
    if not rep_ids:
        return {}
    rows = db.session.execute(
        select(Store.owner_rep_id, func.sum(Sale.amount)).join(Sale, Sale.store_id == Store.id)
        .where(_in_month(month), Store.owner_rep_id.in_(rep_ids)).group_by(Store.owner_rep_id))
    return {rep_id: int(total or 0) for rep_id, total in rows}

def store_sales(month: date, store_ids) -> dict[int, int]:
    store_ids = list(store_ids)
    if not store_ids:
        return {}
    rows = db.session.execute(select(Sale.store_id, func.sum(Sale.amount))
                              .where(_in_month(month), Sale.store_id.in_(store_ids)).group_by(Sale.store_id))
    return {store_id: int(total or 0) for store_id, total in rows}


def actuals(rows: list[Target]) -> dict[int, int]:
    """Each target row's sales so far (by row id), a few grouped queries for any number of rows."""
    found: dict[int, int] = {}
    by_month_rep: dict[date, list[Target]] = {}
    by_month_store: dict[date, list[Target]] = {}
    for row in rows:
        if row.level == "region":
            found[row.id] = region_sales(row.region, row.month)
        elif row.level == "rep":
            by_month_rep.setdefault(row.month, []).append(row)
        else:
            by_month_store.setdefault(row.month, []).append(row)
    for month, reps in by_month_rep.items():
        sums = rep_sales(month, {r.rep_id for r in reps})
        found.update((r.id, sums.get(r.rep_id, 0)) for r in reps)
    for month, stores in by_month_store.items():
        sums = store_sales(month, {r.store_id for r in stores})
        found.update((r.id, sums.get(r.store_id, 0)) for r in stores)
    return found


# --- what a user sees -------------------------------------------------------------------------------

def visible(user=None):
    """Target rows the user may see (scope: a rep their own, a supervisor their team's and regions', a
    manager their regions')."""
    return scope.query(Target, user)


def children(target: Target, user=None) -> list[Target]:
    return list(db.session.execute(visible(user).where(Target.parent_id == target.id)).scalars())


def allocated(target: Target) -> int:
    """What the target's parts add up to (all of them, whoever looks)."""
    return db.session.execute(select(func.coalesce(func.sum(Target.amount), 0))
                              .where(Target.parent_id == target.id)).scalar_one()


def rep_card(user: User, day: date) -> dict | None:
    """The rep's own target of the month of `day` and their sales against it, in ONE query (Today's card):
    {"target", "actual", "pct", "id"}, or None when they have none. The sum walks the rep's stores (their
    owner index) and each store's sales of the month (sales' (store, day, amount) index), never the whole
    month's sales (a region condition here made the plan 40 times slower on SQLite)."""
    month = month_start(day)
    row = db.session.execute(
        select(Target.id, Target.amount, func.coalesce(func.sum(Sale.amount), 0))
        .outerjoin(Store, Store.owner_rep_id == Target.rep_id)
        .outerjoin(Sale, and_(Sale.store_id == Store.id, _in_month(month)))
        .where(Target.month == month, Target.level == "rep", Target.rep_id == user.id)
        .group_by(Target.id, Target.amount)).first()
    if row is None:
        return None
    return {"id": row[0], "target": int(row[1]), "actual": int(row[2]), "pct": pct(int(row[2]), int(row[1]))}

def rows_for(user: User, month: date) -> list[Target]:
    """The rows someone's summary and list show for a month: a rep their own; a supervisor their team's
    reps'; a manager (an admin) the regions' targets."""
    stmt = visible(user).where(Target.month == month)
    home = permissions.home_of(user)
    if home == "rep":
        stmt = stmt.where(Target.level == "rep", Target.rep_id == user.id)
    elif home == "team":
        stmt = (stmt.join(User, User.id == Target.rep_id)
                .where(Target.level == "rep", Target.rep_id.in_(scope.team_ids(user))).order_by(User.name))
    else:
        stmt = stmt.join(Region, Region.id == Target.region_id).where(Target.level == "region").order_by(Region.path)
    return list(db.session.execute(stmt).scalars())


def label(row: Target) -> str:
    if row.level == "region":
        return row.region.name
    if row.level == "rep":
        return row.rep.name if row.rep else "?"
    return row.store.name if row.store else "?"


SUMMARY_ROWS = 12


def summary(user: User, month: date) -> list[dict] | None:
    """The `targets_summary` provider: {"label", "target", "actual", "pct", "url"} per row in the user's
    scope for the month (at most SUMMARY_ROWS), None when there is none."""
    rows = rows_for(user, month_start(month))[:SUMMARY_ROWS]
    if not rows:
        return None
    sums = actuals(rows)
    return [{"label": label(r), "target": r.amount, "actual": sums.get(r.id, 0),
             "pct": pct(sums.get(r.id, 0), r.amount), "url": url_for("targets.detail", target_id=r.id)} for r in rows]
