"""Which stores are due, what a rep's day holds, and in what order to walk it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, func, or_, select

from field.auth.models import User
from field.extensions import db
from field.geo import Point
from field.stores.models import TIER_FREQUENCY_DAYS, Store
from field.visits.models import FollowUp, Visit, VisitStatus
from field.visits.route import legs_m, order_stops

ROUTE_LIMIT = 40  # stops a day's route is ordered over; the rest are listed as also due


def user_zone(user: User) -> ZoneInfo:
    return ZoneInfo(user.timezone or current_app.config["DEFAULT_TIMEZONE"])


def local_today(user: User, at: datetime | None = None) -> date:
    from field.core import now
    return (at or now()).astimezone(user_zone(user)).date()


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
    leg_m: float | None = None
    urgency: float = 0.0


@dataclass
class Day:
    stops: list[Stop]
    also_due: list[Stop]
    in_progress: Visit | None
    done_today: list[Visit]
    start: Point | None


def due_stores(rep: User, today: date) -> list[Stop]:
    """The rep's active stores that are due, most overdue first."""
    stores = db.session.execute(
        select(Store).where(Store.owner_rep_id == rep.id, Store.active.is_(True))).scalars().all()
    last = last_visits([s.id for s in stores])
    zone = user_zone(rep)
    out = []
    for store in stores:
        last_at = last.get(store.id)
        last_day = last_at.astimezone(zone).date() if last_at else None
        freq = store.visit_every_days or TIER_FREQUENCY_DAYS.get(store.tier, 30)
        if is_due(last_day, freq, today):
            od = overdue_days(last_day, freq, today)
            stop = Stop(store, last_visit=last_day, overdue=od)
            stop.reasons.append(("never_visited", None) if last_day is None else ("overdue", od))
            # Never visited ranks with a long overdue; tier A before D at equal lateness.
            stop.urgency = (od if od is not None else freq) + (4 - "ABCD".index(store.tier)) * 0.1
            out.append(stop)
    out.sort(key=lambda s: -s.urgency)
    return out


def today_for(rep: User, today: date, here: Point | None = None) -> Day:
    """Today: planned visits, due stores and stores with follow-ups due, ordered into a route."""
    planned = db.session.execute(
        select(Visit).where(Visit.rep_id == rep.id, Visit.planned_for == today,
                            Visit.status == VisitStatus.PLANNED)).scalars().all()
    in_progress = db.session.execute(
        select(Visit).where(Visit.rep_id == rep.id, Visit.status == VisitStatus.IN_PROGRESS)).scalar_one_or_none()
    zone = user_zone(rep)
    start_utc = datetime.combine(today, datetime.min.time(), zone)
    done_today = db.session.execute(
        select(Visit).where(Visit.rep_id == rep.id, Visit.status == VisitStatus.COMPLETED,
                            Visit.checkout_at >= start_utc, Visit.checkout_at < start_utc + timedelta(days=1))
        .order_by(Visit.checkout_at)).scalars().all()
    visited_today = {v.store_id for v in done_today}
    if in_progress is not None:
        visited_today.add(in_progress.store_id)

    stops: dict[int, Stop] = {}
    for visit in planned:
        stop = stops.setdefault(visit.store_id, Stop(visit.store, visit=visit, urgency=1000))
        stop.reasons.append(("planned", visit.visit_type))
    follow_ups = db.session.execute(
        select(FollowUp.store_id, func.min(FollowUp.due_on))
        .join(Store, Store.id == FollowUp.store_id)
        .where(FollowUp.status == "open", Store.owner_rep_id == rep.id, Store.active.is_(True),
               or_(FollowUp.due_on.is_(None), FollowUp.due_on <= today))
        .group_by(FollowUp.store_id)).all()
    follow_up_due = dict(follow_ups)
    for stop in due_stores(rep, today):
        if stop.store.id in stops:
            stops[stop.store.id].reasons.extend(stop.reasons)
            stops[stop.store.id].last_visit, stops[stop.store.id].overdue = stop.last_visit, stop.overdue
        else:
            stops[stop.store.id] = stop
    if follow_up_due:
        missing = [sid for sid in follow_up_due if sid not in stops]
        for store in db.session.execute(select(Store).where(Store.id.in_(missing))).scalars():
            stops[store.id] = Stop(store, urgency=500)
        for sid, due in follow_up_due.items():
            stops[sid].reasons.append(("follow_up", due))
            stops[sid].urgency = max(stops[sid].urgency, 500)

    candidates = [s for sid, s in stops.items() if sid not in visited_today]
    candidates.sort(key=lambda s: -s.urgency)
    routed, also_due = candidates[:ROUTE_LIMIT], candidates[ROUTE_LIMIT:]
    with_position = [s for s in routed if s.store.point is not None]
    without_position = [s for s in routed if s.store.point is None]
    points = [s.store.point for s in with_position]
    order = order_stops(here, points)
    ordered = [with_position[i] for i in order]
    for stop, leg in zip(ordered, legs_m(here, [s.store.point for s in ordered])):
        stop.leg_m = leg
    return Day(ordered + without_position, also_due, in_progress, done_today, here)
