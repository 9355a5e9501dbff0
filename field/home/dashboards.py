"""The dashboards' figures (仪表盘): plain functions of a user and a period, every query starting from
field.scope, so a figure only ever counts what its reader may see.

Manager (a period: a month to date, or a week; each figure also for the previous period — 环比 — and
the same days a year before — 同比):

- Coverage (门店覆盖率): of the active stores that were due in the period, the share visited (a
  completed visit checked out in it). A store is due when it was visited in the period, was never
  visited, or its last visit before the period plus its visit frequency (stores.models.frequency_days)
  falls before the period's end.
- Frequency compliance: the share of active stores on schedule at the period's end — last visited
  within their frequency's days.
- Visits per rep per day: completed visits over the days the reps worked (days with a check-in), so
  a day off does not count; the anchor is Repsly's field-sales benchmark, 7.3.
- Time in store: check-in to check-out of completed visits; the anchor band is 16–37 minutes.
- Evidence compliance, spend and ROI: field/roi's kept figures over the activities overlapping the
  period (roi.figures.rollups), as the ROI page shows them.

Everything is set-based:
- coverage and schedule: each store's last visit before each period's end. On SQLite an index probe
  per store (ix_visits_store_id_status_checkout_at), the cheapest there, one statement for the three
  periods; on PostgreSQL the last visits of the month before the end come from one range of
  ix_visits_status_checkout_at_store_id, grouped, and only a store without one is probed (three times
  faster at 20,000 stores) — one statement a period, the three run beside each other and beside the
  visit figures (field/reads.py), so the page waits for the longest, not for their sum;
- the visit figures: one range of the covering ix_visits_status_checkin_at_rep_id_store_id_checkout_at
  per period (migration 0016), per rep for the period shown, added up in SQL for the other two;
- evidence, spend and ROI: the ROI page's kept figures of the three periods' lines, summed per period
  (what roi.figures.rollups(...).total gives for each; tests/unit/test_dashboard_figures.py pins it).

Supervisor: the team's day live (field.visits.history.team_summary) with pending evidence per rep
(activities.queue.census), and the week per rep per day (one grouped statement)."""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, Text, and_, case, cast, func, literal, null, or_, select, union_all

from field import reads, scope
from field.activities import queue
from field.activities.models import Activity, ActivityStore
from field.auth.models import Region, User
from field.core import company_zone
from field.extensions import db
from field.home.sqltime import local_day, seconds_between
from field.roi import figures as roi_figures
from field.roi.models import RoiFigure
from field.roi.queries import Filters
from field.stores.models import TIER_FREQUENCY_DAYS, TIERS, Channel, Store, frequency_days
from field.visits import history
from field.visits.models import Visit, VisitStatus

# Repsly's field-sales benchmarks: visits a rep makes a day, minutes a visit lasts.
ANCHOR_VISITS_PER_DAY = Fraction(73, 10)
ANCHOR_DWELL_MINUTES = (16, 37)
KINDS = ("month", "week")


# --- periods --------------------------------------------------------------------------------------

def _minus_months(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _minus_year(day: date) -> date:
    return _minus_months(day, 12)


@dataclass(frozen=True)
class Period:
    """Local calendar days start..end, both included (a current period ends today)."""

    kind: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """环比: the period before, as many days into it (a month to the 12th: last month to its 12th)."""
        if self.kind == "week":
            return Period(self.kind, self.start - timedelta(days=7), self.end - timedelta(days=7))
        start = _minus_months(self.start, 1)
        last = calendar.monthrange(start.year, start.month)[1]
        return Period(self.kind, start, start.replace(day=min(last, self.end.day)))

    def last_year(self) -> Period:
        """同比: the same days a year before (a week: the same weekdays 52 weeks before)."""
        if self.kind == "week":
            return Period(self.kind, self.start - timedelta(weeks=52), self.end - timedelta(weeks=52))
        return Period(self.kind, _minus_year(self.start), _minus_year(self.end))

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """UTC instants where the first day starts and the day after the last starts."""
        start = datetime.combine(self.start, time.min, zone).astimezone(timezone.utc)
        end = datetime.combine(self.end + timedelta(days=1), time.min, zone).astimezone(timezone.utc)
        return start, end

    @property
    def args(self) -> dict:
        return {"period": self.kind, "on": self.start.isoformat()}


def period_for(kind: str, on: date | None, today: date) -> Period:
    """The month or the week (Monday first) holding `on` (default today), cut at today."""
    kind = kind if kind in KINDS else "month"
    on = min(on or today, today)
    if kind == "week":
        start = on - timedelta(days=on.weekday())
        end = start + timedelta(days=6)
    else:
        start = on.replace(day=1)
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return Period(kind, start, min(end, today))


# --- a figure with its comparisons ------------------------------------------------------------

@dataclass
class Figure:
    """A value for the period, the previous period (环比) and the same period last year (同比)."""

    value: Fraction | None
    previous: Fraction | None = None
    last_year: Fraction | None = None

    @staticmethod
    def _delta(a, b):
        return None if a is None or b is None else a - b

    @property
    def mom(self) -> Fraction | None:
        return self._delta(self.value, self.previous)

    @property
    def yoy(self) -> Fraction | None:
        return self._delta(self.value, self.last_year)


def share(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def figure(values: list) -> Figure:
    return Figure(*values)


# --- coverage and schedule ------------------------------------------------------------------------

def _frequency():
    """A store's days between visits, in SQL: its own, else its tier's (frequency_days)."""
    return func.coalesce(Store.visit_every_days,
                         case(TIER_FREQUENCY_DAYS, value=Store.tier, else_=frequency_days(None, None)))


def _last_visit(before: datetime):
    """When the store's last completed visit before `before` checked out: one index probe."""
    v = Visit.__table__.alias("lv")
    return (select(v.c.checkout_at).where(v.c.store_id == Store.id, v.c.status == VisitStatus.COMPLETED,
                                          v.c.checkout_at < before)
            .order_by(v.c.checkout_at.desc()).limit(1).correlate(Store.__table__).scalar_subquery())


RECENT = timedelta(days=31)


def _recent_visits(before: datetime, name: str):
    """Per store, its last completed visit in the RECENT days before `before` (stores visited then only)."""
    v = Visit.__table__.alias(f"{name}_v")
    return (select(v.c.store_id, func.max(v.c.checkout_at).label("last"))
            .where(v.c.status == VisitStatus.COMPLETED, v.c.checkout_at >= before - RECENT, v.c.checkout_at < before)
            .group_by(v.c.store_id).subquery(name))


def region_clause(region: Region | None):
    if region is None:
        return None
    return Store.region_id.in_(select(Region.id).where(Region.path.startswith(region.path)))


@dataclass
class Cell:
    """Stores of one tier and channel in each period: active, due, visited, on schedule."""

    stores: int = 0
    due: list[int] = field(default_factory=lambda: [0, 0, 0])
    visited: list[int] = field(default_factory=lambda: [0, 0, 0])
    on_schedule: list[int] = field(default_factory=lambda: [0, 0, 0])

    def __iadd__(self, other: Cell) -> Cell:
        self.stores += other.stores
        for name in ("due", "visited", "on_schedule"):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, [a + b for a, b in zip(mine, theirs)])
        return self

    @property
    def coverage(self) -> Figure:
        return figure([share(v, d) for v, d in zip(self.visited, self.due)])

    @property
    def schedule(self) -> Figure:
        return figure([share(s, self.stores) for s in self.on_schedule])


@dataclass
class Coverage:
    cells: dict[tuple[str, str], Cell]

    def _by(self, index: int, keys) -> dict[str, Cell]:
        out = {k: Cell() for k in keys}
        for key, cell in self.cells.items():
            out.setdefault(key[index], Cell())
            out[key[index]] += cell
        return out

    @property
    def by_tier(self) -> dict[str, Cell]:
        return self._by(0, TIERS)

    @property
    def by_channel(self) -> dict[str, Cell]:
        return {k: c for k, c in self._by(1, [c.value for c in Channel]).items() if c.stores}

    @property
    def total(self) -> Cell:
        out = Cell()
        for cell in self.cells.values():
            out += cell
        return out


def _frequencies() -> list[int]:
    """Every frequency a store may have: the tiers' and the stores' own (a handful of values)."""
    own = db.session.execute(select(Store.visit_every_days).where(Store.visit_every_days.is_not(None))
                             .distinct()).scalars()
    return sorted({*TIER_FREQUENCY_DAYS.values(), frequency_days(None, None), *own})


def store_states(user: User, periods: list[Period], zone: ZoneInfo, region: Region | None = None,
                 frequencies: list[int] | None = None):
    """The active stores in scope with, per period, columns visited_i, due_i, on_schedule_i (1/0) and
    last_i (the last visit before the period's end), plus tier, channel: a subquery to group or list.
    `frequencies`: _frequencies(), when the caller has read them already."""
    freq = _frequency()
    frequencies = frequencies if frequencies is not None else _frequencies()
    columns = [Store.id.label("store_id"), Store.tier, Store.channel]
    stmt = scope.stores(user).where(Store.active.is_(True))
    where = region_clause(region)
    if where is not None:
        stmt = stmt.where(where)
    lasts = []
    windows = db.session.get_bind().dialect.name == "postgresql"
    for i, period in enumerate(periods):
        start, end = period.bounds(zone)
        last = _last_visit(end)
        if windows:
            # PostgreSQL: the stores' last visits of the month before the end in one range of the
            # (status, checkout_at, store_id) index, grouped; the probe only for a store without one.
            recent = _recent_visits(end, f"recent{i}")
            stmt = stmt.outerjoin(recent, recent.c.store_id == Store.id)
            last = func.coalesce(recent.c.last, last)
        lasts.append((last, start, end))
        columns.append(last.label(f"last{i}"))
    # Materialized: each probe runs once per store, not once per expression that reads its result.
    inner = stmt.with_only_columns(*columns, freq.label("freq")).cte("states").prefix_with("MATERIALIZED")
    out = [inner.c.store_id, inner.c.tier, inner.c.channel]
    for i, (_last, start, end) in enumerate(lasts):
        last = inner.c[f"last{i}"]
        # On schedule at the end: last visit within the store's frequency of the period's end.
        cutoff = case({f: literal(end - timedelta(days=f), Visit.checkout_at.type) for f in frequencies},
                      value=inner.c.freq)
        on = and_(last.is_not(None), last >= cutoff)
        visited = and_(last.is_not(None), last >= start)
        out += [case((visited, 1), else_=0).label(f"visited{i}"),
                case((or_(visited, ~on), 1), else_=0).label(f"due{i}"),
                case((on, 1), else_=0).label(f"on{i}"), last.label(f"last{i}")]
    return select(*out).subquery("stores_states")


def coverage(user: User, periods: list[Period], zone: ZoneInfo, region: Region | None = None) -> Coverage:
    statements = coverage_parts(user, periods, zone, region)
    return _coverage_parts([db.session.execute(s).all() for s in statements], len(periods))


def coverage_rows(user: User, periods: list[Period], zone: ZoneInfo, region: Region | None = None,
                  frequencies: list[int] | None = None):
    """The statement: (tier, channel, stores, then due, visited, on schedule per period)."""
    t = store_states(user, periods, zone, region, frequencies)
    sums = []
    for i in range(len(periods)):
        sums += [func.sum(t.c[f"due{i}"]), func.sum(t.c[f"visited{i}"]), func.sum(t.c[f"on{i}"])]
    return select(t.c.tier, t.c.channel, func.count(), *sums).group_by(t.c.tier, t.c.channel)


def coverage_parts(user: User, periods: list[Period], zone: ZoneInfo, region: Region | None = None) -> list:
    """The statements whose rows _coverage_parts adds up. On PostgreSQL one a period, so that they
    may run beside each other (field/reads.py), each on its own connection and core: every period
    reads its own month of the check-out index anyway. Elsewhere one statement for all the periods."""
    if db.session.get_bind().dialect.name == "postgresql" and len(periods) > 1:
        frequencies = _frequencies()
        return [coverage_rows(user, [period], zone, region, frequencies) for period in periods]
    return [coverage_rows(user, periods, zone, region)]


def _coverage_parts(parts: list, n_periods: int) -> Coverage:
    """The Coverage of coverage_parts' rows: one list of rows for all the periods, or one a period."""
    if len(parts) == 1:
        return _coverage(parts[0], n_periods)
    cells: dict[tuple[str, str], Cell] = {}
    for i, rows in enumerate(parts):
        for tier, channel, n, due, visited, on in rows:
            cell = cells.get((tier, channel))
            if cell is None:
                # Every period counts the same stores (the active ones in scope today).
                cell = cells[(tier, channel)] = Cell(stores=int(n))
            cell.due[i], cell.visited[i], cell.on_schedule[i] = int(due or 0), int(visited or 0), int(on or 0)
    return Coverage(cells)


def _coverage(rows, n_periods: int) -> Coverage:
    cells = {}
    periods = range(n_periods)
    for row in rows:
        tier, channel, n, *rest = row
        cell = Cell(stores=int(n))
        for i in range(len(periods)):
            due, visited, on = (int(x or 0) for x in rest[i * 3:i * 3 + 3])
            cell.due[i], cell.visited[i], cell.on_schedule[i] = due, visited, on
        cells[(tier, channel)] = cell
    return Coverage(cells)


# --- visits per rep per day, time in store -----------------------------------------------------

@dataclass
class RepLine:
    """One rep's completed visits in a period."""

    rep_id: int
    visits: int = 0
    days: int = 0              # days with a check-in
    seconds: float = 0.0       # time in stores
    in_band: int = 0           # visits of 16–37 minutes

    @property
    def per_day(self) -> Fraction | None:
        return share(self.visits, self.days)

    @property
    def minutes(self) -> Fraction | None:
        return Fraction(round(self.seconds / 60 * 10), 10 * self.visits) if self.visits else None

    @property
    def per_day_floor(self) -> int | None:
        """⌊per_day⌋ in integers (a chart buckets 2,000 reps: no fractions made for it)."""
        return self.visits // self.days if self.days else None

    @property
    def minutes_floor(self) -> int | None:
        """⌊minutes⌋ in integers."""
        return round(self.seconds / 60 * 10) // (10 * self.visits) if self.visits else None

    def __iadd__(self, other: RepLine) -> RepLine:
        self.visits += other.visits
        self.days += other.days
        self.seconds += other.seconds
        self.in_band += other.in_band
        return self


@dataclass
class Productivity:
    reps: list[RepLine]              # the period's, one per rep who worked
    totals: list[RepLine]            # per period, every rep added up

    @property
    def per_day(self) -> Figure:
        return figure([t.per_day for t in self.totals])

    @property
    def minutes(self) -> Figure:
        return figure([t.minutes for t in self.totals])

    @property
    def in_band(self) -> Figure:
        return figure([share(t.in_band, t.visits) for t in self.totals])

    @property
    def visits(self) -> Figure:
        return figure([Fraction(t.visits) for t in self.totals])


def _zone_minutes(zone: ZoneInfo, on: date) -> int:
    offset = datetime.combine(on, time(12), zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def visit_rows(user: User, periods: list[Period], zone: ZoneInfo, region: Region | None = None):
    """Completed visits checked in during any of the periods, in scope: (period index, rep, visits,
    days worked, seconds in store, visits within the anchor band) grouped per rep for the first period;
    each other period comes as one row (rep NULL) of its reps' lines added up. One grouped select per
    period, added together, so each reads one range of the covering check-in index (an OR of the
    ranges is read as a scan of every visit)."""
    dwell = seconds_between(Visit.checkin_at, Visit.checkout_at)
    low, high = (m * 60 for m in ANCHOR_DWELL_MINUTES)
    day = local_day(Visit.checkin_at, zone.key, _zone_minutes(zone, periods[0].start))
    where = region_clause(region)
    parts = []
    for i, period in enumerate(periods):
        start, end = period.bounds(zone)
        stmt = (select(literal(i, Integer).label("bucket"), Visit.rep_id, func.count().label("visits"),
                       func.count(func.distinct(day)).label("days"), func.sum(dwell).label("seconds"),
                       func.sum(case((dwell.between(low, high), 1), else_=0)).label("in_band"))
                .where(scope.rule(Visit, user), Visit.status == VisitStatus.COMPLETED,
                       Visit.checkout_at.is_not(None), Visit.checkin_at >= start, Visit.checkin_at < end)
                .group_by(Visit.rep_id))
        if where is not None:
            stmt = stmt.where(Visit.store.has(where))
        if i:
            per_rep = stmt.subquery(f"reps{i}")
            stmt = select(literal(i, Integer).label("bucket"), cast(null(), Integer).label("rep_id"),
                          func.coalesce(func.sum(per_rep.c.visits), 0).label("visits"),
                          func.coalesce(func.sum(per_rep.c.days), 0).label("days"),
                          func.sum(per_rep.c.seconds).label("seconds"), func.sum(per_rep.c.in_band).label("in_band"))
        parts.append(stmt)
    return parts[0] if len(parts) == 1 else union_all(*parts)


def productivity(user: User, periods: list[Period], zone: ZoneInfo, region: Region | None = None) -> Productivity:
    """The period's lines per rep (periods[0]) and every period's totals."""
    return _productivity(db.session.execute(visit_rows(user, periods, zone, region)), len(periods))


def _productivity(rows, n_periods: int) -> Productivity:
    # Rows unpacked as tuples and added up in plain lists: a country's 2,000 reps a page.
    sums = [[0, 0, 0.0, 0] for _ in range(n_periods)]
    reps = []
    for bucket, rep_id, visits, days, seconds, in_band in rows:
        visits, days, seconds, in_band = int(visits), int(days), float(seconds or 0), int(in_band or 0)
        total = sums[bucket]
        total[0] += visits
        total[1] += days
        total[2] += seconds
        total[3] += in_band
        if bucket == 0:
            reps.append(RepLine(rep_id, visits, days, seconds, in_band))
    return Productivity(reps, [RepLine(0, *total) for total in sums])


# --- evidence, spend, ROI (field/roi's figures) ---------------------------------------------------

@dataclass
class Spend:
    compliance: Figure
    cost: Figure
    roi: Figure
    budget_used: Figure
    totals: list   # the roll-ups (roi.queries.Rollup), per period


def _spend_rows(user: User, filters: list[Filters], last_day: date):
    """The kept figures of the activity stores of each period added up (a roll-up's fields per period),
    in one statement: the lines of any of the periods are joined and filtered once (a materialized
    CTE, as roi.figures.rollups does), then summed per period; plus one row per line of a period
    whose kept figures are missing or stale."""
    span = Filters(min(f.start for f in filters), max(f.end for f in filters), region=filters[0].region)
    kept = roi_figures._kept(span, user, last_day)
    f = RoiFigure
    t = kept.select(ActivityStore.id.label("line_id"), Activity.period_start, Activity.period_end,
                    ActivityStore.budget, f.actual, f.baseline, f.incremental, f.incremental_gp, f.written_off,
                    f.settled, f.verified, f.required,
                    case((f.settled, f.written_off), else_=ActivityStore.budget).label("cost"),
                    kept.stale.label("stale")).where(
        or_(*[and_(Activity.period_start <= x.end, Activity.period_end >= x.start) for x in filters])
    ).where(
        # The same condition again, on the lines' activity ids: the planner then leaves the lines of
        # other periods (most of them) before joining their stores, kept figures and counters.
        ActivityStore.activity_id.in_(select(Activity.id).where(
            or_(*[and_(Activity.period_start <= x.end, Activity.period_end >= x.start) for x in filters])))
    ).cte("kept").prefix_with("MATERIALIZED")
    within = [and_(t.c.period_start <= x.end, t.c.period_end >= x.start) for x in filters]
    columns = roi_figures._sums(t)
    no_label = literal("", Text)
    sums = [select(literal(i, Integer).label("period"), literal(0, Integer).label("key"), no_label.label("label"),
                   *columns).where(w) for i, w in enumerate(within)]
    stale = select(literal(-1, Integer), t.c.line_id, no_label, *[cast(null(), BigInteger)] * len(columns)
                   ).where(t.c.stale, or_(*within))
    return union_all(*sums, stale)


def spend(user: User, periods: list[Period], as_of: date, region: Region | None = None) -> Spend:
    """The ROI page's totals (roi.figures.rollups(...).total) for each period, read in one statement;
    lines whose kept figures are missing or stale are measured first, as the ROI page does."""
    last_day = as_of - timedelta(days=1)
    filters = [Filters(p.start, p.end, region=region) for p in periods]
    rows = db.session.execute(_spend_rows(user, filters, last_day)).all()
    stale = frozenset(row.key for row in rows if row.period < 0)
    if stale:
        span = Filters(min(f.start for f in filters), max(f.end for f in filters), region=region, line_ids=stale)
        roi_figures.refresh(span, user, as_of)
        rows = db.session.execute(_spend_rows(user, filters, last_day)).all()
    by_period = {row.period: row for row in rows if row.period >= 0}
    totals = []
    for i in range(len(periods)):
        total = roi_figures._rollup(by_period[i])
        total.key = "all"
        totals.append(total)
    return Spend(compliance=figure([t.compliance.ratio for t in totals]),
                 cost=figure([Fraction(t.cost) for t in totals]),
                 roi=figure([t.roi for t in totals]),
                 budget_used=figure([t.budget_used for t in totals]), totals=totals)


# --- the manager's dashboard --------------------------------------------------------------------

@dataclass
class Overview:
    period: Period
    periods: list[Period]
    coverage: Coverage
    productivity: Productivity
    spend: Spend


def overview(user: User, period: Period, as_of: date, region: Region | None = None) -> Overview:
    zone = company_zone()
    periods = [period, period.previous(), period.last_year()]
    # The big reads run beside the spend's (which may measure stale ROI lines first: it writes): the
    # coverage of each period and the visits, each on its own connection on PostgreSQL.
    parts = coverage_parts(user, periods, zone, region)
    *stores_rows, visits_rows = reads.beside([*parts, visit_rows(user, periods, zone, region)])
    money = spend(user, periods, as_of, region)
    return Overview(period, periods, _coverage_parts([rows() for rows in stores_rows], len(periods)),
                    _productivity(visits_rows(), len(periods)), money)


def reps_named(ids) -> dict:
    """Rows (id, name, login) of the reps, by id: what the lists and exports name them by."""
    ids = list(ids)
    if not ids:
        return {}
    # One range of the key, not thousands of bound values (which cost more to send than to read).
    wanted = set(ids)
    rows = db.session.execute(select(User.id, User.name, User.login).where(User.id.between(min(wanted), max(wanted))))
    return {u.id: u for u in rows if u.id in wanted}


# --- the supervisor's dashboard ---------------------------------------------------------------

@dataclass
class WeekCell:
    day: date
    completed: int = 0
    open: int = 0        # planned or in progress, not done
    cancelled: int = 0
    seconds: float = 0.0

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@dataclass
class TeamWeek:
    monday: date
    days: list[date]
    reps: list[User]
    cells: dict[int, list[WeekCell]]

    def totals(self) -> list[WeekCell]:
        out = [WeekCell(d) for d in self.days]
        for cells in self.cells.values():
            for i, cell in enumerate(cells):
                out[i].completed += cell.completed
                out[i].open += cell.open
                out[i].cancelled += cell.cancelled
                out[i].seconds += cell.seconds
        return out


def team_of(supervisor: User) -> list[User]:
    """The reps who report to a supervisor (active ones), in the supervisor's own scope."""
    return list(db.session.execute(scope.reps(supervisor).where(User.supervisor_id == supervisor.id)
                                   .order_by(User.name, User.id)).scalars())


def team_week(viewer: User, reps: list[User], monday: date, zone: ZoneInfo) -> TeamWeek:
    """Per rep per local day of the week: visits done, still open, cancelled, and time in stores."""
    days = [monday + timedelta(days=i) for i in range(7)]
    cells = {r.id: [WeekCell(d) for d in days] for r in reps}
    if reps:
        week = Period("week", monday, days[-1])
        start, end = week.bounds(zone)
        pad = timedelta(hours=14)
        checked = local_day(Visit.checkin_at, zone.key, _zone_minutes(zone, monday))
        day = case((Visit.checkin_at.is_(None), Visit.planned_for), else_=checked)
        dwell = case((and_(Visit.status == VisitStatus.COMPLETED, Visit.checkout_at.is_not(None)),
                      seconds_between(Visit.checkin_at, Visit.checkout_at)), else_=0)
        stmt = (select(Visit.rep_id, day.label("day"), Visit.status, func.count(), func.sum(dwell))
                .where(scope.rule(Visit, viewer), Visit.rep_id.in_([r.id for r in reps]),
                       or_(and_(Visit.checkin_at >= start - pad, Visit.checkin_at < end + pad),
                           and_(Visit.checkin_at.is_(None), Visit.planned_for >= monday,
                                Visit.planned_for <= days[-1])))
                .group_by(Visit.rep_id, day, Visit.status))
        for rep_id, on, status, n, seconds in db.session.execute(stmt):
            on = date.fromisoformat(on) if isinstance(on, str) else on
            if on is None or not monday <= on <= days[-1]:
                continue
            cell = cells[rep_id][(on - monday).days]
            if status == VisitStatus.COMPLETED:
                cell.completed += n
                cell.seconds += float(seconds or 0)
            elif status == VisitStatus.CANCELLED:
                cell.cancelled += n
            else:
                cell.open += n
    return TeamWeek(monday, days, reps, cells)


def pending_evidence(viewer: User, reps: list[User]) -> dict[int, int]:
    """Evidence waiting for review, per rep who owns the store (items of the viewer's queue)."""
    if not reps:
        return {}
    waiting = queue.census(viewer).waiting()
    if not waiting:
        return {}
    lines = {key[0] for key in (w.key for w in waiting)}
    owner = dict(db.session.execute(
        select(ActivityStore.id, Store.owner_rep_id).join(Store, Store.id == ActivityStore.store_id)
        .where(ActivityStore.id.in_(sorted(lines)), Store.owner_rep_id.in_([r.id for r in reps]))).all())
    out: dict[int, int] = {}
    for w in waiting:
        rep_id = owner.get(w.key[0])
        if rep_id is not None:
            out[rep_id] = out.get(rep_id, 0) + 1
    return out


@dataclass
class TeamDay:
    lines: list            # history.TeamLine
    pending: dict[int, int]
    totals: dict


def team_day(viewer: User, supervisor: User, day: date) -> TeamDay:
    """The team's day live: each rep's visits done / planned, time in stores, flags, where they are now
    (history.team_summary, in the supervisor's scope: a subset of a manager's who watches it)."""
    lines = history.team_summary(supervisor, day)
    pending = pending_evidence(viewer, [line.rep for line in lines])
    totals = {
        "completed": sum(line.day.completed for line in lines),
        "planned": sum(line.day.completed + line.day.in_progress + line.day.planned + line.day.missed
                       for line in lines),
        "in_store": sum(1 for line in lines if line.current is not None),
        "minutes": sum(line.day.minutes_in_stores for line in lines),
        "flagged": sum(line.day.flagged for line in lines),
        "pending": sum(pending.values()),
        "missed": sum(line.day.missed for line in lines),
    }
    return TeamDay(lines, pending, totals)


def minutes_decimal(value: Fraction | None) -> Decimal | None:
    return None if value is None else Decimal(value.numerator) / Decimal(value.denominator)

