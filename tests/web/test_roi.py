"""The manager's ROI pages by request: KPIs, charts, sortable tables, filters, the drill-down from an
activity to a store's sales and evidence, the export of what is shown, and scope."""
import csv
import io
import re
import uuid
from datetime import date, timedelta

import openpyxl
import pytest

from field.activities.models import ActivityStatus as S, Review, Verdict
from field.core import now
from field.extensions import db
from field.photos import ingest
from field.sales.models import Sale
from tests.conftest import login
from tests.factories import make_activity, make_region, make_store, make_type
from tests.fixtures import photos as samples

HX = {"HX-Request": "true", "HX-Request-Type": "partial"}
START, END = date(2026, 3, 2), date(2026, 3, 11)
MARCH = "from=2026-03-01&to=2026-03-31"


def sell(store, first: date, last: date, amount: int):
    day = first
    while day <= last:
        db.session.add(Sale(store_id=store.id, sold_on=day, amount=amount, quantity=1, source="import",
                            source_key=f"{store.code}|{day}"))
        day += timedelta(days=1)


def activity_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-activity="(\d+)"', html)]


@pytest.fixture
def world(org):
    """Two March activities in the East: 'Win' sold ¥300 a day on a ¥100 a day baseline, 'Flop' sold
    what it always did; one in the West. Win's store had its first period verified."""
    display, tasting = make_type(name="陈列", name_en="Display", floor="60.00"), make_type(name="品鉴", name_en="Tasting")
    north = make_region("EAST-N", "East north", org.east)
    win_store = make_store(rep=org.rep, code="E-WIN", name="Alpha Mart", region=north)
    flop_store = make_store(rep=org.teammate, code="E-FLOP", name="Beta Shop")
    west_store = make_store(rep=org.west_rep, code="W-1", name="Delta Chengdu")
    win = make_activity(org.rep, [win_store], budget=100_000, kind=display, status=S.ENDED, start=START, end=END,
                        title="Win")
    flop = make_activity(org.teammate, [flop_store], budget=100_000, kind=tasting, status=S.ENDED, start=START,
                         end=END, title="Flop")
    west = make_activity(org.west_rep, [west_store], kind=display, status=S.ENDED, start=START, end=END, title="West")
    for store in (win_store, flop_store, west_store):
        sell(store, START - timedelta(days=28), START - timedelta(days=1), 10_000)
    sell(win_store, START, END, 30_000)
    sell(flop_store, START, END, 10_000)
    db.session.add(Review(activity_store=win.stores[0], period_index=0, verdict=Verdict.APPROVED, reason="", note="",
                          reviewer=org.supervisor))
    db.session.commit()
    return {"win": win, "flop": flop, "west": west, "north": north, "display": display, "win_store": win_store}


def test_the_overview_shows_kpis_charts_and_activities(client, org, world):
    r = login(client, org.manager).get(f"/roi?{MARCH}")
    assert r.status_code == 200
    text = r.text
    # Win: +¥2,000 sales × 30 % = ¥600 GP on ¥1,000 committed → −40 %; Flop: 0 GP → −100 %.
    assert re.search(r'data-kpi="spend">¥2,000.00<', text)
    assert re.search(r'data-kpi="gp">¥600.00<', text)
    assert re.search(r'data-kpi="roi">−70.0 %<', text)                 # (600 − 2000) / 2000
    assert re.search(r'data-kpi="compliance">25.0 %<', text)           # 1 of Win's 2 weeks, 0 of Flop's 2
    assert sorted(activity_ids(text)) == sorted([world["win"].id, world["flop"].id])
    assert 'class="bar-chart"' in text and 'data-bar="Display"' in text and 'data-bar="Tasting"' in text
    assert "roi-negative" in text and "compliance-low" in text
    assert "West" not in text


def test_filters_by_region_and_type_and_htmx_gets_only_the_results(client, org, world):
    login(client, org.manager)
    north = client.get(f"/roi?{MARCH}&region={world['north'].id}")
    assert activity_ids(north.text) == [world["win"].id]
    typed = client.get(f"/roi?{MARCH}&type={world['display'].id}")
    assert activity_ids(typed.text) == [world["win"].id]
    february = client.get("/roi?from=2026-02-01&to=2026-02-28")
    assert activity_ids(february.text) == []
    partial = client.get(f"/roi?{MARCH}", headers=HX)
    assert partial.status_code == 200 and "<html" not in partial.text and 'data-kpi="roi"' in partial.text
    assert 'name="from"' not in partial.text


def test_tables_sort_by_the_column_asked(client, org, world):
    login(client, org.manager)
    by_roi = activity_ids(client.get(f"/roi?{MARCH}&sort=roi&dir=desc").text)
    assert by_roi == [world["win"].id, world["flop"].id]
    assert activity_ids(client.get(f"/roi?{MARCH}&sort=roi&dir=asc").text) == [world["flop"].id, world["win"].id]
    assert activity_ids(client.get(f"/roi?{MARCH}&sort=title&dir=asc").text) == [world["flop"].id, world["win"].id]
    assert activity_ids(client.get(f"/roi?{MARCH}&sort=nonsense").text) == by_roi


def test_a_long_table_shows_its_first_rows_and_offers_the_rest(client, org, world, monkeypatch):
    from field.roi import views
    monkeypatch.setattr(views, "ROWS", 1)
    login(client, org.manager)
    page = client.get(f"/roi?{MARCH}&sort=roi&dir=asc").text
    assert activity_ids(page) == [world["flop"].id]                    # the first row in the order asked
    assert "Show all 2 activities" in page and re.search(r'data-kpi="spend">¥2,000', page)  # KPIs count both
    everything = client.get(f"/roi?{MARCH}&sort=roi&dir=asc&all=1").text
    assert activity_ids(everything) == [world["flop"].id, world["win"].id] and "Show all" not in everything


def test_drill_down_from_an_activity_to_a_store_and_its_evidence(client, org, world):
    visit_store = world["win_store"]
    visit = samples.visit_in_progress(org.rep, store=visit_store)
    step = next(s for s in visit.visit_type.steps if s.kind == "photo")
    photo, _ = ingest.add_photo(visit, step, ingest.Upload(data=samples.jpeg(3), client_id=str(uuid.uuid4()),
                                                           phone_point=visit_store.point, accuracy_m=5,
                                                           captured_at=now()), org.rep)
    # The photo was taken today; put the activity around today so the photo is its evidence.
    login(client, org.manager)
    page = client.get(f"/roi/activities/{world['win'].id}?{MARCH}")
    assert page.status_code == 200
    assert "series-actual" in page.text and "series-baseline" in page.text
    line_id = world["win"].stores[0].id
    assert f'data-line="{line_id}"' in page.text
    detail = client.get(f"/roi/lines/{line_id}")
    assert detail.status_code == 200
    text = detail.text
    assert "2/2/26 – 3/1/26: 28 days" in text                         # both ends count; the day before the start
    assert re.search(r"data-pre-sales>¥2,800.00<", text)               # 28 days × ¥100
    assert re.search(r"data-baseline>¥1,000.00 ", text)                 # ¥100 × 10 days
    assert re.search(r"data-actual>¥3,000.00 ", text)
    assert re.search(r"data-roi>−40.0 %<", text)
    assert 'data-period="0"' in text and "verified" in text
    assert "No photos at this store during the activity." in text       # the photo is from today, not March
    today = date.today()
    live = make_activity(org.rep, [visit_store], kind=world["display"], status=S.RUNNING,
                         start=today - timedelta(days=3), end=today + timedelta(days=3), title="Now")
    now_page = client.get(f"/roi/lines/{live.stores[0].id}")
    assert f"/photos/{photo.id}" in now_page.text


def test_export_what_is_shown(client, org, world):
    login(client, org.manager)
    r = client.get(f"/roi/export.csv?{MARCH}&sort=title&dir=asc")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["activity", "title", "type"]
    assert [row[1] for row in rows[1:]] == ["Flop", "Win"]
    win = rows[2]
    assert win[4:11] == ["3000.00", "1000.00", "2000.00", "600.00", "1000.00", "committed", "-40.00"]
    assert r.headers["Content-Disposition"] == 'attachment; filename="roi-2026-03-01-2026-03-31.csv"'
    filtered = client.get(f"/roi/export.xlsx?{MARCH}&region={world['north'].id}")
    assert filtered.headers["Content-Disposition"] == \
        f'attachment; filename="roi-2026-03-01-2026-03-31-region-{world["north"].code}.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(filtered.data))
    assert [row[1] for row in book.active.iter_rows(values_only=True)][1:] == ["Win"]
    stores = client.get(f"/roi/activities/{world['win'].id}/export.csv")
    rows = list(csv.reader(io.StringIO(stores.data.decode("utf-8-sig"))))
    assert rows[1][1] == "E-WIN" and rows[1][12] == "-40.00"


def test_only_managers_and_admins_and_only_their_scope(client, org, world):
    for user in (org.rep, org.supervisor):
        login(client, user)
        assert client.get("/roi").status_code == 403
        assert client.get(f"/roi/activities/{world['win'].id}").status_code == 403
    login(client, org.manager)
    west = world["west"]
    assert client.get(f"/roi/activities/{west.id}").status_code == 404
    assert client.get(f"/roi/activities/{west.id}/export.csv").status_code == 404
    assert client.get(f"/roi/lines/{west.stores[0].id}").status_code == 404
    assert client.get("/roi/lines/99999999999").status_code == 404
    login(client, org.admin)
    assert sorted(activity_ids(client.get(f"/roi?{MARCH}").text)) == sorted(
        [world["win"].id, world["flop"].id, west.id])


def test_bad_filters_fall_back_to_the_defaults(client, org, world):
    r = login(client, org.manager).get("/roi?from=yesterday&to=2026-13-40&region=abc&type=-1&dir=up")
    assert r.status_code == 200 and 'data-kpi="roi"' in r.text


def test_charts_with_drill_down_links_are_groups_of_named_links_not_images(client, org, world):
    page = login(client, org.manager).get(f"/roi?{MARCH}").text
    charts = re.findall(r'<svg class="bar-chart"[^>]*role="(\w+)"[^>]*>(.*?)</svg>', page, re.S)
    assert any("<a " in body for _, body in charts), "the charts drill down"
    for role, body in charts:
        if "<a " in body:
            assert role == "group"
            assert all(re.search(r'aria-label="[^"]+: [^"]+"', a) for a in re.findall(r"<a [^>]*>", body))
        else:
            assert role == "img"
