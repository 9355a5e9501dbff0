"""ROI per activity store, rolled up by activity, type, region and rep — summed in SQL.

For one store of an activity (approved, running or ended), measured from its first day through
its last day or yesterday, whichever comes first (D days):

- actual      = the store's sales over those D days;
- pre-period  = the PRE_DAYS (28) days before the first day, less the days that fall inside
                another activity at the same store — or inside the `dip_days` after one ends,
                when sales may still be depressed; P = the days left;
- baseline    = (pre-period sales / P) × D; when at least MIN_CONTROLS (3) control stores have
                data, the daily rate first moves by the controls' trend (difference in
                differences): + (controls' daily sales during − controls' daily sales before).
                Control stores share the store's tier, channel and region (area), are active,
                and had no activity from the pre-period's first day through the last measured
                day (nor ended one within `dip_days` before it); "have data" = sold something in
                that window. A negative adjusted rate counts as zero;
- incremental sales = actual − baseline; incremental gross profit = that × the activity's margin;
- cost        = what was written off for the store when a payment stands for it ("written off"),
                else its budget ("committed"); ROI = (incremental gross profit − cost) / cost.

The sums over sales are SQL aggregates over the daily-sales table (field/roi/models.py),
joined to the activity stores the user may see; Python only combines a handful of integers per
activity store, and never reads a sales row. A store without any pre-period day left has no
baseline: it is shown, but left out of incremental sales and ROI.

One activity's page measures its lines here on each view; the overview, over a thousand
activities, keeps the measured figures and measures again only what changed (figures.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from fractions import Fraction
from typing import Iterable

from sqlalchemy import Date, and_, case, distinct, exists, func, literal, select
from sqlalchemy.orm import aliased, selectinload

from field import scope
from field.activities import progress
from field.activities.models import Activity, ActivityStatus as S, ActivityStore
from field.activities.rules import Compliance
from field.auth.models import Region, User
from field.claims.models import LedgerKind, LedgerLine
from field.extensions import db
from field.roi.models import SalesDaily
from field.roi.sqldates import day_add
from field.stores.models import Store

MEASURED = (S.APPROVED, S.RUNNING, S.ENDED)
PRE_DAYS = 28
MIN_CONTROLS = 3
WRITTEN_OFF, COMMITTED, MIXED = "written_off", "committed", "mixed"


@dataclass(frozen=True)
class Settings:
    pre_days: int = PRE_DAYS
    dip_days: int = 0
    min_controls: int = MIN_CONTROLS


@dataclass(frozen=True)
class Filters:
    """Which activity stores to measure: activities overlapping [start, end], optionally of one type,
    at stores in one region's subtree, of one activity, or one activity store."""

    start: date
    end: date
    region: Region | None = None
    type_id: int | None = None
    activity_id: int | None = None
    line_id: int | None = None
    line_ids: frozenset[int] | None = None


def fen(value: Fraction) -> int:
    """An exact amount rounded half up to the fen (half away from zero for negatives)."""
    sign = -1 if value < 0 else 1
    return sign * int((abs(value) + Fraction(1, 2)) // 1)


@dataclass
class Line:
    """One activity store and its figures. Sums are minor units; rates are exact fractions."""

    line: ActivityStore
    stop: date
    pre_days: int
    actual: int = 0
    pre_sales: int = 0
    blocked_days: int = 0
    controls: int = 0
    control_pre: int = 0
    control_during: int = 0
    written_off: int = 0
    settled: bool = False
    compliance: Compliance = field(default_factory=lambda: Compliance(0, 0))
    min_controls: int = MIN_CONTROLS

    @property
    def id(self) -> int:
        return self.line.id

    @property
    def activity(self) -> Activity:
        return self.line.activity

    @property
    def store(self) -> Store:
        return self.line.store

    @property
    def start(self) -> date:
        return self.line.activity.period_start

    @property
    def pre_start(self) -> date:
        return self.start - timedelta(days=self.pre_days)

    @property
    def pre_end(self) -> date:
        """The last day of the pre-period: the day before the activity starts (both ends count)."""
        return self.start - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.stop - self.start).days + 1

    @property
    def baseline_days(self) -> int:
        return self.pre_days - self.blocked_days

    @property
    def has_baseline(self) -> bool:
        return self.baseline_days > 0

    @cached_property
    def pre_rate(self) -> Fraction | None:
        return Fraction(self.pre_sales, self.baseline_days) if self.has_baseline else None

    @property
    def uses_controls(self) -> bool:
        return self.controls >= self.min_controls

    @cached_property
    def control_trend(self) -> Fraction | None:
        """Change of a control store's daily sales, during minus before (None: too few controls)."""
        if not self.uses_controls:
            return None
        return (Fraction(self.control_during, self.controls * self.days)
                - Fraction(self.control_pre, self.controls * self.pre_days))

    @cached_property
    def baseline_rate(self) -> Fraction | None:
        if not self.has_baseline:
            return None
        rate = self.pre_rate + (self.control_trend or 0)
        return max(rate, Fraction(0))

    @cached_property
    def baseline(self) -> int | None:
        return fen(self.baseline_rate * self.days) if self.has_baseline else None

    @cached_property
    def incremental(self) -> int | None:
        return self.actual - self.baseline if self.has_baseline else None

    @property
    def margin_pct(self) -> Decimal:
        return self.activity.margin_pct

    @cached_property
    def incremental_gp(self) -> int | None:
        if not self.has_baseline:
            return None
        return fen(Fraction(self.incremental) * Fraction(self.margin_pct) / 100)

    @property
    def budget(self) -> int:
        return self.line.budget

    @property
    def cost_basis(self) -> str:
        return WRITTEN_OFF if self.settled else COMMITTED

    @property
    def cost(self) -> int:
        return self.written_off if self.settled else self.budget

    @cached_property
    def roi(self) -> Fraction | None:
        return _roi(self.incremental_gp, self.cost) if self.has_baseline else None


def _roi(gp: int | None, cost: int) -> Fraction | None:
    if gp is None or cost <= 0:
        return None
    return Fraction(gp - cost, cost)


@dataclass
class Rollup:
    """Lines added up under one key (an activity, a type, a region, a rep, or everything)."""

    key: object
    label: str = ""
    lines: int = 0
    measured: int = 0          # lines with a baseline: the ones incremental figures and ROI count
    actual: int = 0
    baseline: int = 0
    incremental: int = 0
    incremental_gp: int = 0
    cost: int = 0              # over every line
    measured_cost: int = 0     # over measured lines: ROI's denominator
    budget: int = 0
    written_off: int = 0
    compliance: Compliance = field(default_factory=lambda: Compliance(0, 0))
    bases: set = field(default_factory=set)
    activity: Activity | None = None  # the first line's: what an activity's key names

    def add(self, line: Line) -> None:
        if self.activity is None:
            self.activity = line.activity
        self.lines += 1
        self.actual += line.actual
        self.cost += line.cost
        self.budget += line.budget
        self.written_off += line.written_off
        self.compliance = self.compliance + line.compliance
        self.bases.add(line.cost_basis)
        if line.has_baseline:
            self.measured += 1
            self.baseline += line.baseline
            self.incremental += line.incremental
            self.incremental_gp += line.incremental_gp
            self.measured_cost += line.cost

    @property
    def roi(self) -> Fraction | None:
        return _roi(self.incremental_gp, self.measured_cost) if self.measured else None

    @property
    def cost_basis(self) -> str:
        if len(self.bases) == 1:
            return next(iter(self.bases))
        return MIXED if self.bases else COMMITTED

    @property
    def budget_used(self) -> Fraction | None:
        return Fraction(self.written_off, self.budget) if self.budget else None


# --- the SQL ----------------------------------------------------------------------------------

def _targets(filters: Filters, user: User, last_day: date, settings: Settings):
    """The activity stores to measure, with their windows, as a CTE (scope applied)."""
    stop = case((Activity.period_end < last_day, Activity.period_end), else_=literal(last_day, Date))
    stmt = (select(ActivityStore.id.label("line_id"), ActivityStore.activity_id, ActivityStore.store_id,
                   Activity.period_start.label("start"), stop.label("stop"),
                   day_add(Activity.period_start, -settings.pre_days).label("pre_start"),
                   day_add(Activity.period_start, -1).label("pre_end"),
                   Store.tier, Store.channel, Store.region_id)
            .select_from(ActivityStore).join(Activity, Activity.id == ActivityStore.activity_id)
            .join(Store, Store.id == ActivityStore.store_id)
            .where(scope.activity_stores(user).whereclause, *conditions(filters, last_day)))
    return stmt.cte("targets")


def conditions(filters: Filters, last_day: date) -> list:
    out = [Activity.status.in_(MEASURED), Activity.period_start <= last_day,
           Activity.period_start <= filters.end, Activity.period_end >= filters.start]
    if filters.region is not None:
        out.append(Store.region_id.in_(select(Region.id).where(Region.path.startswith(filters.region.path))))
    if filters.type_id:
        out.append(Activity.type_id == filters.type_id)
    if filters.activity_id:
        out.append(Activity.id == filters.activity_id)
    if filters.line_id:
        out.append(ActivityStore.id == filters.line_id)
    if filters.line_ids is not None:
        out.append(ActivityStore.id.in_(sorted(filters.line_ids)))
    return out


def _sales_sums(t):
    """Per line: sales in the measured days and in the whole pre-period."""
    d = SalesDaily.__table__
    return (select(t.c.line_id,
                   func.sum(case((d.c.day >= t.c.start, d.c.amount), else_=0)).label("actual"),
                   func.sum(case((d.c.day < t.c.start, d.c.amount), else_=0)).label("pre_all"))
            .select_from(t.join(d, and_(d.c.store_id == t.c.store_id, d.c.day >= t.c.pre_start,
                                        d.c.day <= t.c.stop)))
            .group_by(t.c.line_id))


def _offsets(n: int):
    offsets = select(literal(0).label("i")).cte("offsets", recursive=True)
    return offsets.union_all(select(offsets.c.i + 1).where(offsets.c.i < n - 1))


def _blocked(t, settings: Settings):
    """Per line: pre-period days inside another activity at the store (or its dip), and their sales."""
    other, other_activity = aliased(ActivityStore), aliased(Activity)
    offsets = _offsets(settings.pre_days)
    day = day_add(t.c.pre_start, offsets.c.i)
    ends = day_add(other_activity.period_end, settings.dip_days)
    blocked = (select(t.c.line_id, t.c.store_id, day.label("day")).distinct()
               .select_from(t)
               .join(other, and_(other.store_id == t.c.store_id, other.activity_id != t.c.activity_id))
               .join(other_activity, and_(other_activity.id == other.activity_id,
                                          other_activity.status.in_(MEASURED),
                                          other_activity.period_start <= t.c.pre_end, ends >= t.c.pre_start))
               .join(offsets, and_(day >= other_activity.period_start, day <= ends))
               ).cte("blocked")
    d = SalesDaily.__table__
    return (select(blocked.c.line_id, func.count(distinct(blocked.c.day)).label("days"),
                   func.coalesce(func.sum(d.c.amount), 0).label("sales"))
            .select_from(blocked.outerjoin(d, and_(d.c.store_id == blocked.c.store_id, d.c.day == blocked.c.day)))
            .group_by(blocked.c.line_id))


def control_stores_clause(group, settings: Settings, control=Store):
    """Stores that may serve as controls for `group` (columns tier, channel, region_id, pre_start, stop)."""
    other, other_activity = aliased(ActivityStore), aliased(Activity)
    busy = (exists().where(other.store_id == control.id, other_activity.id == other.activity_id,
                           other_activity.status.in_(MEASURED), other_activity.period_start <= group.c.stop,
                           day_add(other_activity.period_end, settings.dip_days) >= group.c.pre_start))
    return and_(control.tier == group.c.tier, control.channel == group.c.channel,
                control.region_id == group.c.region_id, control.active.is_(True), ~busy)


def _controls(t, settings: Settings):
    """Per (activity, tier, channel, region): control stores with data, and their sales before and during."""
    groups = (select(t.c.activity_id, t.c.tier, t.c.channel, t.c.region_id, t.c.pre_start, t.c.start, t.c.stop)
              .distinct().where(t.c.region_id.is_not(None)).cte("groups"))
    control = aliased(Store)
    d = SalesDaily.__table__
    return (select(groups.c.activity_id, groups.c.tier, groups.c.channel, groups.c.region_id,
                   func.count(distinct(control.id)).label("n"),
                   func.sum(case((d.c.day < groups.c.start, d.c.amount), else_=0)).label("pre"),
                   func.sum(case((d.c.day >= groups.c.start, d.c.amount), else_=0)).label("during"))
            .select_from(groups)
            .join(control, control_stores_clause(groups, settings, control))
            .join(d, and_(d.c.store_id == control.id, d.c.day >= groups.c.pre_start, d.c.day <= groups.c.stop))
            .group_by(groups.c.activity_id, groups.c.tier, groups.c.channel, groups.c.region_id))


def _ledger(t):
    """Per line: net written off, and whether a payment stands (not reversed)."""
    reversal = aliased(LedgerLine)
    standing = and_(LedgerLine.kind == LedgerKind.PAYMENT,
                    ~exists().where(reversal.reverses_id == LedgerLine.id))
    return (select(LedgerLine.activity_store_id, func.sum(LedgerLine.amount).label("net"),
                   func.max(case((standing, 1), else_=0)).label("settled"))
            .join(t, t.c.line_id == LedgerLine.activity_store_id)
            .group_by(LedgerLine.activity_store_id))


def _activity_stores(filters: Filters, user: User, last_day: date) -> list[ActivityStore]:
    stmt = (scope.activity_stores(user).join(ActivityStore.activity).join(ActivityStore.store)
            .where(*conditions(filters, last_day))
            .options(selectinload(ActivityStore.activity).selectinload(Activity.type),
                     selectinload(ActivityStore.store).selectinload(Store.region),
                     selectinload(ActivityStore.store).selectinload(Store.owner_rep))
            .order_by(ActivityStore.id))
    return list(db.session.execute(stmt).scalars())


def lines(filters: Filters, user: User, as_of: date, settings: Settings = Settings()) -> list[Line]:
    """Every activity store matching `filters` that the user may see, measured through the day before `as_of`."""
    last_day = as_of - timedelta(days=1)
    found = _activity_stores(filters, user, last_day)
    if not found:
        return []
    out = {a.id: Line(a, stop=min(a.activity.period_end, last_day), pre_days=settings.pre_days,
                      min_controls=settings.min_controls) for a in found}
    t = _targets(filters, user, last_day, settings)
    for line_id, actual, pre_all in db.session.execute(_sales_sums(t)):
        out[line_id].actual, out[line_id].pre_sales = int(actual or 0), int(pre_all or 0)
    for line_id, days, sales in db.session.execute(_blocked(t, settings)):
        out[line_id].blocked_days = int(days)
        out[line_id].pre_sales -= int(sales or 0)
    controls = {(a, tier, channel, region): (int(n), int(pre or 0), int(during or 0))
                for a, tier, channel, region, n, pre, during in db.session.execute(_controls(t, settings))}
    for line_id, net, settled in db.session.execute(_ledger(t)):
        out[line_id].written_off, out[line_id].settled = int(net or 0), bool(settled)
    compliance = progress.compliance_by_store(found, as_of)
    for line in out.values():
        store = line.store
        n, pre, during = controls.get((line.activity.id, store.tier, store.channel, store.region_id), (0, 0, 0))
        line.controls, line.control_pre, line.control_during = n, pre, during
        line.compliance = compliance[line.id]
    return list(out.values())


# --- roll-ups ---------------------------------------------------------------------------------

def total(items: Iterable[Line]) -> Rollup:
    out = Rollup("all")
    for line in items:
        out.add(line)
    return out


# --- one activity by day -------------------------------------------------------------------

@dataclass(frozen=True)
class Day:
    day: date
    actual: int
    baseline: int | None  # the summed baseline rate on the activity's days, None before them


def daily(activity: Activity, measured: list[Line], user: User) -> list[Day]:
    """An activity's sales per day over its stores in `measured` (pre-period and measured days),
    with the day's baseline (the stores' adjusted daily rates summed) on its measured days."""
    if not measured:
        return []
    ids = [line.store.id for line in measured]
    first = min(line.pre_start for line in measured)
    last = max(line.stop for line in measured)
    d = SalesDaily.__table__
    sums = dict(db.session.execute(
        select(d.c.day, func.sum(d.c.amount)).where(d.c.store_id.in_(ids), d.c.day >= first, d.c.day <= last)
        .group_by(d.c.day)).all())
    rate = sum((line.baseline_rate for line in measured if line.has_baseline), Fraction(0))
    out, day = [], first
    while day <= last:
        out.append(Day(day, int(sums.get(day) or 0), fen(rate) if activity.period_start <= day else None))
        day += timedelta(days=1)
    return out


def default_period(as_of: date, days: int = 90) -> tuple[date, date]:
    """The last `days` days up to yesterday: what the Monday page shows unless told otherwise."""
    end = as_of - timedelta(days=1)
    return end - timedelta(days=days - 1), end
