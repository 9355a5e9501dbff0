"""Stores from a spreadsheet, and back: one CSV/XLSX layout for import and export.

An import is all or nothing: every row is checked first (cells, duplicate codes,
regions and reps in the importer's scope, stores the importer may change), and any
error imports nothing. Rows are keyed by code, so importing the same file twice —
or an export — creates no duplicates and changes nothing the second time."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from field import audit, permissions, scope, tabular
from field.auth.models import Region, User
from field.extensions import db
from field.geo import Datum
from field.stores import operations as ops
from field.stores.dealer_links import resolve
from field.stores.models import TIERS, Channel, Store
from field.tabular import Column, ImportResult, RowError

HEADERS = ("code", "name", "address", "lat", "lng", "datum", "geofence_m", "tier", "channel", "dealer",
           "owner_rep", "region", "visit_every_days", "active")


def _login(value: str) -> str:
    return value.strip().lower()


def columns() -> list[Column]:
    return [
        Column("code", tabular.text(40), required=True, aliases=("门店编码", "编码", "store code")),
        Column("name", tabular.text(200), required=True, aliases=("门店名称", "名称", "store name")),
        Column("address", tabular.text(400), default="", aliases=("地址",)),
        Column("lat", tabular.number(-90, 90), aliases=("latitude", "纬度")),
        Column("lng", tabular.number(-180, 180), aliases=("longitude", "lon", "经度")),
        Column("datum", tabular.choice([d.value for d in Datum]), default=Datum.WGS84.value,
               aliases=("坐标系",)),
        Column("geofence_m", tabular.integer(20, 5000), default=200, aliases=("geofence", "围栏半径")),
        Column("tier", tabular.choice(TIERS), default="C", aliases=("等级",)),
        Column("channel", tabular.choice([c.value for c in Channel]), default=Channel.TRADITIONAL.value,
               aliases=("渠道",)),
        Column("dealer", tabular.text(200), default="", aliases=("经销商",)),
        Column("owner_rep", _login, aliases=("rep", "负责业务员", "业务员")),
        Column("region", tabular.text(40), aliases=("区域",)),
        Column("visit_every_days", tabular.integer(1, 365), aliases=("拜访频率",)),
        Column("active", tabular.boolean, default=True, aliases=("启用",)),
    ]


def _chunks(items: list, size: int = 1000):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _existing(codes: list[str]) -> dict[str, Store]:
    # Codes are unique company-wide: a code taken outside the importer's scope must be found to be refused.
    found: dict[str, Store] = {}
    for chunk in _chunks(sorted({c.lower() for c in codes})):
        for store in db.session.execute(select(Store).where(func.lower(Store.code).in_(chunk))
                                        .options(selectinload(Store.owner_rep), selectinload(Store.region))
                                        ).scalars():
            found[store.code.lower()] = store
    return found


def _reps(logins: set[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in _chunks(sorted(logins)):
        for user in db.session.execute(select(User).where(User.login.in_(chunk))).scalars():
            if permissions.is_rep(user):
                found[user.login.lower()] = user
    return found


def _regions(codes: set[str]) -> dict[str, Region]:
    found: dict[str, Region] = {}
    for chunk in _chunks(sorted(codes)):
        for region in db.session.execute(select(Region).where(func.lower(Region.code).in_(chunk))).scalars():
            found[region.code.lower()] = region
    return found


def check(table: tabular.Table, actor: User) -> list[tuple[int, Store | None, dict]]:
    """Resolve every row to (row number, existing store or None, values for operations.apply).

    Errors go into table.errors; a region or rep outside the actor's scope reads as unknown,
    unless it is what the store already has (so an export re-imports cleanly)."""
    allowed_regions = set(db.session.execute(scope.regions(actor).with_only_columns(Region.id)).scalars())
    allowed_reps = set(db.session.execute(scope.reps(actor, active_only=False)
                                          .with_only_columns(User.id)).scalars())
    existing = _existing([row["code"] for row in table.rows])
    visible = ops.visible_ids([s.id for s in existing.values()], actor)
    reps = _reps({row["owner_rep"] for row in table.rows if row.get("owner_rep")})
    regions = _regions({row["region"].lower() for row in table.rows if row.get("region")})
    dealers = resolve(row["dealer"] for row in table.rows if row.get("dealer"))
    if ("lat" in table.columns) != ("lng" in table.columns):
        table.error(1, "lng" if "lat" in table.columns else "lat", _("lat and lng go together"))
        return []

    plan: list[tuple[int, Store | None, dict]] = []
    first_row: dict[str, int] = {}
    for row in table.rows:
        n, code = row.number, row["code"]
        if code.lower() in first_row:
            table.error(n, "code", _("%(code)s is also in row %(row)s", code=code, row=first_row[code.lower()]))
            continue
        first_row[code.lower()] = n
        store = existing.get(code.lower())
        if store is not None and store.id not in visible:
            table.error(n, "code", _("%(code)s is already used by a store outside your scope", code=code))
            continue
        values = {k: v for k, v in row.values.items() if k not in ("lat", "lng", "datum", "owner_rep", "region")}
        if "dealer" in row:  # the dealer record it names, if one; the text stays as imported
            record = dealers.get((row["dealer"] or "").strip().lower())
            values["dealer_id"] = record.id if record else None
        ok = True
        if "lat" in row:
            lat, lng = row["lat"], row["lng"]
            if (lat is None) != (lng is None):
                table.error(n, "lng" if lng is None else "lat", _("give both lat and lng, or neither"))
                ok = False
            else:
                values.update(lat=lat, lng=lng, datum=row.get("datum") or Datum.WGS84.value)
        if "owner_rep" in row:
            login = row["owner_rep"]
            rep = reps.get(login) if login else None
            if login and (rep is None or (rep.id not in allowed_reps
                                          and (store is None or store.owner_rep_id != rep.id))):
                table.error(n, "owner_rep", _("no rep with login %(login)s in your scope", login=login))
                ok = False
            values["owner_rep"] = rep
        if "region" in row:
            code_ = row["region"]
            region = regions.get(code_.lower()) if code_ else None
            if code_ and (region is None or (region.id not in allowed_regions
                                             and (store is None or store.region_id != region.id))):
                table.error(n, "region", _("no region with code %(code)s in your scope", code=code_))
                ok = False
            values["region"] = region
        if ok:
            plan.append((n, store, values))
    return plan


def import_stores(data: bytes, filename: str, actor: User) -> ImportResult:
    """Check the whole file, then stage every store's creation or change (or nothing)."""
    table = tabular.read(data, columns(), filename)
    plan = check(table, actor) if table.columns else []  # an unreadable file or header: nothing more to check
    refused = tabular.checked(table)
    if refused is not None:
        return refused

    def write() -> ImportResult:
        result = ImportResult(rows=len(plan))
        touched: list[tuple[int, Store]] = []
        for n, store, values in plan:
            if store is None:
                store = Store(datum=Datum.WGS84.value, geofence_m=200, tier="C",
                              channel=Channel.TRADITIONAL.value, active=True)
                db.session.add(store)
                ops.apply(store, values)
                result.created += 1
            elif ops.apply(store, values):
                result.updated += 1
            else:
                result.unchanged += 1
                continue
            touched.append((n, store))
        db.session.flush()
        # A manager's import may not move a store beyond their own reach.
        visible = ops.visible_ids([s.id for _, s in touched], actor)
        errors = [RowError(n, "region", _("the store would be outside your regions and team"))
                  for n, s in touched if s.id not in visible]
        if errors:
            return ImportResult(errors=errors)
        audit.record("stores.import", None, actor=actor, filename=filename, rows=result.rows,
                     created=result.created, updated=result.updated, unchanged=result.unchanged)
        return result

    return tabular.stage_import(
        write, _("Someone changed these stores in the meantime. Nothing was imported; try again."))


def export_rows(stores) -> list[list]:
    """Stores as rows of HEADERS: positions in WGS-84 (so the datum column says wgs84)."""
    rows = []
    for s in stores:
        rows.append([s.code, s.name, s.address or "", s.lat if s.lat is not None else "",
                     s.lng if s.lng is not None else "", Datum.WGS84.value, s.geofence_m, s.tier, s.channel,
                     s.dealer or "", s.owner_rep.login if s.owner_rep else "", s.region.code if s.region else "",
                     s.visit_every_days if s.visit_every_days else "", bool(s.active)])
    return rows


def export(actor: User, fmt: str) -> bytes:
    stores = db.session.execute(scope.stores(actor).order_by(Store.code)
                                .options(selectinload(Store.owner_rep), selectinload(Store.region))).scalars()
    return tabular.write(fmt, HEADERS, export_rows(stores), sheet_title="stores")
