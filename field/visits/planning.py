"""Which stores are due, what a rep's day holds, and in what order to walk it.

What activities know (stores with one live, stores whose activity still wants evidence) comes
through field.providers: visits sits below activities and never imports it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import Select, and_, bindparam, func, null, or_, select
from sqlalchemy.orm import joinedload

from field import audit, permissions, providers
from field.auth.models import User
from field.core import DomainError, local_today, user_zone  # noqa: F401  (local_today: callers read it here too)
from field.extensions import db
from field.geo import Point
from field.stores.models import Store, frequency_days
from field.visits.models import FollowUp, Visit, VisitStatus, VisitType
from field.visits.route import legs_m, order_stops
from field.visits.words import word_list

MAX_PLAN_AHEAD_DAYS = 60  # how far ahead a visit may be planned
ROUTE_LIMIT = 40  # stops a day's route is ordered over; the rest are listed as also due


def is_due(last_visit: date | None, frequency_days: int, today: date) -> bool:
    """Due when the last completed visit is at least `frequency_days` old, or there was none."""
    return last_visit is None or (today - last_visit).days >= frequency_days


def overdue_days(last_visit: date | None, frequency_days: int, today: date) -> int | None:
    """Days past the date the store should have been visited again (0 = due today)."""
    if last_visit is None:
        return None
    return (today - last_visit).days - frequency_days


def last_visits(store_ids) -> dict[int, datetime]:
    """The last completed visit (check-out time) per store: one aggregate query."""
    if not store_ids:
        return {}
    rows = db.session.execute(
        select(Visit.store_id, func.max(Visit.checkout_at))
        .where(Visit.store_id.in_(store_ids), Visit.status == VisitStatus.COMPLETED)
        .group_by(Visit.store_id)).all()
    return {sid: at for sid, at in rows}


@dataclass
class Stop:
    store: Store
    reasons: list[tuple[str, object]] = field(default_factory=list)  # (code, detail)
    visit: Visit | None = None
    last_visit: date | None = None
    overdue: int | None = None
    due_on: date | None = None  # the day the store should be visited again (None: never visited)
    leg_m: float | None = None
    urgency: float = 0.0


@dataclass
class Day:
    stops: list[Stop]
    also_due: list[Stop]
    in_progress: Visit | None
    done_today: list[Visit]
    start: Point | None
    # Where the route starts: "position" (the phone's), "in_progress" or "last_visit" (a store the rep
    # is at or just left), or None (no start: the first stop is where the rep begins).
    start_from: str | None = None
    start_store: Store | None = None

    @property
    def total_m(self) -> float:
        return sum(s.leg_m for s in self.stops if s.leg_m is not None)

    @property
    def routed(self) -> list[Stop]:
        return [s for s in self.stops if s.store.point is not None]

    @property
    def unplaced(self) -> list[Stop]:
        """Stops of the route whose store has no position on file: listed after it, in order of urgency."""
        return [s for s in self.stops if s.store.point is None]


@dataclass
class _Scan:
    due: dict[int, Stop]  # the due stores as Stops, their Store not loaded yet
    follow_ups: dict[int, date | None] = field(default_factory=dict)  # store id → earliest open follow-up due
    running: list[int] = field(default_factory=list)  # stores with an approved or running activity that day


@cache
def _scan_query(for_today: bool) -> Select:
    """_scan()'s query, built once with the rep and the day as parameters: SQLAlchemy takes longer to
    build it (0.4 ms) than SQLite to run it.

    Which are due is decided on a few columns, with each store's last completed visit (by anyone)
    beside them — a per-store lookup on the visits' store index, whatever the table's size or
    statistics — so only the stores that are due get loaded whole. For Today the rep's follow-ups
    due and stores with a live activity are joined on, each read once: one query where there were
    three, and activities are then asked about only the few stores with one running, not all 300.
    The live ones are activities' answer to live_activity_stores (none when nothing answers)."""
    rep_id, today = bindparam("rep_id"), bindparam("today")
    last_at = (select(func.max(Visit.checkout_at))
               .where(Visit.store_id == Store.id, Visit.status == VisitStatus.COMPLETED)
               .correlate(Store).scalar_subquery())
    stmt = (select(Store.id, Store.tier, Store.visit_every_days, last_at)
            .where(Store.owner_rep_id == rep_id, Store.active.is_(True)))
    if not for_today:
        return stmt
    follow_ups = (select(FollowUp.store_id, func.count().label("open"), func.min(FollowUp.due_on).label("first"))
                  .join(Store, Store.id == FollowUp.store_id)
                  .where(Store.owner_rep_id == rep_id, FollowUp.status == "open",
                         or_(FollowUp.due_on.is_(None), FollowUp.due_on <= today))
                  .group_by(FollowUp.store_id).subquery())
    stmt = (stmt.add_columns(follow_ups.c.open, follow_ups.c.first)
            .outerjoin(follow_ups, follow_ups.c.store_id == Store.id))
    live = providers.ask("live_activity_stores", rep_id, today)
    if live is None:
        return stmt.add_columns(null())
    live = live.subquery()
    live_id = next(iter(live.c))
    return stmt.add_columns(live_id).outerjoin(live, live_id == Store.id)


def _scan(rep: User, today: date, within: Select | None = None, for_today: bool = False) -> _Scan:
    """One pass over the rep's active stores (those in `within` only, if given): which are due, and
    for Today which have open follow-ups due by today (or undated) and which have an activity live."""
    stmt = _scan_query(for_today)
    if within is not None:
        stmt = stmt.where(Store.id.in_(within))
    zone = user_zone(rep)
    out = _Scan({})
    for row in db.session.execute(stmt, {"rep_id": rep.id, "today": today}):
        store_id, tier, every, at, *more = row
        last_day = at.astimezone(zone).date() if at else None
        freq = frequency_days(tier, every)
        if is_due(last_day, freq, today):
            od = overdue_days(last_day, freq, today)
            stop = Stop(None, last_visit=last_day, overdue=od,
                        due_on=last_day + timedelta(days=freq) if last_day else None)
            stop.reasons.append(("never_visited", None) if last_day is None else ("overdue", od))
            # Never visited ranks with a long overdue; tier A before D at equal lateness.
            stop.urgency = (od if od is not None else freq) + (4 - "ABCD".index(tier)) * 0.1
            out.due[store_id] = stop
        if more:
            open_follow_ups, first_due, running = more
            if open_follow_ups:
                out.follow_ups[store_id] = first_due
            if running is not None:
                out.running.append(store_id)
    return out


def _load_stores(stops: dict[int, Stop]) -> None:
    """Give the stops that have none their Store, in one query."""
    missing = [sid for sid, stop in stops.items() if stop.store is None]
    if missing:
        for store in db.session.execute(select(Store).where(Store.id.in_(missing))).scalars():
            stops[store.id].store = store


def _by_urgency(stops: dict[int, Stop]) -> list[Stop]:
    """Most urgent first; at equal urgency the older store (lower id) first, so the order is stable."""
    return [stop for _id, stop in sorted(stops.items(), key=lambda item: (-item[1].urgency, item[0]))]


def due_stores(rep: User, today: date, within: Select | None = None) -> list[Stop]:
    """The rep's active stores that are due, most overdue first. `within` (a select of store ids)
    narrows them, e.g. to what a planner may see."""
    due = _scan(rep, today, within).due
    _load_stores(due)
    return _by_urgency(due)


@cache
def _visits_today_query() -> Select:
    """_visits_today()'s query, built once (as _scan_query()). Its three branches are ranges of the
    visits' (rep, status, checkout) index, however many visits the rep has made."""
    rep_id, today, start, end = bindparam("rep_id"), bindparam("today"), bindparam("start"), bindparam("end")
    return (select(Visit).where(Visit.rep_id == rep_id, or_(
        and_(Visit.planned_for == today, Visit.status == VisitStatus.PLANNED),
        Visit.status == VisitStatus.IN_PROGRESS,
        and_(Visit.status == VisitStatus.COMPLETED, Visit.checkout_at >= start, Visit.checkout_at < end)))
        .options(joinedload(Visit.store), joinedload(Visit.visit_type)).order_by(Visit.id))


def _visits_today(rep: User, today: date) -> tuple[list[Visit], Visit | None, list[Visit]]:
    """The rep's visits that shape today, in one query: planned for today, in progress (whenever it
    started), and completed today (by check-out time, in the order they ended)."""
    start_utc = datetime.combine(today, datetime.min.time(), user_zone(rep))
    visits = db.session.execute(_visits_today_query(), {"rep_id": rep.id, "today": today, "start": start_utc,
                                                        "end": start_utc + timedelta(days=1)}).scalars().all()
    planned = [v for v in visits if v.status == VisitStatus.PLANNED]
    in_progress = next((v for v in visits if v.status == VisitStatus.IN_PROGRESS), None)
    done = sorted((v for v in visits if v.status == VisitStatus.COMPLETED), key=lambda v: v.checkout_at)
    return planned, in_progress, done


def _start(here: Point | None, in_progress: Visit | None, done_today: list[Visit]):
    """Where today's route starts: the phone's position, else the store the rep is in or last left."""
    if here is not None:
        return here, "position", None
    if in_progress is not None and in_progress.store.point is not None:
        return in_progress.store.point, "in_progress", in_progress.store
    last = next((v for v in reversed(done_today) if v.store.point is not None), None)
    if last is not None:
        return last.store.point, "last_visit", last.store
    return None, None, None


def _activities_needing_evidence(rep: User, today: date, running: list[int]) -> dict[int, list[str]]:
    """Of the rep's stores with an activity running, those where it still wants evidence this period,
    with its titles."""
    if not running:
        return {}
    return providers.ask("needs_evidence", running, today, rep, default={})


def today_for(rep: User, today: date, here: Point | None = None) -> Day:
    """Today: planned visits, due stores and stores with follow-ups due, ordered into a route.

    The most urgent ROUTE_LIMIT stops (planned first, then follow-ups due, then the most overdue) are
    ordered from where the rep stands, else from the store they are in or last left, else from the
    most urgent stop; the rest are listed as also due. A store visited today is not offered again.
    Three queries whatever the number of stores, and the activities' evidence ones when an activity
    runs at one of them."""
    planned, in_progress, done_today = _visits_today(rep, today)
    visited_today = {v.store_id for v in done_today}
    if in_progress is not None:
        visited_today.add(in_progress.store_id)

    stops: dict[int, Stop] = {}
    for visit in planned:
        stop = stops.setdefault(visit.store_id, Stop(visit.store, visit=visit, urgency=1000))
        stop.reasons.append(("planned", visit.visit_type))
    scan = _scan(rep, today, for_today=True)
    for store_id, stop in scan.due.items():
        known = stops.get(store_id)
        if known is None:
            stops[store_id] = stop
        else:
            known.reasons.extend(stop.reasons)
            known.last_visit, known.overdue, known.due_on = stop.last_visit, stop.overdue, stop.due_on
    for store_id, due in scan.follow_ups.items():
        stop = stops.setdefault(store_id, Stop(None))
        stop.reasons.append(("follow_up", due))
        stop.urgency = max(stop.urgency, 500)
    for store_id, titles in _activities_needing_evidence(rep, today, scan.running).items():
        stop = stops.setdefault(store_id, Stop(None))
        stop.reasons.append(("activity", titles))
        stop.urgency = max(stop.urgency, 300)
    for store_id in visited_today:
        stops.pop(store_id, None)
    _load_stores(stops)

    candidates = _by_urgency(stops)
    routed, also_due = candidates[:ROUTE_LIMIT], candidates[ROUTE_LIMIT:]
    with_position = [s for s in routed if s.store.point is not None]
    without_position = [s for s in routed if s.store.point is None]
    start, start_from, start_store = _start(here, in_progress, done_today)
    order = order_stops(start, [s.store.point for s in with_position])
    ordered = [with_position[i] for i in order]
    for stop, leg in zip(ordered, legs_m(start, [s.store.point for s in ordered])):
        stop.leg_m = leg
    return Day(ordered + without_position, also_due, in_progress, done_today, start, start_from, start_store)


# --- the supervisor's plan ---------------------------------------------------------------------

def due_in_week(rep: User, monday: date, today: date, within: Select | None = None) -> list[Stop]:
    """The rep's stores that are due, or fall due, by the Sunday of the week starting `monday`.

    Lateness (Stop.overdue) counts from the first day of the week still ahead — today, or the Monday
    of a later week — so a store falling due on Thursday reads -3 on Monday ("due Thursday")."""
    first = max(today, monday)
    stops = due_stores(rep, monday + timedelta(days=6), within)
    for stop in stops:
        stop.overdue = (first - stop.due_on).days if stop.due_on is not None else None
    return stops


def planned_days(rep: User, first: date, last: date) -> dict[int, list[date]]:
    """Days each store is planned for (visits still planned) between first and last: store id → days."""
    out: dict[int, list[date]] = {}
    rows = db.session.execute(
        select(Visit.store_id, Visit.planned_for)
        .where(Visit.rep_id == rep.id, Visit.status == VisitStatus.PLANNED,
               Visit.planned_for >= first, Visit.planned_for <= last)
        .order_by(Visit.planned_for)).all()
    for store_id, day in rows:
        out.setdefault(store_id, []).append(day)
    return out


@dataclass
class PlanOutcome:
    planned: list[Visit]
    already: list[Store]  # planned for that day before: left as they were


def plan_visits(planner: User, rep: User, stores: list[Store], visit_type: VisitType, on: date) -> PlanOutcome:
    """Put visits to `stores` on a rep's calendar for one day, in one transaction, each audited.

    For every store: a day from today up to MAX_PLAN_AHEAD_DAYS ahead, an active rep, an
    active store; a store already planned for the
    rep that day is left as it is, never planned twice. A refusal writes nothing."""
    today = local_today(planner)
    if on < today:
        raise DomainError(_("That day is in the past: plan for today or a later day."))
    if on > today + timedelta(days=MAX_PLAN_AHEAD_DAYS):
        raise DomainError(_("Plan for a day from today up to %(n)s days ahead.", n=MAX_PLAN_AHEAD_DAYS))
    if not permissions.is_rep(rep) or not rep.active:
        raise DomainError(_("Visits are planned for active reps."))
    if not stores:
        raise DomainError(_("Pick at least one store."))
    closed = [s.name for s in stores if not s.active]
    if closed:
        raise DomainError(_("These stores are deactivated: %(stores)s", stores=word_list(closed)))
    if not visit_type.active:
        raise DomainError(_("This visit type is no longer in use."))
    taken = set(db.session.execute(select(Visit.store_id).where(
        Visit.rep_id == rep.id, Visit.planned_for == on, Visit.status == VisitStatus.PLANNED,
        Visit.store_id.in_([s.id for s in stores]))).scalars())
    outcome = PlanOutcome([], [])
    for store in {s.id: s for s in stores}.values():
        if store.id in taken:
            outcome.already.append(store)
            continue
        visit = Visit(rep=rep, store=store, visit_type=visit_type, planned_for=on, planned_by=planner,
                      status=VisitStatus.PLANNED, flags=[])
        db.session.add(visit)
        audit.record("visit.plan", visit, actor=planner, store=store.code, rep=rep.login, on=on.isoformat())
        outcome.planned.append(visit)
    return outcome
