"""Store operations and the importer as plain functions: positions, nearest order, scope rules."""
import random

import pytest
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.extensions import db
from field.geo import Point, distance_m, from_wgs84
from field.stores import importer
from field.stores import operations as ops
from field.stores.models import Store
from tests.factories import make_store

pytestmark = pytest.mark.usefixtures("request_ctx")

SHANGHAI = Point(31.2304, 121.4737)


def rows(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_nearest_order_matches_an_exact_sort():
    rng = random.Random(7)
    stores = [(i, SHANGHAI.lat + rng.uniform(-0.5, 0.5), SHANGHAI.lng + rng.uniform(-0.5, 0.5), rng.random() > 0.2)
              for i in range(400)]
    stores.append((999, None, None, True))
    exact = sorted(stores, key=lambda s: (not s[3], distance_m(SHANGHAI, Point(s[1], s[2])) if s[1] else 1e12, s[0]))
    for stop in (1, 10, 57, 401):
        got = [i for i, _ in ops.nearest_order(stores, SHANGHAI, stop)]
        assert got == [s[0] for s in exact[:stop]]
    assert ops.nearest_order([], SHANGHAI, 5) == []


def test_position_change_converts_and_ignores_the_same_position():
    store = Store(lat=None, lng=None, datum="wgs84")
    gcj = from_wgs84(SHANGHAI, "gcj02")
    moved = ops.position_change(store, gcj[0], gcj[1], "gcj02")
    assert moved["datum"] == "gcj02" and distance_m(Point(moved["lat"], moved["lng"]), SHANGHAI) < 0.5
    store.lat, store.lng, store.datum = moved["lat"], moved["lng"], moved["datum"]
    assert ops.position_change(store, store.lat, store.lng, "wgs84") is None
    assert ops.position_change(Store(lat=None, lng=None), None, None, "wgs84") is None
    with pytest.raises(ops.FieldError):
        ops.position_change(store, 31.0, None, "wgs84")


def test_like_pattern_takes_wildcards_literally():
    assert ops.like_pattern("50%_off") == "%50\\%\\_off%"


def test_import_as_manager_and_the_audit_event(org):
    result = importer.import_stores(rows("code,name,region,owner_rep", "U-1,a,EAST,rep", "U-2,b,,teammate"),
                                    "s.csv", org.manager)
    assert result.ok and (result.created, result.updated, result.unchanged) == (2, 0, 0)
    event = db.session.execute(select(AuditEvent)).scalar_one()
    assert event.action == "stores.import" and event.actor_id == org.manager.id
    assert event.details == {"filename": "s.csv", "rows": 2, "created": 2, "updated": 0, "unchanged": 0}


def test_manager_keeps_an_out_of_region_value_the_store_already_has(org):
    # Visible to the manager through its east rep, though it lies in the west: re-importing it as is works.
    make_store(rep=org.rep, region=org.west, code="EDGE")
    result = importer.import_stores(rows("code,name,region,owner_rep", "EDGE,renamed,WEST,rep"), "s.csv",
                                    org.manager)
    assert result.ok and result.updated == 1
    # But moving another store into the west is refused.
    make_store(rep=org.rep, code="EAST1")
    result = importer.import_stores(rows("code,name,region", "EAST1,x,WEST"), "s.csv", org.manager)
    assert [str(e) for e in result.errors] == ["row 2, region: no region with code WEST in your scope"]


def test_failed_import_leaves_the_database_untouched(org):
    make_store(rep=org.rep, code="K-1", name="before")
    result = importer.import_stores(rows("code,name,tier", "K-1,after,A", "K-2,new,Z"), "s.csv", org.admin)
    assert not result.ok
    db.session.expire_all()
    assert db.session.execute(select(Store.name).where(Store.code == "K-1")).scalar_one() == "before"
    assert db.session.execute(select(func.count(Store.id))).scalar_one() == 1
    assert db.session.execute(select(func.count(AuditEvent.id))).scalar_one() == 0


def test_lat_without_lng_column_is_a_header_error(org):
    result = importer.import_stores(rows("code,name,lat", "L-1,a,31.2"), "s.csv", org.admin)
    assert [str(e) for e in result.errors] == ["row 1, lng: lat and lng go together"]
