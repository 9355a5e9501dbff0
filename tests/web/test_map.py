"""The maps by request: who may open them, what their JSON holds (scope, the day, the tiles' datum), and the
Content-Security-Policy naming the tile servers only when MAP_TILES configures some."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from field import create_app, security
from field.config import SettingsError
from field.geo import Point, to_bd09, to_gcj02
from tests.conftest import login
from tests.factories import earlier_today, make_store, make_visit

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2024, 5, 6)
A, B, C = Point(31.2300, 121.4700), Point(31.2390, 121.4700), Point(31.2390, 121.4805)
OUTSIDE = {"code": "outside_geofence", "at": "check_in", "distance_m": 812}


def local(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def team(org):
    """East: two stores of the rep (one visited today), one of the teammate; west: one store, visited today."""
    shop = make_store(rep=org.rep, name="East Shop", lat=A.lat, lng=A.lng, tier="A")
    other = make_store(rep=org.rep, name="East Corner", lat=B.lat, lng=B.lng, tier="C")
    mate = make_store(rep=org.teammate, name="Mate Mart", lat=C.lat, lng=C.lng, tier="D")
    nowhere = make_store(rep=org.rep, name="No Position", lat=None, lng=None)
    west = make_store(rep=org.west_rep, name="West Shop", lat=30.6586, lng=104.0647)
    visit = make_visit(org.rep, shop, at=earlier_today(60), minutes=20, point=Point(A.lat + 0.0001, A.lng),
                       flags=[OUTSIDE])
    west_visit = make_visit(org.west_rep, west, at=earlier_today(50), minutes=10, point=Point(30.6586, 104.0647))
    return dict(shop=shop, other=other, mate=mate, nowhere=nowhere, west=west, visit=visit, west_visit=west_visit)


def stores_of(data):
    return {row[5]: row for row in data["stores"]}


# --- the team map ---------------------------------------------------------------------------------

def test_the_team_map_page_is_a_box_filled_by_a_static_script(client, org, team):
    login(client, org.supervisor)
    response = client.get("/map")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="map"' in html and 'data-src="/map/points.json"' in html
    assert "/static/vendor/leaflet-1.9.4/leaflet." in html and "/static/js/map." in html
    assert "<script>" not in html and "<script type" not in html  # nothing inline for the CSP to refuse
    assert "Plain background" in html   # MAP_TILES is none in tests


@pytest.mark.parametrize("who", ["rep", "teammate"])
def test_reps_do_not_get_the_team_map(client, org, team, who):
    login(client, getattr(org, who))
    assert client.get("/map").status_code == 403
    assert client.get("/map/points.json").status_code == 403


def test_a_supervisor_sees_the_team_and_the_regions_stores_and_todays_checkins(client, org, team):
    login(client, org.supervisor)
    data = client.get("/map/points.json").get_json()
    stores = stores_of(data)
    assert set(stores) == {"East Shop", "East Corner", "Mate Mart"}       # not the west's, not the unplaced
    assert data["unplaced"] == 1
    shop = stores["East Shop"]
    assert shop[:5] == [team["shop"].id, A.lat, A.lng, "A", 1]          # visited today
    assert stores["East Corner"][4] == 0 and stores["Mate Mart"][3] == "D"
    assert len(data["checkins"]) == 1
    vid, lat, lng, time, rep, store_id, store_name, flagged = data["checkins"][0]
    assert (vid, rep, store_id, store_name, flagged) == (team["visit"].id, org.rep.id, team["shop"].id,
                                                          "East Shop", 1)
    assert (lat, lng) == (round(A.lat + 0.0001, 6), A.lng) and len(time) == 5
    assert data["reps"] == {str(org.rep.id): org.rep.name}
    assert data["datum"] == "wgs84"


def test_a_manager_sees_the_regions_and_an_admin_everything(client, org, team):
    login(client, org.manager)
    data = client.get("/map/points.json").get_json()
    assert set(stores_of(data)) == {"East Shop", "East Corner", "Mate Mart"}
    login(client, org.admin)
    data = client.get("/map/points.json").get_json()
    assert set(stores_of(data)) == {"East Shop", "East Corner", "Mate Mart", "West Shop"}
    assert len(data["checkins"]) == 2


def test_filter_by_rep(client, org, team):
    login(client, org.supervisor)
    data = client.get(f"/map/points.json?rep={org.teammate.id}").get_json()
    assert set(stores_of(data)) == {"Mate Mart"} and data["checkins"] == []
    data = client.get(f"/map/points.json?rep={org.rep.id}").get_json()
    assert set(stores_of(data)) == {"East Shop", "East Corner"} and len(data["checkins"]) == 1
    page = client.get(f"/map?rep={org.rep.id}").get_data(as_text=True)
    assert f'data-src="/map/points.json?rep={org.rep.id}"' in page
    assert f'<option value="{org.rep.id}" selected>' in page


@pytest.mark.parametrize("url", ["/map?rep={id}", "/map/points.json?rep={id}"])
def test_a_rep_outside_scope_is_not_there(client, org, team, url):
    login(client, org.supervisor)
    assert client.get(url.format(id=org.west_rep.id)).status_code == 404
    assert client.get(url.format(id=999999)).status_code == 404
    assert client.get(url.format(id=-3)).status_code == 404


def test_bad_filters_say_so(client, org, team):
    login(client, org.supervisor)
    response = client.get("/map?rep=bob&date=yesterday")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "is not a rep" in html and "is not a date" in html
    assert client.get("/map/points.json?date=2024-13-45").status_code == 422
    assert "error" in client.get("/map/points.json?rep=x").get_json()


def test_another_day(client, org, team):
    make_visit(org.teammate, team["mate"], at=local(10), minutes=15, point=C)
    login(client, org.supervisor)
    data = client.get(f"/map/points.json?date={DAY.isoformat()}").get_json()
    assert data["day"] == DAY.isoformat()
    assert [row[5] for row in data["checkins"]] == [team["mate"].id]
    assert stores_of(data)["Mate Mart"][4] == 1 and stores_of(data)["East Shop"][4] == 0
    page = client.get(f"/map?date={DAY.isoformat()}").get_data(as_text=True)
    assert f"date={DAY.isoformat()}" in page


@pytest.mark.parametrize("tiles, convert", [("amap", to_gcj02), ("tencent", to_gcj02), ("baidu", to_bd09)])
def test_positions_are_sent_in_the_tiles_datum(app, client, org, team, monkeypatch, tiles, convert):
    monkeypatch.setitem(app.config, "MAP_TILES", tiles)
    login(client, org.supervisor)
    data = client.get("/map/points.json").get_json()
    shop = stores_of(data)["East Shop"]
    assert shop[1:3] == pytest.approx(list(convert(A)), abs=1e-6)
    assert shop[1:3] != [A.lat, A.lng]
    page = client.get("/map").get_data(as_text=True)
    assert "Plain background" not in page
    assert ('"crs": "baidu"' in page) == (tiles == "baidu")


def test_a_map_of_two_thousand_stores_is_compact(client, org):
    from field.extensions import db
    from field.stores.models import Store
    db.session.add_all([Store(code=f"M{n:05d}", name=f"Store {n}", lat=31 + n / 10000, lng=121 + n / 10000,
                              tier="ABCD"[n % 4], owner_rep=org.rep, region=org.east) for n in range(2000)])
    db.session.commit()
    login(client, org.supervisor)
    response = client.get("/map/points.json", headers={"Accept-Encoding": "identity"})
    data = response.get_json()
    assert len(data["stores"]) == 2000
    assert len(response.data) < 2000 * 50, "one short array per store"


# --- a rep's day route ------------------------------------------------------------------------------

@pytest.fixture
def day_route(org):
    stores = [make_store(rep=org.rep, name=f"Stop {n}", lat=p.lat, lng=p.lng) for n, p in zip("ABC", (A, B, C))]
    visits = [make_visit(org.rep, stores[1], at=local(11), minutes=20, point=B),
              make_visit(org.rep, stores[0], at=local(9), minutes=25, point=A, flags=[OUTSIDE]),
              make_visit(org.rep, stores[2], at=local(14), minutes=10, point=None),      # no position
              make_visit(org.rep, stores[2], planned_for=DAY)]                           # never started
    return stores, visits


def test_the_route_is_the_days_checkins_in_order(client, org, day_route):
    stores, visits = day_route
    login(client, org.supervisor)
    data = client.get(f"/reps/{org.rep.id}/day/route.json?date={DAY.isoformat()}").get_json()
    assert [(s["n"], s["name"]) for s in data["stops"]] == [(1, "Stop A"), (2, "Stop B")]
    first = data["stops"][0]
    assert first["visit"] == visits[1].id and first["at"] == [A.lat, A.lng] and first["flagged"] == 1
    assert first["time"] == "09:00–09:25"
    assert data["left_out"] == 1
    page = client.get(f"/reps/{org.rep.id}/day/map?date={DAY.isoformat()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index("Stop A") < html.index("Stop B")
    assert f'data-src="/reps/{org.rep.id}/day/route.json?date={DAY.isoformat()}"' in html
    assert "1 check-in without a position is not on the map." in html


def test_a_rep_sees_their_own_route_and_nobody_elses(client, org, day_route):
    login(client, org.rep)
    assert client.get(f"/reps/{org.rep.id}/day/map?date={DAY.isoformat()}").status_code == 200
    assert client.get(f"/reps/{org.rep.id}/day/route.json").status_code == 200
    for other in (org.teammate, org.west_rep, org.supervisor):
        assert client.get(f"/reps/{other.id}/day/map").status_code == 404
        assert client.get(f"/reps/{other.id}/day/route.json").status_code == 404


def test_a_supervisor_does_not_see_another_teams_route(client, org, day_route):
    login(client, org.west_supervisor)
    assert client.get(f"/reps/{org.rep.id}/day/map").status_code == 404
    assert client.get(f"/reps/{org.rep.id}/day/route.json").status_code == 404
    assert client.get(f"/reps/{org.west_rep.id}/day/route.json").status_code == 200


def test_a_bad_day_says_so(client, org):
    login(client, org.rep)
    response = client.get(f"/reps/{org.rep.id}/day/map?date=soon")
    assert response.status_code == 422 and "is not a date" in response.get_data(as_text=True)
    assert client.get(f"/reps/{org.rep.id}/day/route.json?date=soon").status_code == 422


def test_the_team_and_day_pages_link_to_the_maps(client, org, day_route):
    login(client, org.supervisor)
    assert 'href="/map"' in client.get("/team").get_data(as_text=True)
    html = client.get(f"/reps/{org.rep.id}/day?date={DAY.isoformat()}").get_data(as_text=True)
    assert f'href="/reps/{org.rep.id}/day/map?date={DAY.isoformat()}"' in html


# --- the Content-Security-Policy ------------------------------------------------------------------------

def _directives(response) -> dict:
    return dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))


def _app_with(app, **settings):
    return create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY")}, "TESTING": True,
                       **settings})


def test_without_tiles_images_come_from_this_site_only(client):
    directives = _directives(client.get("/login"))
    assert directives["img-src"] == "'self' data: blob:"


@pytest.mark.parametrize("tiles, hosts", [
    ("osm", ["https://tile.openstreetmap.org"]),
    ("amap", [f"https://webrd0{n}.is.autonavi.com" for n in "1234"]),
    ("https://{s}.tiles.example.com/{z}/{x}/{y}.png", [f"https://{s}.tiles.example.com" for s in "abc"]),
])
def test_configured_tiles_are_named_in_img_src_alone(app, client, tiles, hosts):
    plain = _directives(client.get("/login"))
    tiled = _directives(_app_with(app, MAP_TILES=tiles).test_client().get("/login"))
    assert tiled["img-src"] == " ".join(["'self' data: blob:", *hosts])
    assert {k: v for k, v in tiled.items() if k != "img-src"} == {k: v for k, v in plain.items() if k != "img-src"}
    assert tiled["script-src"] == "'self'" and tiled["connect-src"] == "'self'"
    assert security.csp(hosts) == "; ".join(f"{k} {v}" for k, v in tiled.items())


def test_a_tile_setting_that_cannot_work_stops_the_start(app):
    with pytest.raises(SettingsError, match="MAP_TILES"):
        _app_with(app, MAP_TILES="https://evil.example.com;script-src */{z}/{x}/{y}")
