"""Store pages by request: the scoped list (search, filters, nearest first, htmx), a store,
the store form, (de)activation, import and export."""
import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.extensions import db
from field.geo import Point, distance_m, from_wgs84
from field.stores.models import Store
from tests.conftest import login
from tests.factories import make_store

HX = {"HX-Request": "true", "HX-Request-Type": "partial"}
PEOPLE_SQUARE = Point(31.2304, 121.4737)


# --- helpers ------------------------------------------------------------------------------------

def stores_count() -> int:
    return db.session.execute(select(func.count(Store.id))).scalar_one()


def store_by_code(code: str) -> Store:
    db.session.expire_all()
    return db.session.execute(select(Store).where(Store.code == code)).scalar_one()


def audit_actions() -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def codes_on(html: str) -> list[str]:
    return re.findall(r'data-store="([^"]+)"', html)


def upload(client, url, data: bytes, filename="stores.csv", **kw):
    return client.post(url, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data", **kw)


def csv_bytes(*lines: str, encoding="utf-8-sig") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def form_data(org, **over) -> dict:
    data = {"code": "N001", "name": "新店", "address": "南京西路 1 号", "lat": "31.2304", "lng": "121.4737",
            "datum": "wgs84", "geofence_m": "200", "tier": "B", "channel": "convenience", "dealer": "",
            "owner_rep": str(org.rep.id), "region": str(org.east.id), "visit_every_days": ""}
    data.update(over)
    return data


@pytest.fixture
def shops(org):
    """Two stores of the rep, one of the teammate, one in the west."""
    return {
        "mine": make_store(rep=org.rep, code="E-MINE", name="Alpha Mart"),
        "mine2": make_store(rep=org.rep, code="E-MINE2", name="Beta Shop", address="Huaihai Road 9"),
        "team": make_store(rep=org.teammate, code="E-TEAM", name="Gamma Store"),
        "west": make_store(rep=org.west_rep, code="W-ONE", name="Delta Chengdu", lat=30.66, lng=104.06),
    }


# --- list ---------------------------------------------------------------------------------------

def test_rep_lists_only_own_stores(client, org, shops):
    r = login(client, org.rep).get("/stores")
    assert r.status_code == 200
    assert sorted(codes_on(r.text)) == ["E-MINE", "E-MINE2"]


def test_supervisor_sees_team_stores_and_not_the_west(client, org, shops):
    r = login(client, org.supervisor).get("/stores")
    assert sorted(codes_on(r.text)) == ["E-MINE", "E-MINE2", "E-TEAM"]


def test_east_manager_does_not_see_west_stores(client, org, shops):
    r = login(client, org.manager).get("/stores")
    assert "W-ONE" not in codes_on(r.text) and "E-TEAM" in codes_on(r.text)
    assert login(client, org.manager).get(f"/stores/{shops['west'].id}").status_code == 404
    assert login(client, org.admin).get(f"/stores/{shops['west'].id}").status_code == 200


def test_active_first_then_by_name(client, org):
    make_store(rep=org.rep, code="Z", name="Aardvark", active=False)
    make_store(rep=org.rep, code="Y", name="Zebra")
    make_store(rep=org.rep, code="X", name="Mango")
    r = login(client, org.rep).get("/stores")
    assert codes_on(r.text) == ["X", "Y", "Z"]
    assert "Inactive" in r.text


def test_search_by_name_code_and_address(client, org, shops):
    login(client, org.supervisor)
    assert codes_on(client.get("/stores?q=gamma").text) == ["E-TEAM"]
    assert codes_on(client.get("/stores?q=mine2").text) == ["E-MINE2"]
    assert codes_on(client.get("/stores?q=huaihai").text) == ["E-MINE2"]
    assert codes_on(client.get("/stores?q=100%25").text) == []  # % is literal, not a wildcard
    assert "No store matches" in client.get("/stores?q=nothing").text


def test_tier_and_channel_filters(client, org):
    make_store(rep=org.rep, code="A1", tier="A", channel="ka")
    make_store(rep=org.rep, code="C1", tier="C", channel="ka")
    make_store(rep=org.rep, code="A2", tier="A", channel="convenience")
    login(client, org.rep)
    assert sorted(codes_on(client.get("/stores?tier=A").text)) == ["A1", "A2"]
    assert codes_on(client.get("/stores?tier=A&channel=ka").text) == ["A1"]
    assert len(codes_on(client.get("/stores?tier=E&channel=bogus").text)) == 3  # unknown filters ignored


def test_htmx_search_answers_only_the_results_fragment(client, org, shops):
    r = login(client, org.rep).get("/stores?q=alpha", headers=HX)
    assert r.status_code == 200
    assert codes_on(r.text) == ["E-MINE"]
    assert "<html" not in r.text and 'name="q"' not in r.text and "bottomnav" not in r.text
    full = client.get("/stores?q=alpha")
    assert "<html" in full.text and 'id="results"' in full.text
    assert 'hx-trigger="search, keyup delay:200ms changed"' in full.text
    assert 'hx-target="#results"' in full.text and 'hx-push-url="true"' in full.text


def test_nearest_first_orders_by_distance_and_shows_it(client, org):
    here = PEOPLE_SQUARE
    make_store(rep=org.rep, code="FAR", name="A far", lat=here.lat + 0.05, lng=here.lng)       # ≈ 5.5 km
    make_store(rep=org.rep, code="NEAR", name="B near", lat=here.lat + 0.002, lng=here.lng)    # ≈ 220 m
    make_store(rep=org.rep, code="MID", name="C mid", lat=here.lat, lng=here.lng + 0.02)       # ≈ 1.9 km
    make_store(rep=org.rep, code="NOPOS", name="0 nowhere", lat=None, lng=None)
    r = login(client, org.rep).get(f"/stores?lat={here.lat}&lng={here.lng}")
    assert codes_on(r.text) == ["NEAR", "MID", "FAR", "NOPOS"]
    assert "222 m" in r.text and "1.9 km" in r.text and "5.5 km" in r.text
    # Without a position (or with a nonsense one) the list is by name.
    assert codes_on(client.get("/stores?lat=999&lng=1").text) == ["NOPOS", "FAR", "NEAR", "MID"]


def test_nearest_first_is_exact_across_pages(client, org, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    here = PEOPLE_SQUARE
    for i in range(8):
        make_store(rep=org.rep, code=f"P{i}", lat=here.lat + 0.001 * (8 - i), lng=here.lng + 0.0003 * i)
    login(client, org.rep)
    pages = [codes_on(client.get(f"/stores?lat={here.lat}&lng={here.lng}&page={p}").text) for p in (1, 2, 3)]
    expected = sorted((f"P{i}" for i in range(8)), key=lambda c: distance_m(here, store_by_code(c).point))
    assert sum(pages, []) == expected
    assert "Page 1 of 3" in client.get(f"/stores?lat={here.lat}&lng={here.lng}").text


def test_pages_of_the_list(client, org, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    for i in range(5):
        make_store(rep=org.rep, code=f"S{i}", name=f"Store {i}")
    login(client, org.rep)
    first = client.get("/stores")
    assert codes_on(first.text) == ["S0", "S1"] and 'rel="next"' in first.text and "5 stores" in first.text
    assert codes_on(client.get("/stores?page=3").text) == ["S4"]
    assert codes_on(client.get("/stores?page=99").text) == ["S4"]
    assert codes_on(client.get("/stores?page=x").text) == ["S0", "S1"]


def test_signed_out_is_sent_to_login(client, org):
    assert client.get("/stores").status_code == 302


# --- one store ----------------------------------------------------------------------------------

def test_store_page_shows_its_facts(client, org):
    store = make_store(rep=org.rep, code="D1", name="静安店", tier="A", channel="ka", dealer="上海经销商",
                       geofence_m=150)
    r = login(client, org.rep).get(f"/stores/{store.id}")
    assert r.status_code == 200
    for text in ("D1", "静安店", "上海经销商", org.rep.name, "East", "150 m", "7 days", "31.230400, 121.473700",
                 "Key account"):
        assert text in r.text
    assert "Edit" not in r.text  # reps do not edit stores
    assert f'href="/stores/{store.id}/checkin"' in r.text  # the way into a visit
    assert f'href="/stores/{store.id}/visits"' in r.text


def test_only_reps_get_a_check_in_button_on_the_store_page(client, org):
    store = make_store(rep=org.rep, code="D2")
    r = login(client, org.manager).get(f"/stores/{store.id}")
    assert r.status_code == 200
    assert "/checkin" not in r.text
    assert f'href="/stores/{store.id}/visits"' in r.text


def test_rep_cannot_open_another_reps_store(client, org, shops):
    login(client, org.rep)
    assert client.get(f"/stores/{shops['team'].id}").status_code == 404
    assert client.get(f"/stores/{shops['west'].id}").status_code == 404
    assert client.get("/stores/999999").status_code == 404


def test_supervisor_opens_team_store(client, org, shops):
    assert login(client, org.supervisor).get(f"/stores/{shops['team'].id}").status_code == 200
    assert client.get(f"/stores/{shops['west'].id}").status_code == 404


# --- the store form -----------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["rep", "supervisor", "west_supervisor"])
def test_only_admins_and_managers_edit_stores(client, org, shops, who):
    login(client, getattr(org, who))
    assert client.get("/stores/new").status_code == 403
    assert client.post("/stores/new", data=form_data(org)).status_code == 403
    assert client.get(f"/stores/{shops['mine'].id}/edit").status_code == 403
    assert client.post(f"/stores/{shops['mine'].id}/deactivate").status_code == 403
    assert client.get("/stores/import").status_code == 403
    assert client.get("/stores/export.csv").status_code == 403
    assert stores_count() == 4 and store_by_code("E-MINE").active


def test_manager_adds_a_store_given_in_gcj02_stored_as_wgs84(client, org):
    wgs = PEOPLE_SQUARE
    gcj_lat, gcj_lng = from_wgs84(wgs, "gcj02")
    login(client, org.manager)
    assert client.get("/stores/new").status_code == 200
    r = client.post("/stores/new", data=form_data(org, lat=f"{gcj_lat:.7f}", lng=f"{gcj_lng:.7f}", datum="gcj02",
                                                  visit_every_days="10"))
    assert r.status_code == 302
    store = store_by_code("N001")
    assert distance_m(store.point, wgs) < 0.5
    assert store.datum == "gcj02" and store.owner_rep_id == org.rep.id and store.region_id == org.east.id
    assert store.frequency_days == 10 and store.tier == "B"
    assert audit_actions() == ["store.create"]
    page = client.get(r.headers["Location"])
    assert "31.230400, 121.473700" in page.text and "Store N001 added." in page.text


def test_bd09_input_is_converted_too(client, org):
    bd_lat, bd_lng = from_wgs84(PEOPLE_SQUARE, "bd09")
    r = login(client, org.admin).post("/stores/new", data=form_data(org, lat=str(bd_lat), lng=str(bd_lng),
                                                                     datum="bd09"))
    assert r.status_code == 302
    assert distance_m(store_by_code("N001").point, PEOPLE_SQUARE) < 1


@pytest.mark.parametrize("over, message", [
    ({"lat": "91"}, "Latitude is between"),
    ({"lat": "north"}, "Not a number"),
    ({"lat": "nan"}, "Not a number"),
    ({"lng": ""}, "Give both latitude and longitude"),
    ({"tier": "E"}, "Not a valid choice"),
    ({"channel": "mall"}, "Not a valid choice"),
    ({"geofence_m": "5"}, "between 20 and 5000"),
    ({"visit_every_days": "400"}, "between 1 and 365"),
    ({"code": ""}, "This field is required"),
    ({"datum": "mars"}, "Not a valid choice"),
])
def test_bad_store_form_answers_422_and_writes_nothing(client, org, over, message):
    r = login(client, org.manager).post("/stores/new", data=form_data(org, **over))
    assert r.status_code == 422
    assert message in r.text
    assert stores_count() == 0 and audit_actions() == []


def test_rep_outside_the_managers_scope_is_refused(client, org):
    r = login(client, org.manager).post("/stores/new", data=form_data(org, owner_rep=str(org.west_rep.id)))
    assert r.status_code == 422 and "Not a valid choice" in r.text
    r = client.post("/stores/new", data=form_data(org, region=str(org.west.id)))
    assert r.status_code == 422
    assert stores_count() == 0


def test_manager_cannot_create_a_store_out_of_reach(client, org):
    r = login(client, org.manager).post("/stores/new", data=form_data(org, owner_rep="", region=""))
    assert r.status_code == 422 and "outside your regions" in r.text
    assert stores_count() == 0 and audit_actions() == []


def test_duplicate_code_is_refused(client, org, shops):
    r = login(client, org.admin).post("/stores/new", data=form_data(org, code="W-ONE"))
    assert r.status_code == 422 and "already exists" in r.text
    assert stores_count() == 4


def test_post_without_csrf_token_is_refused(client, org, shops):
    login(client, org.manager)
    assert client.post("/stores/new", data=form_data(org), csrf=False).status_code == 400
    assert client.post(f"/stores/{shops['mine'].id}/edit", data=form_data(org, code="E-MINE", name="X"),
                       csrf=False).status_code == 400
    assert client.post(f"/stores/{shops['mine'].id}/deactivate", csrf=False).status_code == 400
    assert upload(client, "/stores/import", csv_bytes("code,name", "Q1,q"), csrf=False).status_code == 400
    assert stores_count() == 4 and store_by_code("E-MINE").active and audit_actions() == []


def test_manager_edits_a_store_in_scope(client, org, shops):
    store = shops["mine"]
    login(client, org.manager)
    page = client.get(f"/stores/{store.id}/edit")
    assert page.status_code == 200 and 'value="E-MINE"' in page.text
    r = client.post(f"/stores/{store.id}/edit", data=form_data(
        org, code="E-MINE", name="Alpha Mart 2", lat=repr(store.lat), lng=repr(store.lng), tier="A",
        owner_rep=str(org.teammate.id)))
    assert r.status_code == 302
    store = store_by_code("E-MINE")
    assert store.name == "Alpha Mart 2" and store.tier == "A" and store.owner_rep_id == org.teammate.id
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "store.update")).scalar_one()
    assert {"name", "tier", "owner_rep"} <= set(event.details["changes"])
    assert event.details["changes"]["owner_rep"] == ["rep", "teammate"]
    assert "lat" not in event.details["changes"]  # the position was not touched


def test_untouched_edit_form_changes_nothing(client, org):
    gcj = from_wgs84(PEOPLE_SQUARE, "gcj02")
    login(client, org.manager)
    client.post("/stores/new", data=form_data(org, lat=str(gcj[0]), lng=str(gcj[1]), datum="gcj02"))
    store = store_by_code("N001")
    before = (store.lat, store.lng, store.datum)
    page = client.get(f"/stores/{store.id}/edit").text
    lat = re.search(r'name="lat"[^>]*value="([^"]+)"', page).group(1)
    lng = re.search(r'name="lng"[^>]*value="([^"]+)"', page).group(1)
    client.post(f"/stores/{store.id}/edit", data=form_data(org, lat=lat, lng=lng, datum="wgs84"))
    store = store_by_code("N001")
    assert (store.lat, store.lng, store.datum) == before
    assert audit_actions() == ["store.create"]


def test_manager_cannot_edit_west_store(client, org, shops):
    login(client, org.manager)
    assert client.get(f"/stores/{shops['west'].id}/edit").status_code == 404
    r = client.post(f"/stores/{shops['west'].id}/edit", data=form_data(org, code="W-ONE"))
    assert r.status_code == 404
    assert client.post(f"/stores/{shops['west'].id}/deactivate").status_code == 404
    assert store_by_code("W-ONE").name == "Delta Chengdu" and store_by_code("W-ONE").active


def test_bad_edit_answers_422_and_keeps_the_store(client, org, shops):
    store = shops["mine"]
    r = login(client, org.manager).post(f"/stores/{store.id}/edit",
                                        data=form_data(org, code="E-MINE", name="Changed", lat="100"))
    assert r.status_code == 422 and "Latitude is between" in r.text
    assert store_by_code("E-MINE").name == "Alpha Mart"


def test_deactivate_and_reactivate_are_audited(client, org, shops):
    store = shops["mine"]
    login(client, org.manager)
    r = client.post(f"/stores/{store.id}/deactivate")
    assert r.status_code == 302 and not store_by_code("E-MINE").active
    assert "Reactivate" in client.get(f"/stores/{store.id}").text
    client.post(f"/stores/{store.id}/activate")
    assert store_by_code("E-MINE").active
    assert audit_actions() == ["store.deactivate", "store.activate"]
    assert client.get(f"/stores/{store.id}/deactivate").status_code == 405


# --- import -------------------------------------------------------------------------------------

GOOD = csv_bytes(
    "code,name,address,lat,lng,datum,geofence_m,tier,channel,dealer,owner_rep,region,visit_every_days,active",
    "I-001,徐家汇店,漕溪北路 1 号,31.1955,121.4365,wgs84,150,A,ka,上海经销商,rep,EAST,5,yes",
    "I-002,静安店,南京西路 2 号,,,,,B,convenience,,teammate,EAST,,",
    "I-003,Bund Kiosk,,31.24,121.49,gcj02,,C,traditional,,,EAST,,no",
)


def test_good_file_imports_all_rows(client, org):
    login(client, org.manager)
    assert client.get("/stores/import").status_code == 200
    r = upload(client, "/stores/import", GOOD)
    assert r.status_code == 302
    assert stores_count() == 3
    a = store_by_code("I-001")
    assert (a.name, a.tier, a.channel, a.geofence_m, a.dealer, a.visit_every_days, a.active) == (
        "徐家汇店", "A", "ka", 150, "上海经销商", 5, True)
    assert a.owner_rep_id == org.rep.id and a.region_id == org.east.id and a.lat == 31.1955
    b = store_by_code("I-002")
    assert b.lat is None and b.geofence_m == 200 and b.owner_rep_id == org.teammate.id and b.active
    c = store_by_code("I-003")
    assert not c.active and c.datum == "gcj02"
    assert distance_m(Point(*from_wgs84(c.point, "gcj02")), Point(31.24, 121.49)) < 0.5  # stored as WGS-84
    assert distance_m(c.point, Point(31.24, 121.49)) > 300
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "stores.import")).scalar_one()
    assert event.details["created"] == 3 and event.details["updated"] == 0
    assert "3 new, 0 updated, 0 unchanged" in client.get(r.headers["Location"]).text


def test_reimport_is_idempotent_and_updates_fields(client, org):
    login(client, org.manager)
    upload(client, "/stores/import", GOOD)
    r = upload(client, "/stores/import", GOOD)
    assert r.status_code == 302 and stores_count() == 3
    assert "0 new, 0 updated, 3 unchanged" in client.get(r.headers["Location"]).text
    changed = GOOD.replace("徐家汇店".encode(), "徐家汇旗舰店".encode()).replace(b",150,A,", b",300,A,")
    r = upload(client, "/stores/import", changed)
    assert "0 new, 1 updated, 2 unchanged" in client.get(r.headers["Location"]).text
    assert stores_count() == 3
    a = store_by_code("I-001")
    assert a.name == "徐家汇旗舰店" and a.geofence_m == 300


def test_a_partial_file_updates_only_its_columns(client, org):
    login(client, org.manager)
    upload(client, "/stores/import", GOOD)
    r = upload(client, "/stores/import", csv_bytes("code,name,tier", "i-001,徐家汇店,D"))
    assert r.status_code == 302
    a = store_by_code("i-001")
    assert a.tier == "D" and a.geofence_m == 150 and a.owner_rep_id == org.rep.id and a.lat == 31.1955
    assert stores_count() == 3


def test_bad_file_imports_nothing_and_lists_every_error(client, org):
    bad = csv_bytes(
        "code,name,lat,lng,tier,owner_rep,region,geofence_m",
        "B-1,ok,31.2,121.4,A,rep,EAST,200",
        "B-2,bad lat,95,121.4,B,rep,EAST,200",
        "B-3,bad tier,31.2,121.4,E,rep,EAST,200",
        "B-4,unknown rep,31.2,121.4,C,nobody,EAST,200",
        "B-5,west rep,31.2,121.4,C,westrep,EAST,200",
        "B-6,west region,31.2,121.4,C,,WEST,10",
        "B-7,half a position,31.2,,C,rep,EAST,200",
    )
    r = login(client, org.manager).post("/stores/import", data={"file": (io.BytesIO(bad), "bad.csv")},
                                        content_type="multipart/form-data")
    assert r.status_code == 422
    text = r.text
    assert "Nothing was imported" in text
    for expected in ("row 3, lat: must be between -90 and 90",
                     "row 4, tier: must be one of A, B, C, D",
                     "row 5, owner_rep: no rep with login nobody in your scope",
                     "row 6, owner_rep: no rep with login westrep in your scope",
                     "row 7, geofence_m: must be between 20 and 5000",
                     "row 8, lng: give both lat and lng, or neither"):
        assert expected in text, expected
    assert "row 2" not in text
    assert stores_count() == 0 and audit_actions() == []
    # Once the cells are right, a duplicate code and a region outside the scope are still refused.
    bad2 = csv_bytes("code,name,region", "B-1,a,EAST", "B-2,b,WEST", "b-1,c,EAST")
    r = upload(client, "/stores/import", bad2)
    assert r.status_code == 422
    assert "row 3, region: no region with code WEST in your scope" in r.text
    assert "row 4, code: b-1 is also in row 2" in r.text
    assert stores_count() == 0


def test_manager_cannot_take_over_a_west_store_by_code(client, org, shops):
    r = login(client, org.manager).post("/stores/import",
                                        data={"file": (io.BytesIO(csv_bytes("code,name,region", "W-ONE,mine,EAST")),
                                                       "s.csv")}, content_type="multipart/form-data")
    assert r.status_code == 422 and "row 2, code: W-ONE is already used by a store outside your scope" in r.text
    assert store_by_code("W-ONE").name == "Delta Chengdu"


def test_manager_cannot_import_a_store_out_of_reach(client, org):
    r = upload(login(client, org.manager), "/stores/import", csv_bytes("code,name", "X-1,nowhere"))
    assert r.status_code == 422 and "row 2, region: the store would be outside your regions and team" in r.text
    assert stores_count() == 0 and audit_actions() == []


def test_admin_imports_anywhere(client, org):
    r = upload(login(client, org.admin), "/stores/import",
               csv_bytes("code,name,region,owner_rep", "X-1,west,WEST,westrep", "X-2,none,,"))
    assert r.status_code == 302 and stores_count() == 2


def test_missing_headers_empty_and_non_files(client, org):
    login(client, org.manager)
    r = upload(client, "/stores/import", csv_bytes("code,nom", "A,b"))
    assert r.status_code == 422
    assert "row 1, nom: unknown column" in r.text and "row 1, name: required column is missing" in r.text
    r = upload(client, "/stores/import", b"")
    assert r.status_code == 422 and "The file is empty." in r.text
    r = client.post("/stores/import", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and "Choose a file" in r.text
    r = upload(client, "/stores/import", b"PK\x03\x04junk", filename="s.xlsx")
    assert r.status_code == 422 and "Excel workbook" in r.text
    assert stores_count() == 0


def test_gbk_csv_with_chinese_headers(client, org):
    data = csv_bytes("门店编码,门店名称,区域,负责业务员,纬度,经度,坐标系", "G-1,五角场店,EAST,rep,31.30,121.51,bd09",
                     encoding="gbk")
    r = upload(login(client, org.manager), "/stores/import", data)
    assert r.status_code == 302
    store = store_by_code("G-1")
    assert store.name == "五角场店" and store.datum == "bd09"
    assert distance_m(Point(*from_wgs84(store.point, "bd09")), Point(31.30, 121.51)) < 1


def test_xlsx_import(client, org):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["code", "name", "lat", "lng", "tier", "region", "visit_every_days"])
    ws.append(["00042", "表格店", 31.2, 121.45, "a", "EAST", 14])
    out = io.BytesIO()
    wb.save(out)
    r = upload(login(client, org.manager), "/stores/import", out.getvalue(), filename="stores.xlsx")
    assert r.status_code == 302
    store = store_by_code("00042")
    assert store.tier == "A" and store.lat == 31.2 and store.visit_every_days == 14


# --- export -------------------------------------------------------------------------------------

def test_csv_export_is_scoped_and_opens_in_excel(client, org, shops):
    r = login(client, org.manager).get("/stores/export.csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.data.startswith(b"\xef\xbb\xbf")
    text = r.data.decode("utf-8-sig")
    assert text.splitlines()[0] == ("code,name,address,lat,lng,datum,geofence_m,tier,channel,dealer,owner_rep,"
                                    "region,visit_every_days,active")
    assert "E-MINE" in text and "W-ONE" not in text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(client, org, fmt):
    gcj = from_wgs84(PEOPLE_SQUARE, "gcj02")
    login(client, org.manager)
    client.post("/stores/new", data=form_data(org, code="R-1", name="=SUM(A1)", lat=str(gcj[0]), lng=str(gcj[1]),
                                              datum="gcj02", dealer="经销商", visit_every_days="3"))
    upload(client, "/stores/import", GOOD)
    make_store(rep=org.rep, code="R-2", lat=None, lng=None)
    before = {s.code: (s.name, s.address, s.lat, s.lng, s.datum, s.geofence_m, s.tier, s.channel, s.dealer,
                       s.owner_rep_id, s.region_id, s.visit_every_days, s.active)
              for s in db.session.execute(select(Store)).scalars()}
    exported = client.get(f"/stores/export.{fmt}")
    assert exported.status_code == 200
    r = upload(client, "/stores/import", exported.data, filename=f"stores.{fmt}")
    assert r.status_code == 302, r.text
    assert "0 new, 0 updated, 5 unchanged" in client.get(r.headers["Location"]).text
    db.session.expire_all()
    after = {s.code: (s.name, s.address, s.lat, s.lng, s.datum, s.geofence_m, s.tier, s.channel, s.dealer,
                      s.owner_rep_id, s.region_id, s.visit_every_days, s.active)
             for s in db.session.execute(select(Store)).scalars()}
    assert after == before
    assert before["R-1"][0] == "=SUM(A1)" and before["R-1"][4] == "gcj02"


def test_xlsx_export(client, org, shops):
    r = login(client, org.admin).get("/stores/export.xlsx")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("code", "name", "address")
    assert sorted(r[0] for r in rows[1:]) == ["E-MINE", "E-MINE2", "E-TEAM", "W-ONE"]
    assert all(r[5] == "wgs84" for r in rows[1:])


def test_an_id_beyond_any_record_is_404_not_a_crash(client, org):
    login(client, org.rep)
    assert client.get("/stores/99999999999999999999999").status_code == 404
    assert client.get("/visits/99999999999999999999999").status_code == 404
