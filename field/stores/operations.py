"""Everything that lists or changes stores: search, nearest first, create, edit, (de)activate.

Each change checks its rule and stages the change with its audit line, or raises a DomainError
having staged nothing; the request commits. Positions arrive in any datum and are stored as WGS-84; a position
equal to the stored one (an untouched form, a re-imported export) leaves the store's
datum alone, so a round trip changes nothing."""
from __future__ import annotations

import math
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from field import audit, scope
from field.auth.models import Region, User
from field.core import FieldError, like_pattern
from field.extensions import db
from field.geo import Datum, Point, distance_m, to_wgs84
from field.stores.dealer_links import resolve
from field.stores.models import Store
from field.web import Page, count, paginate

# Fields a form or an import row may set, besides the position (lat, lng, datum).
FIELDS = ("code", "name", "address", "geofence_m", "tier", "channel", "dealer", "dealer_id", "owner_rep", "region",
          "visit_every_days", "active")
SAME_POSITION_DEG = 1e-9  # about 0.1 mm: a number written out and read back


# --- listing ----------------------------------------------------------------------------

def search(q: str = "", tier: str = "", channel: str = "", user=None):
    """The stores in the user's scope matching a search text (name, code, address) and filters."""
    stmt = scope.stores(user)
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(or_(Store.name.ilike(pattern, escape="\\"), Store.code.ilike(pattern, escape="\\"),
                              Store.address.ilike(pattern, escape="\\")))
    if tier:
        stmt = stmt.where(Store.tier == tier)
    if channel:
        stmt = stmt.where(Store.channel == channel)
    return stmt


def _approx_m(origin: Point, lat: float, lng: float) -> float:
    """Equirectangular distance: within about 1 % of the geodesic one at these ranges, and cheap."""
    x = math.radians(lng - origin.lng) * math.cos(math.radians((lat + origin.lat) / 2))
    y = math.radians(lat - origin.lat)
    return 6_371_000.0 * math.hypot(x, y)


def nearest_order(rows: list[tuple[int, float | None, float | None, bool]], origin: Point,
                  stop: int) -> list[tuple[int, float | None]]:
    """The first `stop` of (id, lat, lng, active) rows, active first, then by geodesic distance.

    Every row is ranked by a cheap approximation; only the rows that could reach the
    first `stop` places get the exact geodesic distance. Rows without a position come last."""
    keyed = []
    for ident, lat, lng, active in rows:
        approx = _approx_m(origin, lat, lng) if lat is not None and lng is not None else math.inf
        keyed.append((not active, approx, ident, lat, lng))
    keyed.sort(key=lambda r: (r[0], r[1], r[2]))
    if not keyed or stop <= 0:
        return []
    last = keyed[min(stop, len(keyed)) - 1]
    # Anything that may beat the last place once measured exactly is measured exactly.
    reach = last[1] * 1.02 + 10.0
    candidates = [r for r in keyed if r[0] < last[0] or (r[0] == last[0] and r[1] <= reach)]
    exact = []
    for inactive, approx, ident, lat, lng in candidates:
        dist = distance_m(origin, Point(lat, lng)) if approx != math.inf else None
        exact.append((inactive, dist if dist is not None else math.inf, ident, dist))
    exact.sort(key=lambda r: (r[0], r[1], r[2]))
    return [(ident, dist) for _, _, ident, dist in exact[:stop]]


def list_stores(q: str = "", tier: str = "", channel: str = "", origin: Point | None = None,
                page: int = 1, per_page: int = 50, user=None) -> Page:
    """One page of the user's stores as (store, metres from `origin` or None): active first, then by
    name — or nearest first from `origin`."""
    stmt = search(q, tier, channel, user)
    if origin is None:
        shown = paginate(stmt.options(selectinload(Store.owner_rep))
                         .order_by(case((Store.active.is_(True), 0), else_=1), Store.name, Store.id), page, per_page)
        shown.items = [(s, None) for s in shown.items]
        return shown
    shown = Page([], page, per_page, count(stmt))
    shown.page = min(max(1, page), shown.pages)
    start = (shown.page - 1) * per_page
    rows = db.session.execute(stmt.with_only_columns(Store.id, Store.lat, Store.lng, Store.active)).all()
    ranked = nearest_order([tuple(r) for r in rows], origin, start + per_page)[start:]
    by_id = {s.id: s for s in db.session.execute(
        select(Store).where(Store.id.in_([i for i, _ in ranked])).options(selectinload(Store.owner_rep))
    ).scalars()}
    shown.items = [(by_id[i], d) for i, d in ranked]
    return shown


# --- changes ------------------------------------------------------------------------------

def position_change(store: Store, lat: float | None, lng: float | None, datum: str | None) -> dict | None:
    """The (lat, lng, datum) to store for a position given in `datum`, or None when it is the stored one."""
    if lat is None and lng is None:
        if store.lat is None and store.lng is None:
            return None
        return {"lat": None, "lng": None, "datum": Datum.WGS84.value}
    if lat is None or lng is None:
        raise FieldError("lat", _("Give both latitude and longitude, or neither."))
    try:
        point = to_wgs84(lat, lng, datum or Datum.WGS84)
    except ValueError:
        raise FieldError("lat", _("Not a position: latitude −90…90, longitude −180…180.")) from None
    if (store.lat is not None and store.lng is not None and abs(store.lat - point.lat) <= SAME_POSITION_DEG
            and abs(store.lng - point.lng) <= SAME_POSITION_DEG):
        return None
    return {"lat": point.lat, "lng": point.lng, "datum": Datum(datum or Datum.WGS84).value}


def _shown(value) -> Any:
    if isinstance(value, (User, Region)):
        return value.login if isinstance(value, User) else value.code
    return value


def apply(store: Store, values: dict) -> dict[str, list]:
    """Set the given fields (absent keys stay as they are); returns {field: [old, new]} of what changed.

    `values` may hold lat and lng (and datum) together; owner_rep is a User, region a Region."""
    changes: dict[str, list] = {}
    if "lat" in values or "lng" in values:
        moved = position_change(store, values.get("lat"), values.get("lng"), values.get("datum"))
        if moved is not None:
            for key, new in moved.items():
                old = getattr(store, key)
                if old != new:
                    changes[key] = [old, new]
                    setattr(store, key, new)
    for key in FIELDS:
        if key not in values:
            continue
        new = values[key]
        old = getattr(store, key)
        if key in ("owner_rep", "region"):
            if (old.id if old is not None else None) == (new.id if new is not None else None):
                continue
        elif old == new:
            continue
        changes[key] = [_shown(old), _shown(new)]
        setattr(store, key, new)
    return changes


def code_taken(code: str, store: Store | None = None) -> bool:
    # Codes are unique across the company, so this one check looks beyond the user's scope.
    stmt = select(Store.id).where(func.lower(Store.code) == code.lower())
    if store is not None and store.id is not None:
        stmt = stmt.where(Store.id != store.id)
    return db.session.execute(stmt.limit(1)).first() is not None


def visible_ids(ids, actor: User) -> set[int]:
    """Which of these store ids the actor may see (after a flush: as the change would leave them)."""
    ids = list(ids)
    seen: set[int] = set()
    for i in range(0, len(ids), 1000):
        seen.update(db.session.execute(scope.stores(actor).where(Store.id.in_(ids[i:i + 1000]))
                                       .with_only_columns(Store.id)).scalars())
    return seen


def _still_visible(store: Store, actor: User) -> None:
    """A manager may not move a store out of their own reach (into another region, to another's rep)."""
    try:
        db.session.flush()
    except IntegrityError:  # the code was taken by someone else meanwhile
        raise FieldError("code", _("A store with this code already exists.")) from None
    if store.id not in visible_ids([store.id], actor):
        raise FieldError("region", _("The store would be outside your regions and team: "
                                     "choose one of your regions or reps."))


def with_dealer_record(values: dict) -> dict:
    """The values with `dealer_id` added: the dealer record the free-text dealer names (its code, or the
    name of exactly one dealer), None when it names none (the text is kept as typed)."""
    if "dealer" not in values:
        return values
    record = resolve([values["dealer"]]).get((values["dealer"] or "").strip().lower())
    return {**values, "dealer_id": record.id if record else None}


def create_store(values: dict, actor: User) -> Store:
    """Add a store; its code must be new and the actor must still see it afterwards."""
    if code_taken(values["code"]):
        raise FieldError("code", _("A store with this code already exists."))
    values = with_dealer_record(values)  # before the store is added: the look-up would flush it half-made
    with db.session.begin_nested():  # a refusal after the flush undoes the store, and only it
        store = Store(datum=Datum.WGS84.value)
        db.session.add(store)
        apply(store, {"geofence_m": 200, "active": True, **values})
        _still_visible(store, actor)
        audit.record("store.create", store, actor=actor, code=store.code, name=store.name)
    return store


def update_store(store: Store, values: dict, actor: User) -> dict:
    """Change a store's fields; audited with what changed, nothing staged when nothing did."""
    if "code" in values and values["code"] != store.code and code_taken(values["code"], store):
        raise FieldError("code", _("A store with this code already exists."))
    with db.session.begin_nested():
        changes = apply(store, with_dealer_record(values))
        if changes:
            _still_visible(store, actor)
            audit.record("store.update", store, actor=actor, changes=changes)
    return changes


def set_active(store: Store, active: bool, actor: User) -> bool:
    """Deactivate (or reactivate) a store: it leaves routes and lists but its history stays."""
    return audit.set_active(store, active, "store", actor, code=store.code)
