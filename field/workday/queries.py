"""What the workday pages show: a rep's days (one or a week: two queries whatever the span), the team's day
(who started, who did not, who visited without starting) and the home card. Read through field.scope."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import load_only, selectinload

from field import scope
from field.auth.models import User
from field.core import now, user_zone
from field.extensions import db
from field.visits.models import Visit, VisitStatus
from field.visits.route import legs_m, order_stops
from field.stores.models import Store
from field.workday import rules
from field.workday.models import Workday


@dataclass
class Day:
    day: date
    workday: Workday | None
    stops: list[rules.Stop] = field(default_factory=list)
    mileage: rules.Mileage = field(default_factory=rules.Mileage)
    times: rules.Times | None = None
    visits: int = 0
    planned_m: float | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def difference_m(self) -> float | None:
        return self.mileage.counted_m - self.planned_m if self.planned_m is not None else None


def _bounds(first: date, last: date, zone) -> tuple[datetime, datetime]:
    a = datetime.combine(first, time(0), tzinfo=zone).astimezone(timezone.utc)
    b = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(timezone.utc)
    return a, b


def rep_days(viewer: User, rep: User, first: date, last: date, with_plan: bool = True) -> list[Day]:
    """The rep's days from first to last (inclusive), each with its timeline, times, mileage and flags."""
    zone = user_zone(rep)
    a, b = _bounds(first, last, zone)
    workdays = {w.day: w for w in db.session.execute(
        scope.query(Workday, viewer).where(Workday.rep_id == rep.id, Workday.day >= first, Workday.day <= last))
        .scalars()}
    visits_by_day: dict[date, list[Visit]] = defaultdict(list)
    for v in db.session.execute(
            scope.visits(viewer).where(Visit.rep_id == rep.id, Visit.checkin_at >= a, Visit.checkin_at < b,
                                       Visit.status != VisitStatus.CANCELLED)
            .options(load_only(Visit.id, Visit.store_id, Visit.checkin_at, Visit.checkin_lat, Visit.checkin_lng,
                               Visit.checkout_at, Visit.checkout_lat, Visit.checkout_lng),
                     selectinload(Visit.store).load_only(Store.id, Store.name))
            .order_by(Visit.checkin_at)).scalars():
        visits_by_day[v.checkin_at.astimezone(zone).date()].append(v)
    planned = _planned(viewer, rep, first, last) if with_plan else {}
    until = now()
    out = []
    day = first
    while day <= last:
        w, visits = workdays.get(day), visits_by_day.get(day, [])
        d = Day(day, w, visits=len(visits))
        if w is not None:
            d.stops.append(rules.Stop("start", w.started_at, w.start_point))
        for v in visits:
            d.stops.append(rules.Stop("checkin", v.checkin_at, _pt(v.checkin_lat, v.checkin_lng), v.store.name, v.id))
            if v.checkout_at is not None:
                d.stops.append(rules.Stop("checkout", v.checkout_at, _pt(v.checkout_lat, v.checkout_lng),
                                          v.store.name, v.id))
        if w is not None and w.ended_at is not None:
            d.stops.append(rules.Stop("end", w.ended_at, w.end_point))
        d.stops.sort(key=lambda s: s.at)
        d.mileage = rules.mileage(d.stops)
        d.times = rules.day_times(w.started_at if w else None, w.ended_at if w else None,
                                  [(v.checkin_at, v.checkout_at) for v in visits], min(until, b))
        stops = planned.get(day)
        if stops:
            start = w.start_point if w is not None else None
            order = order_stops(start, stops)
            d.planned_m = sum(x for x in legs_m(start, [stops[i] for i in order]) if x is not None)
        d.flags = list(w.flags) if w is not None else []
        if w is None and visits:
            d.flags.append(rules.DayFlag.NO_START)
        out.append(d)
        day += timedelta(days=1)
    return out


def _pt(lat, lng):
    from field.geo import Point
    return Point(lat, lng) if lat is not None and lng is not None else None


def _planned(viewer: User, rep: User, first: date, last: date) -> dict[date, list]:
    """The positions of the stores planned for the rep on each day (the planned route's stops)."""
    from field.geo import Point
    out: dict[date, list] = defaultdict(list)
    for day, lat, lng in db.session.execute(
            scope.visits(viewer).where(Visit.rep_id == rep.id, Visit.planned_for >= first, Visit.planned_for <= last,
                                       Visit.status != VisitStatus.CANCELLED, Store.lat.is_not(None))
            .join(Store, Store.id == Visit.store_id).with_only_columns(Visit.planned_for, Store.lat, Store.lng)
            .order_by(Visit.planned_for, Visit.id)):
        out[day].append(Point(lat, lng))
    return out


@dataclass
class TeamLine:
    rep: User
    workday: Workday | None
    visits: int

    @property
    def flags(self) -> list[str]:
        flags = list(self.workday.flags) if self.workday is not None else []
        if self.workday is None and self.visits:
            flags.append(rules.DayFlag.NO_START)
        return flags


def team_day(viewer: User, day: date) -> list[TeamLine]:
    """Every rep the viewer may see, their day and how many visits they checked in to (on the company's
    calendar day's span, in each rep's zone)."""
    reps = list(db.session.execute(scope.reps(viewer).order_by(User.name)).scalars())
    ids = [r.id for r in reps]
    if not ids:
        return []
    workdays = {w.rep_id: w for w in db.session.execute(
        scope.query(Workday, viewer).where(Workday.day == day, Workday.rep_id.in_(ids))).scalars()}
    counts: dict[int, int] = defaultdict(int)
    by_zone: dict[str, list[int]] = defaultdict(list)
    for r in reps:
        by_zone[str(user_zone(r))].append(r.id)
    for zone_name, rep_ids in by_zone.items():
        a, b = _bounds(day, day, user_zone(next(r for r in reps if r.id == rep_ids[0])))
        counts.update(dict(db.session.execute(
            scope.visits(viewer).where(Visit.rep_id.in_(rep_ids), Visit.checkin_at >= a, Visit.checkin_at < b,
                                       Visit.status != VisitStatus.CANCELLED)
            .with_only_columns(Visit.rep_id, func.count()).group_by(Visit.rep_id)).all()))
    lines = [TeamLine(r, workdays.get(r.id), counts.get(r.id, 0)) for r in reps]
    # Flagged first, then who has not started, then by name.
    lines.sort(key=lambda line: (not line.flags, line.workday is not None, line.rep.name))
    return lines


def home_card(rep: User, today: date) -> dict:
    """What Today's first card shows: the day not started yet, started (since when), or ended."""
    w = db.session.execute(scope.query(Workday, rep).where(Workday.rep_id == rep.id, Workday.day == today)) \
        .scalar_one_or_none()
    open_earlier = None
    if w is None:
        open_earlier = db.session.execute(scope.query(Workday, rep).where(
            Workday.rep_id == rep.id, Workday.ended_at.is_(None), Workday.day < today)).scalars().first()
    return {"workday": w, "open_earlier": open_earlier, "today": today}
