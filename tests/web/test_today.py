"""The rep's Today by request: why each store is on the list, the route from where the rep stands,
the distances, the visit in progress on top, check-in from the list, and what others may not see."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from field.core import now
from field.extensions import db
from field.geo import Point, distance_m
from field.stores.views import distance_label
from field.visits import planning
from field.visits.models import FollowUp, Visit, VisitStatus
from tests.conftest import login
from tests.factories import earlier_today, make_store, vtype

pytestmark = pytest.mark.usefixtures("builtin_types")

# Stores on a line going east at 31.23° N: each 0.01° of longitude is ≈ 951 m.
LAT, LNG = 31.2300, 121.4700


def visited(rep, store, days_ago: int, status=VisitStatus.COMPLETED) -> Visit:
    """A visit that ended `days_ago` days ago (0: an hour ago)."""
    if days_ago == 0:  # in at 80 minutes ago, out 20 minutes later: both today on the rep's clock
        checkin = earlier_today(80)
        end = checkin + min(timedelta(minutes=20), (now() - checkin) / 2)
    else:
        end = now() - timedelta(days=days_ago)
        checkin = end - timedelta(minutes=20)
    visit = Visit(rep=rep, store=store, visit_type=vtype(), status=status, flags=[],
                  planned_for=planning.local_today(rep) - timedelta(days=days_ago),
                  checkin_at=checkin,
                  checkout_at=end if status == VisitStatus.COMPLETED else None)
    db.session.add(visit)
    db.session.commit()
    return visit


def planned(rep, store, day=None, code="routine") -> Visit:
    visit = Visit(rep=rep, store=store, visit_type=vtype(code), status=VisitStatus.PLANNED, flags=[],
                  planned_for=day or planning.local_today(rep))
    db.session.add(visit)
    db.session.commit()
    return visit


def page_text(response) -> str:
    """What the reader sees: the page's words without tags, spaces collapsed."""
    html = response.get_data(as_text=True).replace("\u00a0", " ")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def stop_html(response, store) -> str:
    """The HTML of one stop's card (route) or line (also due)."""
    html = response.get_data(as_text=True).replace("\u00a0", " ")
    match = re.search(rf'<li class="card stop[^"]*" id="stop-{store.id}".*?</li>', html, re.S)
    if match is None:
        match = re.search(rf'<a class="list-item"[^>]*data-store="{store.code}".*?</a>', html, re.S)
    assert match is not None, f"{store.name} is not on the page"
    return re.sub(r"\s+", " ", match.group(0))


def route_codes(response) -> list[str]:
    html = response.get_data(as_text=True)
    route = html[html.index('id="route"'):]
    route = route[:route.index("</ol>")]
    return re.findall(r'class="card stop[^"]*" id="stop-\d+" data-store="([^"]+)"', route)


def east(n: int) -> Point:
    return Point(LAT, LNG + 0.01 * n)


def test_each_stop_says_why_it_is_there(client, org):
    rep = org.rep
    today = planning.local_today(rep)
    on_plan = make_store(rep=rep, name="Planned Shop", tier="C")
    planned(rep, on_plan, code="display_audit")
    late = make_store(rep=rep, name="Late Shop", tier="B")   # every 14 days, last visit 20 days ago
    visited(rep, late, 20)
    follow = make_store(rep=rep, name="Follow Shop", tier="B")
    visited(rep, follow, 1)                                  # not due by frequency
    db.session.add(FollowUp(store_id=follow.id, text="Bring the POSM", owner=rep, created_by_id=rep.id,
                            due_on=today, status="open"))
    db.session.commit()
    fresh = make_store(rep=rep, name="New Shop", tier="D")
    calm = make_store(rep=rep, name="Calm Shop", tier="B")
    visited(rep, calm, 2)
    login(client, rep)

    response = client.get("/today")

    assert response.status_code == 200
    assert "Planned: Display audit" in stop_html(response, on_plan)
    assert "Overdue 6 days" in stop_html(response, late)
    assert f"Follow-up due {today.strftime('%b')} {today.day}" in stop_html(response, follow)
    assert "Never visited" in stop_html(response, fresh)
    assert "Calm Shop" not in page_text(response)


def test_the_route_starts_next_to_where_the_rep_stands(client, org):
    stores = [make_store(rep=org.rep, name=f"Shop {i}", lat=east(i).lat, lng=east(i).lng) for i in range(1, 5)]
    login(client, org.rep)

    at_last = client.get(f"/today?lat={LAT}&lng={LNG + 0.0401}&acc=12")
    at_first = client.get(f"/today?lat={LAT}&lng={LNG + 0.0099}&acc=12")

    assert route_codes(at_last) == [s.code for s in reversed(stores)]
    assert route_codes(at_first) == [s.code for s in stores]
    assert "The route starts where you are (within 12 m)." in page_text(at_first)


def test_each_leg_and_the_total_are_shown(client, org):
    stores = [make_store(rep=org.rep, name=f"Shop {i}", lat=east(i).lat, lng=east(i).lng) for i in (1, 2, 4)]
    here = Point(LAT, LNG)
    login(client, org.rep)

    response = client.get(f"/today?lat={here.lat}&lng={here.lng}")

    legs = [distance_m(here, stores[0].point), distance_m(stores[0].point, stores[1].point),
            distance_m(stores[1].point, stores[2].point)]
    text = page_text(response)
    assert f"{distance_label(legs[0])} from you" in stop_html(response, stores[0])
    assert f"{distance_label(legs[1])} from the previous stop" in stop_html(response, stores[1])
    assert f"{distance_label(legs[2])} from the previous stop" in stop_html(response, stores[2])
    assert "1.9 km from the previous stop" in stop_html(response, stores[2])  # 0.02° of longitude
    assert f"3 stops · {distance_label(sum(legs))}" in text
    assert distance_label(sum(legs)) == "3.8 km"


@pytest.mark.parametrize("query", ["lat=nan&lng=121.47", "lat=abc&lng=121.47", "lat=91&lng=121.47",
                                   "lat=31.2&lng=181", "lat=31.2", "lat=inf&lng=-inf", "lat=1e999&lng=0"])
def test_an_unusable_position_is_ignored_with_a_notice(client, org, query):
    store = make_store(rep=org.rep, name="Shop")
    login(client, org.rep)

    response = client.get(f"/today?{query}")

    assert response.status_code == 422
    assert "The position in the address could not be read" in page_text(response)
    assert route_codes(response) == [store.code]


def test_a_bad_accuracy_is_dropped_and_the_position_kept(client, org):
    make_store(rep=org.rep)
    login(client, org.rep)

    response = client.get(f"/today?lat={LAT}&lng={LNG}&acc=nan")

    assert response.status_code == 200
    assert "The route starts where you are." in page_text(response)


def test_without_a_position_the_route_starts_at_the_last_store_visited_today(client, org):
    done = make_store(rep=org.rep, name="Done Shop", lat=east(4).lat, lng=east(4).lng)
    visited(org.rep, done, 0)
    stores = [make_store(rep=org.rep, name=f"Shop {i}", lat=east(i).lat, lng=east(i).lng) for i in (1, 2, 3)]
    login(client, org.rep)

    response = client.get("/today")

    assert route_codes(response) == [s.code for s in reversed(stores)]
    text = page_text(response)
    assert "The route starts at Done Shop, your last visit." in text
    assert "1 visit done today" in text
    first_leg = distance_label(distance_m(done.point, stores[2].point))
    assert f"{first_leg} from Done Shop" in stop_html(response, stores[2])


def test_a_visit_in_progress_is_on_top_with_continue(client, org):
    busy = make_store(rep=org.rep, name="Busy Shop")
    visit = visited(org.rep, busy, 0, status=VisitStatus.IN_PROGRESS)
    other = make_store(rep=org.rep, name="Next Shop")
    login(client, org.rep)

    response = client.get("/today")

    html = response.get_data(as_text=True)
    top = html[html.index('id="in-progress"'):html.index('id="route-summary"')]
    assert "Busy Shop" in top and f'href="/visits/{visit.id}"' in top and "Continue" in top
    assert html.index('id="in-progress"') < html.index('id="route"')
    assert route_codes(response) == [other.code]


def _form_fields(fragment: str) -> tuple[str, dict]:
    action = re.search(r'<form method="post" class="stop-checkin" action="([^"]+)"', fragment).group(1)
    fields = dict(re.findall(r'<input name="([^"]+)" type="hidden" value="([^"]*)"', fragment))
    fields.update(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', fragment))
    return action, fields


def test_check_in_from_the_list_starts_the_planned_visit_or_a_new_one(client, org):
    on_plan = make_store(rep=org.rep, name="Planned Shop", lat=east(1).lat, lng=east(1).lng)
    visit = planned(org.rep, on_plan)
    due = make_store(rep=org.rep, name="Due Shop", lat=east(2).lat, lng=east(2).lng)
    login(client, org.rep)
    page = client.get("/today")

    action, fields = _form_fields(stop_html(page, on_plan))
    assert action == f"/visits/{visit.id}/checkin"
    fields.update(lat=str(on_plan.lat), lng=str(on_plan.lng), accuracy="10",
                  position_at=now().isoformat())
    started = client.post(action, data=fields)
    assert started.status_code == 302 and started.location.endswith(f"/visits/{visit.id}")
    assert db.session.get(Visit, visit.id).status == VisitStatus.IN_PROGRESS

    client.post(f"/visits/{visit.id}/cancel", data={"reason": "wrong day"})
    action, fields = _form_fields(stop_html(page, due))
    assert action == f"/stores/{due.id}/checkin"
    assert fields["visit_type"] == str(vtype("routine").id)
    fields.update(lat=str(due.lat), lng=str(due.lng), accuracy="10", position_at=now().isoformat())
    started = client.post(action, data=fields)
    assert started.status_code == 302
    new = db.session.execute(select(Visit).where(Visit.store_id == due.id)).scalar_one()
    assert new.status == VisitStatus.IN_PROGRESS and new.visit_type.code == "routine"


def test_the_route_is_capped_and_the_rest_listed_as_also_due(client, org, monkeypatch):
    monkeypatch.setattr(planning, "ROUTE_LIMIT", 2)
    late = [make_store(rep=org.rep, name=f"Late {i}", tier="B", lat=east(i).lat, lng=east(i).lng)
            for i in range(1, 5)]
    for days, store in zip((40, 30, 20, 16), late):
        visited(org.rep, store, days)
    login(client, org.rep)

    response = client.get("/today")

    assert sorted(route_codes(response)) == sorted(s.code for s in late[:2])  # the most overdue
    also = response.get_data(as_text=True).split('id="also-due"')[1]
    assert f'data-store="{late[2].code}"' in also and f'data-store="{late[3].code}"' in also
    assert "Overdue 6 days" in stop_html(response, late[2])


def test_a_rep_sees_only_their_own_stores_and_plans(client, org):
    mine = make_store(rep=org.rep, name="My Shop")
    teammate_store = make_store(rep=org.teammate, name="Teammate Shop")
    planned(org.teammate, teammate_store)
    make_store(rep=org.west_rep, region=org.west, name="West Shop")
    login(client, org.rep)

    response = client.get("/today")

    assert route_codes(response) == [mine.code]
    assert "Teammate Shop" not in page_text(response) and "West Shop" not in page_text(response)


def test_today_is_for_reps_others_go_home(client, org):
    assert client.get("/today").status_code == 302  # signed out: to the login page
    for user in (org.supervisor, org.manager, org.admin):
        login(client, user)
        response = client.get("/today")
        assert response.status_code == 302 and response.location.endswith("/")


def test_nothing_due_says_so(client, org):
    calm = make_store(rep=org.rep, name="Calm Shop", tier="B")
    visited(org.rep, calm, 2)
    login(client, org.rep)

    response = client.get("/today")

    assert response.status_code == 200
    assert "Nothing planned or due today" in page_text(response)
    assert 'id="route"' not in response.get_data(as_text=True)


def test_today_in_chinese(client, org):
    org.rep.locale = "zh_CN"
    db.session.commit()
    make_store(rep=org.rep, name="便民小超市")
    login(client, org.rep)

    response = client.get("/today")

    assert response.status_code == 200
    assert "便民小超市" in page_text(response)
    assert '<html lang="zh-CN">' in response.get_data(as_text=True)


def test_a_running_activity_without_evidence_brings_its_store_to_today_and_the_visit_plan(client, org):
    from field.activities.models import ActivityStatus
    from tests.factories import make_activity
    rep = org.rep
    today = planning.local_today(rep)
    shop = make_store(rep=rep, name="Promo Shop", tier="B")
    visited(rep, shop, 1)                                    # not due by frequency
    make_activity(rep, [shop], status=ActivityStatus.RUNNING, start=today - timedelta(days=2),
                  end=today + timedelta(days=20), title="Spring end-cap")
    login(client, rep)

    response = client.get("/today")
    assert "Activity needs evidence: Spring end-cap" in stop_html(response, shop)

    visit = planned(rep, shop)
    assert "Evidence for Spring end-cap" in page_text(client.get(f"/visits/{visit.id}"))


def test_follow_ups_bring_a_store_when_due_or_undated_and_open(client, org):
    rep = org.rep
    today = planning.local_today(rep)
    shops = {name: make_store(rep=rep, name=name, tier="B") for name in ("Undated", "Later", "Closed", "Mixed")}
    for shop in shops.values():
        visited(rep, shop, 1)                                # none is due by frequency
    for name, due, status in (("Undated", None, "open"), ("Later", today + timedelta(days=3), "open"),
                              ("Closed", today, "done"), ("Mixed", None, "open"),
                              ("Mixed", today - timedelta(days=2), "open"), ("Mixed", today, "open")):
        db.session.add(FollowUp(store_id=shops[name].id, text="Check the shelf", owner=rep, created_by_id=rep.id,
                                due_on=due, status=status))
    db.session.commit()
    login(client, rep)

    response = client.get("/today")

    assert "Follow-up open" in stop_html(response, shops["Undated"])
    early = today - timedelta(days=2)
    assert f"Follow-up due {early.strftime('%b')} {early.day}" in stop_html(response, shops["Mixed"])
    assert "Later" not in page_text(response) and "Closed" not in page_text(response)


def test_only_a_live_activity_brings_its_store(client, org):
    from field.activities.models import ActivityStatus
    from tests.factories import make_activity
    rep = org.rep
    today = planning.local_today(rep)
    shops = {name: make_store(rep=rep, name=f"{name} Shop", tier="B") for name in ("Ended", "Draft", "Future", "Live")}
    for shop in shops.values():
        visited(rep, shop, 1)
    make_activity(rep, [shops["Ended"]], status=ActivityStatus.ENDED, start=today - timedelta(days=30),
                  end=today - timedelta(days=1), title="Winter")
    make_activity(rep, [shops["Draft"]], status=ActivityStatus.DRAFT, start=today - timedelta(days=2), title="Draft")
    make_activity(rep, [shops["Future"]], status=ActivityStatus.APPROVED, start=today + timedelta(days=1),
                  title="Summer")
    make_activity(rep, [shops["Live"]], status=ActivityStatus.APPROVED, start=today, title="Spring")
    login(client, rep)

    response = client.get("/today")

    assert "Activity needs evidence: Spring" in stop_html(response, shops["Live"])
    text = page_text(response)
    assert "Ended Shop" not in text and "Draft Shop" not in text and "Future Shop" not in text


def test_the_queries_do_not_grow_with_the_stores(client, org):
    """Today reads the rep's stores in one pass, whatever their number (bench/today.py times 300)."""
    from sqlalchemy import event
    rep = org.rep
    login(client, rep)

    def queries() -> int:
        seen = []

        def count(*_args):
            seen.append(1)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/today?lat={LAT}&lng={LNG}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    def add_stores(n: int, first: int) -> None:
        """n stores: some overdue, some with an open follow-up, one planned for today."""
        for i in range(first, first + n):
            store = make_store(rep=rep, name=f"Shop {i}", lat=east(i % 7).lat, lng=east(i % 7).lng)
            if i % 3 == 0:
                visited(rep, store, 30)
            if i % 4 == 0:
                db.session.add(FollowUp(store_id=store.id, text="POSM", owner=rep, created_by_id=rep.id, status="open"))
            if i == first:
                planned(rep, store)
        db.session.commit()

    add_stores(3, 0)
    few = queries()
    add_stores(30, 3)
    assert queries() == few
