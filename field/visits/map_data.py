"""What the maps draw: the stores in a user's scope with the day's check-ins, and one rep's day route.

Plain functions of a user (or a day summary) returning compact, JSON-ready data; every query starts
from field.scope, so a map shows only what its reader may see. Positions are stored in WGS-84 and
are sent in the datum of the configured map tiles (field/geo.py, on_tiles): GCJ-02 for Amap and
Tencent, BD-09 for Baidu, WGS-84 for OpenStreetMap and for no tiles at all.

A team of thousands of stores is one query of bare columns and one array per store
([id, lat, lng, tier, visited, name]), not one object per store: the page stays small and quick."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from field import scope
from field.auth.models import User
from field.core import user_zone
from field.extensions import db
from field.geo import Datum, Point, on_tiles, valid_lat_lng
from field.stores.models import Store
from field.visits.history import DaySummary, day_bounds
from field.visits.models import Visit

PLACES = 6  # decimal places of a degree sent: about 0.1 m, far finer than a phone's fix


def _position(lat, lng, datum: Datum) -> list[float] | None:
    if lat is None or lng is None or not valid_lat_lng(lat, lng):
        return None
    shown = on_tiles(Point(float(lat), float(lng)), datum)
    return [round(shown[0], PLACES), round(shown[1], PLACES)]


def _time(moment, zone) -> str:
    """HH:mm on the reader's clock (the `datetime` filter's short time; strftime is 50× cheaper per row)."""
    return moment.astimezone(zone).strftime("%H:%M") if moment is not None else ""


def _rows(stmt):
    """Bare column rows: executed on the connection, not through the ORM's entity loading (3× quicker here)."""
    return db.session.connection().execute(stmt)


@dataclass
class TeamMap:
    stores: list[list]          # [id, lat, lng, tier, visited today (0/1), name]
    checkins: list[list]        # [visit id, lat, lng, "HH:mm", rep id, store id, store name, flagged (0/1)]
    reps: dict[str, str]        # rep id → name, for the check-ins
    unplaced: int               # stores in scope with no position (not drawn)

    def as_json(self, day: date, datum: Datum) -> dict:
        return {"day": day.isoformat(), "datum": str(datum), "stores": self.stores, "checkins": self.checkins,
                "reps": self.reps, "unplaced": self.unplaced}


def team_map(user: User, day: date, datum: Datum, rep_id: int | None = None) -> TeamMap:
    """The active stores `user` may see (those of one rep when `rep_id` is given) and the check-ins of
    the day on the user's calendar (of that rep), in `datum`. A store is visited when one of those
    check-ins was there."""
    zone = user_zone(user)
    start, end = day_bounds(day, zone)
    visits = (scope.visits(user)
              .where(Visit.checkin_at >= start, Visit.checkin_at < end)
              .join(Store, Store.id == Visit.store_id)
              .with_only_columns(Visit.id, Visit.checkin_lat, Visit.checkin_lng, Visit.checkin_at, Visit.rep_id,
                                 Visit.store_id, Store.name, Visit.flags)
              .order_by(Visit.checkin_at, Visit.id))
    if rep_id is not None:
        visits = visits.where(Visit.rep_id == rep_id)
    checkins, visited, rep_ids = [], set(), set()
    for vid, lat, lng, at, rep, store_id, store_name, flags in _rows(visits):
        visited.add(store_id)
        position = _position(lat, lng, datum)
        if position is None:
            continue
        rep_ids.add(rep)
        checkins.append([vid, *position, _time(at, zone), rep, store_id, store_name, 1 if flags else 0])
    stores_stmt = (scope.stores(user).where(Store.active.is_(True))
                   .with_only_columns(Store.id, Store.lat, Store.lng, Store.tier, Store.name)
                   .order_by(Store.id))
    if rep_id is not None:
        stores_stmt = stores_stmt.where(Store.owner_rep_id == rep_id)
    stores, unplaced = [], 0
    for sid, lat, lng, tier, name in _rows(stores_stmt):
        position = _position(lat, lng, datum)
        if position is None:
            unplaced += 1
            continue
        stores.append([sid, *position, tier, 1 if sid in visited else 0, name])
    reps = {}
    if rep_ids:
        reps = {str(i): name for i, name in db.session.execute(
            scope.users(user).where(User.id.in_(rep_ids)).with_only_columns(User.id, User.name))}
    return TeamMap(stores, checkins, reps, unplaced)


def route(summary: DaySummary, datum: Datum, linkable: set[int], zone) -> dict:
    """A rep's day as a route: the visits checked in with a position, in check-in order and numbered
    from 1, each with where it was and its store (where the store is); check-ins without a position
    are left out of the line and counted."""
    stops, left_out = [], 0
    for line in summary.lines:
        visit = line.visit
        if visit.checkin_at is None:
            continue  # planned, never started: not a stop on the way
        position = _position(visit.checkin_lat, visit.checkin_lng, datum)
        if position is None:
            left_out += 1
            continue
        store = visit.store
        stops.append({
            "n": len(stops) + 1,
            "visit": visit.id if visit.id in linkable else None,
            "at": position,
            "store": _position(store.lat, store.lng, datum) if store is not None else None,
            "name": store.name if store is not None else "",
            "time": _time(visit.checkin_at, zone) + (
                "–" + _time(visit.checkout_at, zone) if visit.checkout_at else ""),
            "flagged": 1 if visit.flags else 0,
        })
    return {"day": summary.day.isoformat(), "datum": str(datum), "stops": stops, "left_out": left_out}
