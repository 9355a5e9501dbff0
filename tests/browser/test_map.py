"""The maps in a browser, with no tiles (MAP_TILES=none): the markers draw over a plain background at phone
size and at 1366×768, a team of 2,000 stores included; tapping a marker shows its store; a rep's day is a
numbered route. Nothing is fetched from anywhere but this site, and the CSP refuses nothing."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from field.extensions import db
from field.geo import Point
from field.stores.models import Store
from tests.browser.conftest import keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD, earlier_today, make_store, make_visit

LAPTOP = {"viewport": {"width": 1366, "height": 768}, "screen": {"width": 1366, "height": 768},
          "is_mobile": False, "has_touch": False, "device_scale_factor": 1}
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2024, 5, 6)
A, B, C = Point(31.2300, 121.4700), Point(31.2390, 121.4700), Point(31.2390, 121.4805)

COUNT_MARKERS = """() => {
  const map = document.getElementById("map").fieldMap;
  let circles = 0;
  map.eachLayer(layer => { if (layer instanceof L.CircleMarker) circles++; });
  return circles;
}"""

# Where a layer of the map is on the page, and the colour the canvas painted there.
MARKER_AT = """([lat, lng]) => {
  const el = document.getElementById("map");
  const p = el.fieldMap.latLngToContainerPoint([lat, lng]);
  const box = el.getBoundingClientRect();
  const x = box.left + p.x, y = box.top + p.y;
  const canvas = el.querySelector("canvas");
  const c = canvas.getBoundingClientRect();
  const px = canvas.getContext("2d").getImageData(Math.round((x - c.left) * canvas.width / c.width),
                                                  Math.round((y - c.top) * canvas.height / c.height), 1, 1).data;
  return {x, y, rgba: Array.from(px)};
}"""


def watch(page):
    """Collect what should never happen: console errors (a CSP refusal is one) and requests to another site."""
    trouble = []
    page.on("console", lambda msg: trouble.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("request", lambda req: trouble.append(f"request: {req.url}")
            if not req.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    return trouble


# `?.`: while a tap's navigation is under way the page may not hold the map yet: not ready, not an error.
MAP_READY = "() => document.getElementById('map')?.dataset.ready === '1'"


def open_map(page, live_server, url):
    page.goto(f"{live_server}{url}")
    page.wait_for_function(MAP_READY)


@pytest.fixture
def team(org):
    shop = make_store(rep=org.rep, name="East Shop", lat=A.lat, lng=A.lng, tier="A")
    corner = make_store(rep=org.rep, name="East Corner", lat=B.lat, lng=B.lng, tier="C")
    mate = make_store(rep=org.teammate, name="Mate Mart", lat=C.lat, lng=C.lng, tier="D")
    make_visit(org.rep, shop, at=earlier_today(60), minutes=20, point=Point(A.lat + 0.0002, A.lng + 0.0002))
    return dict(shop=shop, corner=corner, mate=mate)


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_the_team_map_draws_markers_over_a_plain_background_and_a_tap_names_the_store(
        new_page, live_server, org, team, size):
    page = new_page(**LAPTOP) if size == "laptop" else new_page()
    trouble = watch(page)
    login(page, live_server, org.supervisor.login, PASSWORD)
    open_map(page, live_server, "/map")
    el = page.locator("#map")
    assert el.get_attribute("data-stores") == "3" and el.get_attribute("data-checkins") == "1"
    assert page.evaluate(COUNT_MARKERS) == 4, "three stores and one check-in on the canvas"
    assert page.locator("#map .leaflet-tile").count() == 0, "no tiles: a plain background"
    assert "3 stores · 1 check-in" in page.locator("#map-summary").inner_text()
    box = el.bounding_box()
    assert box["height"] >= 320 and box["width"] <= page.viewport_size["width"]
    # The canvas painted the tier colour where a store is (tier C: blue).
    corner = page.evaluate(MARKER_AT, [B.lat, B.lng])
    assert corner["rgba"][3] > 0 and corner["rgba"][2] > 150 and corner["rgba"][0] < 100, corner
    if size == "phone":
        page.touchscreen.tap(corner["x"], corner["y"])
    else:
        page.mouse.click(corner["x"], corner["y"])
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "East Corner" in popup.inner_text() and "Tier C" in popup.inner_text()
    assert popup.locator("a").get_attribute("href") == f"/stores/{team['corner'].id}"
    assert no_horizontal_overflow(page)
    keep_shot(page, f"map-team-{size}", full_page=False)
    # Colour by visit, in place: the visited store turns green, the legend follows.
    page.select_option("#map-colour", "visited")
    assert page.locator(".legend-visited").is_visible() and not page.locator(".legend-tier").is_visible()
    assert "colour=visited" in page.url
    assert not trouble, trouble


def test_filter_by_rep_shows_that_reps_stores(page, live_server, org, team):
    login(page, live_server, org.supervisor.login, PASSWORD)
    open_map(page, live_server, "/map")
    page.select_option("#map-rep", str(org.teammate.id))
    page.wait_for_url(f"**/map?rep={org.teammate.id}*")
    page.wait_for_function(MAP_READY)
    assert page.locator("#map").get_attribute("data-stores") == "1"
    assert page.locator("#map").get_attribute("data-checkins") == "0"


def test_two_thousand_stores_draw_on_one_canvas(new_page, live_server, org):
    db.session.add_all([Store(code=f"M{n:05d}", name=f"Grid Store {n}", lat=31.0 + (n // 45) * 0.01,
                              lng=121.0 + (n % 45) * 0.01, tier="ABCD"[n % 4], owner_rep=org.rep, region=org.east)
                        for n in range(2000)])
    db.session.commit()
    page = new_page(**LAPTOP)
    trouble = watch(page)
    login(page, live_server, org.supervisor.login, PASSWORD)
    started = page.evaluate("() => performance.now()")
    open_map(page, live_server, "/map")
    took_ms = page.evaluate("() => performance.now()") - started
    assert page.locator("#map").get_attribute("data-stores") == "2000"
    assert page.evaluate(COUNT_MARKERS) == 2000
    assert page.locator("#map canvas").count() == 1, "one canvas, not 2,000 elements"
    assert page.locator("#map .leaflet-overlay-pane svg, #map .leaflet-marker-icon").count() == 0
    assert took_ms < 5000, f"the map took {took_ms:.0f} ms"
    keep_shot(page, "map-team-2000-laptop", full_page=False)
    # Store 1000 sits at row 22, column 10: zoomed in to it, a click there names it.
    target = [31.0 + 22 * 0.01, 121.0 + 10 * 0.01]
    page.evaluate("(at) => { document.getElementById('map').fieldMap.setView(at, 14, {animate: false}); }", target)
    page.wait_for_timeout(100)  # the canvas redraws on the next frame
    spot = page.evaluate(MARKER_AT, target)
    page.mouse.click(spot["x"], spot["y"])
    page.locator(".leaflet-popup-content").wait_for()
    assert "Grid Store 1000" in page.locator(".leaflet-popup-content").inner_text()
    assert not trouble, trouble


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_a_reps_day_is_a_numbered_route(new_page, live_server, org, size):
    stores = [make_store(rep=org.rep, name=f"Stop {n}", lat=p.lat, lng=p.lng) for n, p in zip("ABC", (A, B, C))]
    for hour, store, point in ((9, stores[0], A), (11, stores[1], B), (14, stores[2], C)):
        make_visit(org.rep, store, at=datetime(2024, 5, 6, hour, tzinfo=SHANGHAI), minutes=20,
                   point=Point(point.lat + 0.0003, point.lng))
    page = new_page(**LAPTOP) if size == "laptop" else new_page()
    trouble = watch(page)
    login(page, live_server, org.supervisor.login, PASSWORD)
    page.goto(f"{live_server}/reps/{org.rep.id}/day?date={DAY.isoformat()}")
    page.locator("[data-route-map]").click()
    page.wait_for_url("**/day/map?*")
    page.wait_for_function(MAP_READY)
    markers = page.locator("#map .stop-marker")
    assert markers.count() == 3
    assert [markers.nth(i).inner_text() for i in range(3)] == ["1", "2", "3"]
    assert page.locator("#map").get_attribute("data-stops") == "3"
    assert [t.strip() for t in page.locator(".route-stops .title").all_inner_texts()] == ["Stop A", "Stop B", "Stop C"]
    if size == "phone":
        markers.nth(1).tap()
    else:
        markers.nth(1).click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "2. Stop B" in popup.inner_text() and "11:00" in popup.inner_text()
    assert no_horizontal_overflow(page)
    keep_shot(page, f"map-route-{size}", full_page=False)
    assert not trouble, trouble
