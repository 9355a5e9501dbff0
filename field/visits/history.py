"""Visit history: a store's timeline, a rep's day and week, a team's day, flagged visits, flags in words.

Read-only. The sums (distance travelled, time in stores, counts) are plain functions over
visits so they are tested without a request; the summaries query once per page and
return plain data. A rep's day is the rep's local calendar day: a visit belongs to the
day of its check-in, or — never checked in — to the day it was planned for."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import format_decimal, gettext as _
from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from field import scope
from field.auth.models import User
from field.core import format_money, local_today, user_zone
from field.extensions import db
from field.geo import Point, distance_m, valid_lat_lng
from field.stores.models import Store
from field.visits.checkin import IMPLAUSIBLE_ACCURACY_M, MAX_SPEED_KMH, POOR_ACCURACY_M, Flag
from field.visits.models import CoVisit, FollowUp, StepKind, StepResult, Visit, VisitStatus
from field.web import Page, paginate

# Local days are never more than 14 hours away from UTC: load that much either side, then sort by zone.
_ZONE_PADDING = timedelta(hours=14)
FLAG_CODES = (Flag.OUTSIDE_GEOFENCE, Flag.NO_POSITION, Flag.POOR_ACCURACY, Flag.STALE_POSITION,
              Flag.IMPOSSIBLE_TRAVEL, Flag.SHORT_DWELL, Flag.LATE_SYNC, Flag.CLOCK_SKEW, Flag.OUT_OF_ORDER,
              Flag.IMPLAUSIBLE_ACCURACY)


# --- flags in words -------------------------------------------------------------------------------

_FLAG_LABELS = {
    Flag.OUTSIDE_GEOFENCE: lambda: _("Outside the fence"),
    Flag.NO_POSITION: lambda: _("No position"),
    Flag.POOR_ACCURACY: lambda: _("Poor accuracy"),
    Flag.IMPLAUSIBLE_ACCURACY: lambda: _("Likely mocked location"),
    Flag.STALE_POSITION: lambda: _("Stale position"),
    Flag.IMPOSSIBLE_TRAVEL: lambda: _("Impossible travel"),
    Flag.SHORT_DWELL: lambda: _("Short visit"),
    Flag.LATE_SYNC: lambda: _("Synced late"),
    Flag.CLOCK_SKEW: lambda: _("Phone clock off"),
    Flag.OUT_OF_ORDER: lambda: _("Out of order"),
}


def flag_label(code: str) -> str:
    """A flag's name in a few words, for badges and filters."""
    make = _FLAG_LABELS.get(code)
    return make() if make else str(code or "")


def _number(value) -> str:
    try:
        return format_decimal(value, format="#,##0.#")
    except (TypeError, ValueError, ArithmeticError):
        return str(value)


def flag_text(flag: dict, visit: Visit | None = None) -> str:
    """One flag as a sentence with its figures and the rep's typed reason, e.g.
    'Checked in 812 m from the store (fence 200 m): “store moved”'. The fence comes from the
    flag if it carries one, else from the visit's store."""
    flag = flag if isinstance(flag, dict) else {"code": str(flag)}
    code = flag.get("code")
    at_checkout = flag.get("at") == "check_out"
    fence = flag.get("fence_m", flag.get("geofence_m"))
    if fence is None and visit is not None and visit.store is not None:
        fence = visit.store.geofence_m
    if code == Flag.OUTSIDE_GEOFENCE:
        metres = flag.get("distance_m")
        if metres is None:
            text = _("Checked out outside the store's fence") if at_checkout else _(
                "Checked in outside the store's fence")
        elif fence is None:
            text = (_("Checked out %(m)s m from the store, outside its fence", m=_number(metres)) if at_checkout
                    else _("Checked in %(m)s m from the store, outside its fence", m=_number(metres)))
        else:
            text = (_("Checked out %(m)s m from the store (fence %(fence)s m)", m=_number(metres),
                      fence=_number(fence)) if at_checkout
                    else _("Checked in %(m)s m from the store (fence %(fence)s m)", m=_number(metres),
                           fence=_number(fence)))
    elif code == Flag.NO_POSITION:
        text = _("Checked out without a position") if at_checkout else _("Checked in without a position")
    elif code == Flag.POOR_ACCURACY:
        if flag.get("accuracy_m") is not None:
            text = _("Position accurate only to %(m)s m (limit %(limit)s m)", m=_number(flag["accuracy_m"]),
                     limit=_number(POOR_ACCURACY_M))
        else:
            text = _("Position less accurate than %(limit)s m", limit=_number(POOR_ACCURACY_M))
        if at_checkout:
            text = _("At check-out: %(text)s", text=text)
    elif code == Flag.IMPLAUSIBLE_ACCURACY:
        if isinstance(flag.get("accuracy_m"), (int, float)):
            text = _("Accuracy of %(m)s m claimed, finer than a phone can fix: likely a mocked location",
                     m=f"{flag['accuracy_m']:g}")
        else:
            text = _("Accuracy finer than %(floor)s m claimed: likely a mocked location",
                     floor=_number(IMPLAUSIBLE_ACCURACY_M))
        if at_checkout:
            text = _("At check-out: %(text)s", text=text)
    elif code == Flag.STALE_POSITION:
        text = _("The phone's position was more than 2 minutes old")
    elif code == Flag.IMPOSSIBLE_TRAVEL:
        if flag.get("speed_kmh") is not None:
            text = _("%(speed)s km/h needed since the previous check-in (limit %(limit)s km/h)",
                     speed=_number(flag["speed_kmh"]), limit=_number(MAX_SPEED_KMH))
        else:
            text = _("Faster than %(limit)s km/h since the previous check-in", limit=_number(MAX_SPEED_KMH))
    elif code == Flag.SHORT_DWELL:
        text = _("%(m)s min in the store; this visit type asks for %(min)s min",
                 m=_number(flag.get("minutes", "?")), min=_number(flag.get("minimum", "?")))
    elif code == Flag.LATE_SYNC:
        text = _("Reached the server %(m)s min after the rep tapped", m=_number(abs(flag.get("minutes", 0))))
    elif code == Flag.CLOCK_SKEW:
        text = _("The phone's clock was %(m)s min off the server's", m=_number(abs(flag.get("minutes", 0))))
    elif code == Flag.OUT_OF_ORDER:
        text = _("The phone puts this %(m)s min before the check-in", m=_number(abs(flag.get("minutes", 0))))
    else:
        text = flag_label(code)
    reason = str(flag.get("reason") or "").strip()
    if reason:
        text = _("%(text)s: “%(reason)s”", text=text, reason=reason)
    return text


# --- pure sums --------------------------------------------------------------------------------------

def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where a local calendar day starts and the next one starts."""
    start = datetime.combine(day, time.min, zone)
    end = datetime.combine(day + timedelta(days=1), time.min, zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def local_day(visit: Visit, zone: ZoneInfo) -> date | None:
    """The local day a visit belongs to: its check-in's, else the day it was planned for."""
    if visit.checkin_at is not None:
        return visit.checkin_at.astimezone(zone).date()
    return visit.planned_for


def checkin_point(visit: Visit) -> Point | None:
    if visit.checkin_lat is None or visit.checkin_lng is None:
        return None
    if not valid_lat_lng(visit.checkin_lat, visit.checkin_lng):
        return None
    return Point(visit.checkin_lat, visit.checkin_lng)


def legs(points: list[Point | None]) -> list[float | None]:
    """Metres from the previous known position to each one; None for the first and for unknown ones."""
    out, previous = [], None
    for point in points:
        if point is None:
            out.append(None)
            continue
        out.append(distance_m(previous, point) if previous is not None else None)
        previous = point
    return out


def travelled_m(points: list[Point | None]) -> float:
    """Geodesic sum between consecutive known positions; unknown positions are skipped."""
    return sum(leg for leg in legs(points) if leg is not None)


def minutes_in_stores(visits) -> float:
    """Sum of dwell (check-in to check-out) of the visits that have both."""
    total = 0.0
    for visit in visits:
        if visit.checkin_at is not None and visit.checkout_at is not None and visit.checkout_at >= visit.checkin_at:
            total += (visit.checkout_at - visit.checkin_at).total_seconds() / 60
    return total


def _sort_key(visit: Visit):
    at = visit.checkin_at or datetime.max.replace(tzinfo=timezone.utc)
    return (visit.checkin_at is None, at, visit.id or 0)


# --- a rep's day and week ----------------------------------------------------------------------------

@dataclass
class VisitLine:
    visit: Visit
    leg_m: float | None  # from the previous check-in position that day

    @property
    def dwell_minutes(self) -> float | None:
        return self.visit.dwell_minutes


@dataclass
class DaySummary:
    rep: User
    day: date
    lines: list[VisitLine] = field(default_factory=list)
    distance_m: float = 0.0
    minutes_in_stores: float = 0.0
    completed: int = 0
    in_progress: int = 0
    planned: int = 0       # planned for the day and not started, while the day lasts
    missed: int = 0        # planned for the day and never started, the day being over
    past: bool = False     # the day is over in the rep's time zone
    cancelled: int = 0
    flagged: int = 0       # visits with at least one flag
    flags: int = 0         # flags in all

    @property
    def visits(self) -> list[Visit]:
        return [line.visit for line in self.lines]

    @property
    def current(self) -> Visit | None:
        return next((v for v in self.visits if v.status == VisitStatus.IN_PROGRESS), None)


def summarise_day(rep: User, day: date, visits) -> DaySummary:
    """The figures of one rep's day from its visits (already chosen for that day)."""
    ordered = sorted(visits, key=_sort_key)
    summary = DaySummary(rep, day, past=day < local_today(rep))
    points = [checkin_point(v) for v in ordered]
    summary.lines = [VisitLine(v, leg) for v, leg in zip(ordered, legs(points))]
    summary.distance_m = travelled_m(points)
    summary.minutes_in_stores = minutes_in_stores(ordered)
    for visit in ordered:
        if visit.status == VisitStatus.COMPLETED:
            summary.completed += 1
        elif visit.status == VisitStatus.IN_PROGRESS:
            summary.in_progress += 1
        elif visit.status == VisitStatus.PLANNED and summary.past:
            summary.missed += 1
        elif visit.status == VisitStatus.PLANNED:
            summary.planned += 1
        elif visit.status == VisitStatus.CANCELLED:
            summary.cancelled += 1
        if visit.flags:
            summary.flagged += 1
            summary.flags += len(visit.flags)
    return summary


def _visits_for(rep_ids: list[int], first: date, last: date) -> list[Visit]:
    """Visits of these reps that may fall on first..last in any zone (the caller sorts them by local day)."""
    if not rep_ids:
        return []
    start = datetime.combine(first, time.min, timezone.utc) - _ZONE_PADDING
    end = datetime.combine(last + timedelta(days=1), time.min, timezone.utc) + _ZONE_PADDING
    stmt = (select(Visit)
            .where(Visit.rep_id.in_(rep_ids),
                   or_(and_(Visit.checkin_at >= start, Visit.checkin_at < end),
                       and_(Visit.checkin_at.is_(None), Visit.planned_for >= first, Visit.planned_for <= last)))
            .options(joinedload(Visit.store), joinedload(Visit.visit_type)))
    return list(db.session.execute(stmt).unique().scalars())


def day_summary(rep: User, day: date) -> DaySummary:
    """A rep's visits on a local day, with distance travelled, time in stores and counts."""
    zone = user_zone(rep)
    visits = [v for v in _visits_for([rep.id], day, day) if local_day(v, zone) == day]
    return summarise_day(rep, day, visits)


def _days_total(name: str) -> property:
    """A week's figure: the sum of its days' `name`."""
    return property(lambda week: sum(getattr(day, name) for day in week.days))


@dataclass
class WeekSummary:
    rep: User
    monday: date
    days: list[DaySummary]

    distance_m = _days_total("distance_m")
    minutes_in_stores = _days_total("minutes_in_stores")
    completed = _days_total("completed")
    in_progress = _days_total("in_progress")
    planned = _days_total("planned")
    missed = _days_total("missed")
    cancelled = _days_total("cancelled")
    flagged = _days_total("flagged")
    flags = _days_total("flags")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_summary(rep: User, monday: date) -> WeekSummary:
    """Seven day summaries from `monday` (any day is moved back to its Monday); the week's distance
    is the sum of the days' (the night between two days is not travel for work)."""
    monday = monday_of(monday)
    zone = user_zone(rep)
    by_day: dict[date, list[Visit]] = {}
    for visit in _visits_for([rep.id], monday, monday + timedelta(days=6)):
        by_day.setdefault(local_day(visit, zone), []).append(visit)
    days = [summarise_day(rep, d, by_day.get(d, []))
            for d in (monday + timedelta(days=i) for i in range(7))]
    return WeekSummary(rep, monday, days)


# --- the team's day ---------------------------------------------------------------------------------

@dataclass
class TeamLine:
    rep: User
    day: DaySummary
    current: Visit | None  # the visit in progress now, whatever day it started


def team_reps(user: User) -> list[User]:
    """The active reps a user watches: a supervisor's team, a manager's regions' reps, all for an admin."""
    stmt = scope.reps(user).order_by(User.name, User.id)
    return list(db.session.execute(stmt).scalars())


def team_summary(user: User, day: date) -> list[TeamLine]:
    """Each rep in the user's scope on a local day: counts, distance, time in stores, where they are now."""
    reps = team_reps(user)
    if not reps:
        return []
    ids = [r.id for r in reps]
    by_rep: dict[int, list[Visit]] = {}
    for visit in _visits_for(ids, day, day):
        by_rep.setdefault(visit.rep_id, []).append(visit)
    current = {v.rep_id: v for v in db.session.execute(
        select(Visit).where(Visit.rep_id.in_(ids), Visit.status == VisitStatus.IN_PROGRESS)
        .options(joinedload(Visit.store))).scalars()}
    out = []
    for rep in reps:
        zone = user_zone(rep)
        visits = [v for v in by_rep.get(rep.id, []) if local_day(v, zone) == day]
        out.append(TeamLine(rep, summarise_day(rep, day, visits), current.get(rep.id)))
    return out


# --- pages of visits ---------------------------------------------------------------------------------

def _newest_first():
    return (func.coalesce(Visit.checkin_at, Visit.created_at).desc(), Visit.id.desc())


# --- a store's timeline ----------------------------------------------------------------------------

@dataclass
class TimelineEntry:
    visit: Visit
    results: list[str]            # one line per step result, in the type's order
    objectives_met: list[str]
    objectives_not_met: list[str]
    objectives_open: list[str]    # not marked either way
    follow_ups: list[FollowUp]
    co_visit: CoVisit | None


def result_summary(result: StepResult, locale: str | None = None) -> str:
    """One step result in a line: 'Store check: 3/4 passed', 'Order: ¥123.00 (2 lines)'…"""
    title = result.step.label(locale) if result.step is not None else ""
    if result.status == "skipped":
        return _("%(step)s: skipped (%(reason)s)", step=title, reason=result.skip_reason or "—")
    value = result.value or {}
    kind = result.step.kind if result.step is not None else ""
    if kind == StepKind.CHECKLIST:
        text = _("%(passed)s/%(total)s passed", passed=value.get("passed", 0), total=value.get("total", 0))
    elif kind == StepKind.ORDER_LINES:
        lines = value.get("lines", [])
        text = _("%(total)s (%(n)s lines)", total=format_money(value.get("total", 0)), n=len(lines))
    elif kind == StepKind.SHELF_SHARE:
        text = _("%(pct)s %% (%(ours)s of %(all)s facings)", pct=_number(value.get("share_pct", 0)),
                 ours=value.get("ours", 0), all=value.get("total", 0))
    elif kind == StepKind.STOCK_COUNT:
        lines = value.get("lines", [])
        units = sum(int(line.get("shelf", 0)) + int(line.get("back", 0)) for line in lines)
        text = _("%(n)s products, %(units)s units", n=len(lines), units=units)
    elif kind == StepKind.NUMBER:
        unit = (result.step.config or {}).get("unit", "")
        text = f"{value.get('value', '')} {unit}".strip()
    elif kind == StepKind.CHOICE:
        text = str(value.get("choice", ""))
    elif kind == StepKind.MULTI_CHOICE:
        text = "、".join(value.get("choices", []))
    elif kind == StepKind.TEXT:
        body = str(value.get("text", ""))
        text = body if len(body) <= 80 else body[:79] + "…"
    elif kind == StepKind.SIGNATURE:
        text = _("signed by %(name)s", name=value.get("signer", ""))
    elif kind == StepKind.SCORECARD:
        scores = value.get("scores", value)
        text = _("score %(n)s", n=sum(v for v in scores.values() if isinstance(v, (int, float))))
    elif kind == StepKind.PHOTO:
        text = _("done")
    else:
        text = _("done")
    return _("%(step)s: %(value)s", step=title, value=text)


def store_timeline(store: Store, page: int = 1, per_page: int = 20, locale: str | None = None) -> Page:
    """The visits made at a store, newest first, each with its results, objectives, follow-ups and co-visit.

    The store comes from the caller's scope: whoever may see the store sees who visited it
    and what was found, so the next visitor knows the store's story."""
    stmt = (select(Visit)
            .where(Visit.store_id == store.id, Visit.status != VisitStatus.PLANNED)
            .options(joinedload(Visit.rep), joinedload(Visit.visit_type),
                     selectinload(Visit.results).joinedload(StepResult.step), selectinload(Visit.objectives))
            .order_by(*_newest_first()))
    result = paginate(stmt, page, per_page, unique=True)
    ids = [v.id for v in result.items]
    follow_ups: dict[int, list[FollowUp]] = {}
    co_visits: dict[int, CoVisit] = {}
    if ids:
        for f in db.session.execute(select(FollowUp).where(FollowUp.visit_id.in_(ids))
                                    .options(joinedload(FollowUp.owner)).order_by(FollowUp.id)).scalars():
            follow_ups.setdefault(f.visit_id, []).append(f)
        for co in db.session.execute(select(CoVisit).where(CoVisit.visit_id.in_(ids))
                                     .options(joinedload(CoVisit.supervisor)).order_by(CoVisit.id)).scalars():
            co_visits.setdefault(co.visit_id, co)
    entries = []
    for visit in result.items:
        results = sorted(visit.results, key=lambda r: (r.step.position if r.step is not None else 0, r.id))
        entries.append(TimelineEntry(
            visit=visit,
            results=[result_summary(r, locale) for r in results],
            objectives_met=[o.text for o in visit.objectives if o.met is True],
            objectives_not_met=[o.text for o in visit.objectives if o.met is False],
            objectives_open=[o.text for o in visit.objectives if o.met is None],
            follow_ups=follow_ups.get(visit.id, []),
            co_visit=co_visits.get(visit.id)))
    result.items = entries
    return result


def upcoming_at(store: Store, today: date, limit: int = 5) -> list[Visit]:
    """Visits planned at the store and not started: the next `limit` from today on, soonest first,
    then up to `limit` whose day is over (missed), latest first — so old misses never hide what is next."""
    planned = select(Visit).where(Visit.store_id == store.id, Visit.status == VisitStatus.PLANNED).options(
        joinedload(Visit.rep), joinedload(Visit.visit_type))
    ahead = db.session.execute(planned.where(Visit.planned_for >= today)
                               .order_by(Visit.planned_for, Visit.id).limit(limit)).scalars()
    missed = db.session.execute(planned.where(Visit.planned_for < today)
                                .order_by(Visit.planned_for.desc(), Visit.id.desc()).limit(limit)).scalars()
    return [*ahead, *missed]


# --- flagged visits ----------------------------------------------------------------------------------

def _flags_text():
    # Flags are a JSON list; as text it reads '[{"code": "outside_geofence", …}]' on SQLite and PostgreSQL alike.
    return cast(Visit.flags, Text)


def flagged_visits(user: User, code: str | None = None, rep_id: int | None = None,
                   page: int = 1, per_page: int = 20) -> Page:
    """Visits with at least one flag that the user may see, newest first; optionally one flag code, one rep."""
    if code and code not in FLAG_CODES:
        raise ValueError(f"unknown flag code: {code}")
    stmt = (scope.visits(user)
            .where(_flags_text().like('%"code"%'))
            .options(joinedload(Visit.rep), joinedload(Visit.store), joinedload(Visit.visit_type))
            .order_by(*_newest_first()))
    if code:
        stmt = stmt.where(_flags_text().like(f'%"code": "{code}"%'))
    if rep_id is not None:
        stmt = stmt.where(Visit.rep_id == rep_id)
    return paginate(stmt, page, per_page, unique=True)
