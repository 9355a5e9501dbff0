"""Visit history by request: a store's timeline, a rep's day and week, the team's day, flagged visits —
what each role may open, and the figures they read."""
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from field.core import now
from field.extensions import db
from field.geo import Point
from field.visits import history_views
from field.visits.models import FollowUp, Objective, StepResult, VisitStatus
from field.visits.planning import local_today
from tests.conftest import login
from tests.factories import earlier_today, make_store, make_visit

SHANGHAI = ZoneInfo("Asia/Shanghai")
HX = {"HX-Request": "true", "HX-Request-Type": "partial"}
DAY = date(2024, 5, 6)  # a Monday
# 0.009° north (≈ 998 m), then 0.0105° east (≈ 1000 m), then 0.002° north (≈ 222 m): 2.2 km in all.
A, B, C, D = (Point(31.2300, 121.4700), Point(31.2390, 121.4700), Point(31.2390, 121.4805),
              Point(31.2410, 121.4805))
OUTSIDE = {"code": "outside_geofence", "at": "check_in", "distance_m": 812, "reason": "store moved"}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def walked_day(rep, day=DAY):
    """Four completed visits (25 + 20 + 30 + 10 min) at A, B, C, D: 2.2 km, 1 h 25 min in stores."""
    stores = [make_store(rep=rep, name=f"Shop {name}", lat=p.lat, lng=p.lng) for name, p in zip("ABCD", (A, B, C, D))]
    visits = [make_visit(rep, stores[0], at=local(day, 9), minutes=25, point=A, flags=[OUTSIDE]),
              make_visit(rep, stores[1], at=local(day, 10), minutes=20, point=B),
              make_visit(rep, stores[2], at=local(day, 11), minutes=30, point=C),
              make_visit(rep, stores[3], at=local(day, 14), minutes=10, point=D)]
    return stores, visits


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True).replace("\u00a0", " "))


# --- a store's timeline -----------------------------------------------------------------------

def test_store_timeline_shows_who_when_what_with_flags_results_and_follow_ups(client, org):
    store = make_store(rep=org.rep, name="Corner Shop", geofence_m=200)
    older = make_visit(org.rep, store, at=local(DAY, 9), minutes=25, point=A)
    newer = make_visit(org.rep, store, at=local(DAY + timedelta(days=7), 15, 30), minutes=42, point=A,
                       flags=[OUTSIDE])
    check = next(s for s in newer.visit_type.steps if s.kind == "checklist")
    db.session.add(StepResult(visit=newer, step=check, status="done", value={"items": [], "passed": 3, "total": 4}))
    db.session.add(Objective(visit=newer, source="goal", text="Main products on shelf", met=True))
    db.session.add(FollowUp(store_id=store.id, visit=newer, text="Bring the new POSM", owner=org.rep,
                            created_by_id=org.rep.id))
    db.session.commit()
    login(client, org.rep)

    response = client.get(f"/stores/{store.id}/visits")

    assert response.status_code == 200
    page = text_of(response)
    assert "2 visits" in page
    assert page.index(f'data-visit="{newer.id}"') < page.index(f'data-visit="{older.id}"')  # newest first
    assert "Checked in 812 m from the store (fence 200 m): “store moved”" in page
    assert "Store check: 3/4 passed" in page
    assert "Main products on shelf" in page
    assert "Bring the new POSM" in page
    assert "42 min in the store" in page
    assert "3:30 PM" in page                                    # local time, not UTC (7:30 AM)
    assert org.rep.name in page


def test_store_page_lists_what_is_planned_next_then_what_was_missed(client, org):
    store = make_store(rep=org.rep, name="Corner Shop")
    today = local_today(org.rep)
    for weeks in range(1, 7):                                                   # six weekly misses
        make_visit(org.rep, store, planned_for=today - timedelta(weeks=weeks))
    make_visit(org.rep, store, planned_for=today + timedelta(days=1))
    login(client, org.supervisor)
    page = text_of(client.get(f"/stores/{store.id}/visits"))
    planned = page.split('class="card upcoming"')[1].split("</section>")[0]
    items = planned.split("<li>")[1:]
    assert len(items) == 6 and "data-missed" not in items[0]                     # tomorrow's first, never pushed off
    assert all("data-missed" in item for item in items[1:])                     # then the latest five misses


def test_store_timeline_of_a_store_out_of_scope_is_404(client, org):
    west_store = make_store(rep=org.west_rep, region=org.west)
    make_visit(org.west_rep, west_store, at=local(DAY, 9), minutes=20, point=A)
    for user in (org.rep, org.supervisor, org.manager):
        login(client, user)
        assert client.get(f"/stores/{west_store.id}/visits").status_code == 404
    login(client, org.west_supervisor)
    assert client.get(f"/stores/{west_store.id}/visits").status_code == 200
    assert client.get("/stores/999999/visits").status_code == 404


def test_store_timeline_pages_and_answers_htmx_with_the_list_only(client, org, monkeypatch):
    monkeypatch.setattr(history_views, "PER_PAGE", 2)
    store = make_store(rep=org.rep)
    visits = [make_visit(org.rep, store, at=local(DAY, 9 + i), minutes=10, point=A) for i in range(3)]
    login(client, org.supervisor)

    first = text_of(client.get(f"/stores/{store.id}/visits"))
    second = client.get(f"/stores/{store.id}/visits?page=2", headers=HX)

    assert "Page 1 of 2" in first and f'data-visit="{visits[2].id}"' in first
    assert f'data-visit="{visits[0].id}"' not in first
    assert second.status_code == 200
    body = text_of(second)
    assert "<html" not in body and "Page 2 of 2" in body and f'data-visit="{visits[0].id}"' in body
    assert client.get(f"/stores/{store.id}/visits?page=abc").status_code == 200
    assert "Page 2 of 2" in text_of(client.get(f"/stores/{store.id}/visits?page=99"))


# --- a rep's day and week ---------------------------------------------------------------------

def test_rep_sees_their_day_with_distance_time_in_stores_and_counts(client, org):
    stores, visits = walked_day(org.rep)
    make_visit(org.rep, stores[0], planned_for=DAY)                              # never started: missed
    make_visit(org.rep, stores[1], planned_for=DAY, status=VisitStatus.CANCELLED)
    login(client, org.rep)

    response = client.get(f"/reps/{org.rep.id}/day?date={DAY.isoformat()}")

    assert response.status_code == 200
    page = text_of(response)
    assert re.search(r'kpi-distance"><div class="kpi-value">2\.2 km<', page)
    assert re.search(r'kpi-in-stores"><div class="kpi-value">1 h 25 min<', page)
    assert re.search(r'<div class="kpi-value">4</div><div class="kpi-label">Completed', page)
    assert re.search(r'<div class="kpi-value">1</div><div class="kpi-label">Planned, never started', page)
    assert page.count("data-missed") == 1
    assert re.search(r'<div class="kpi-value">1</div><div class="kpi-label">Cancelled', page)
    assert "09:00–09:25" in page                                               # local check-in and out
    assert "998 m from the last stop" in page
    assert page.index("Shop A") < page.index("Shop B") < page.index("Shop D")
    assert f'/reps/{org.rep.id}/day?date=2024-05-05' in page and f'/reps/{org.rep.id}/day?date=2024-05-07' in page
    assert f'href="/visits/{visits[0].id}"' in page


def test_rep_day_defaults_to_today_and_links_the_week(client, org):
    make_visit(org.rep, at=earlier_today(30), point=A)   # in a store right now
    login(client, org.rep)
    page = text_of(client.get(f"/reps/{org.rep.id}/day"))
    assert "Today" in page and "My day" in page
    assert re.search(r'<div class="kpi-value">1</div><div class="kpi-label">In progress', page)
    assert f"/reps/{org.rep.id}/week?week=" in page


def test_rep_day_of_someone_else_is_404_for_a_rep(client, org):
    login(client, org.rep)
    assert client.get(f"/reps/{org.teammate.id}/day").status_code == 404
    assert client.get(f"/reps/{org.teammate.id}/week").status_code == 404
    assert client.get(f"/reps/{org.supervisor.id}/day").status_code == 404
    assert client.get("/reps/999999/day").status_code == 404


def test_supervisors_see_their_team_and_managers_their_regions_reps_only(client, org):
    walked_day(org.rep)
    login(client, org.supervisor)
    assert client.get(f"/reps/{org.rep.id}/day?date=2024-05-06").status_code == 200
    assert client.get(f"/reps/{org.teammate.id}/week").status_code == 200
    assert client.get(f"/reps/{org.west_rep.id}/day").status_code == 404
    assert client.get(f"/reps/{org.supervisor.id}/day").status_code == 404    # not a rep
    login(client, org.manager)
    assert "2.2 km" in text_of(client.get(f"/reps/{org.rep.id}/day?date=2024-05-06"))
    assert client.get(f"/reps/{org.west_rep.id}/day").status_code == 404
    login(client, org.west_supervisor)
    assert client.get(f"/reps/{org.rep.id}/day").status_code == 404
    assert client.get(f"/reps/{org.west_rep.id}/day").status_code == 200


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-45", "9999-12-31", "0001-01-01", "2024-05-06'--"])
def test_a_bad_date_answers_422_with_today_and_a_message(client, org, bad):
    login(client, org.supervisor)
    for url in (f"/reps/{org.rep.id}/day?date={bad}", f"/reps/{org.rep.id}/week?week={bad}", f"/team?date={bad}"):
        response = client.get(url)
        assert response.status_code == 422, url
        assert "is not a date we can show" in text_of(response)


def test_rep_week_sums_the_days_and_moves_any_day_to_its_monday(client, org):
    walked_day(org.rep)                                                       # Monday: 4 visits
    make_visit(org.rep, at=local(DAY + timedelta(days=2), 9), minutes=15, point=A,
               flags=[{"code": "short_dwell", "minutes": 2, "minimum": 10}])  # Wednesday
    make_visit(org.rep, at=local(DAY + timedelta(days=7), 9), minutes=15, point=A)   # the next Monday
    login(client, org.rep)

    response = client.get(f"/reps/{org.rep.id}/week?week=2024-05-09")          # a Thursday

    assert response.status_code == 200
    page = text_of(response)
    assert "Week of May 6" in page
    assert re.search(r'kpi-distance"><div class="kpi-value">2\.2 km<', page)
    assert re.search(r'kpi-in-stores"><div class="kpi-value">1 h 40 min<', page)
    assert re.search(r'<div class="kpi-value">5</div><div class="kpi-label">Completed', page)
    assert page.count('data-day="') == 7
    assert f'/reps/{org.rep.id}/day?date=2024-05-08' in page
    assert f'/reps/{org.rep.id}/week?week=2024-04-29' in page and f'/reps/{org.rep.id}/week?week=2024-05-13' in page
    assert "1 flag" in page


# --- the team's day ---------------------------------------------------------------------------

def test_team_is_for_supervisors_and_managers_not_reps(client, org):
    login(client, org.rep)
    assert client.get("/team").status_code == 403
    assert client.get("/visits/flagged").status_code == 403
    login(client, org.manager)
    assert client.get("/team").status_code == 200
    login(client, org.admin)
    assert client.get("/team").status_code == 200


def test_supervisor_watches_the_teams_day(client, org):
    today = now().astimezone(SHANGHAI).date()
    shop = make_store(rep=org.rep, name="Corner Shop")
    make_visit(org.rep, at=local(today, 0, 10), minutes=30, point=A)
    make_visit(org.rep, at=local(today, 0, 50), minutes=20, point=B)
    make_visit(org.rep, shop, at=now() - timedelta(minutes=1), point=None)      # in the store now, no position
    make_visit(org.teammate, at=local(today, 0, 20), minutes=45, point=A, flags=[OUTSIDE])
    make_visit(org.west_rep, at=local(today, 0, 20), minutes=45, point=A)
    login(client, org.supervisor)

    response = client.get("/team")

    assert response.status_code == 200
    page = text_of(response)
    assert org.rep.name in page and org.teammate.name in page
    assert org.west_rep.name not in page
    assert "Corner Shop since" in page
    assert "50 min in stores" in page and "45 min in stores" in page
    assert "998 m" in page                                  # the rep went from A to B; the teammate stayed at A
    assert "1 flagged" in page
    assert f'href="/reps/{org.rep.id}/day?date={today.isoformat()}"' in page


def test_team_on_another_day(client, org):
    stores, _ = walked_day(org.rep)
    make_visit(org.rep, stores[0], planned_for=DAY)                              # never started
    login(client, org.supervisor)
    page = text_of(client.get("/team?date=2024-05-06"))
    assert "4 completed" in page and "2.2 km" in page and "1 h 25 min in stores" in page
    assert "1 missed" in page
    assert re.search(r'data-kpi="missed"><div class="kpi-value">1</div><div class="kpi-label">Planned, never started',
                     page)
    assert 'href="/team?date=2024-05-05"' in page and 'href="/team?date=2024-05-07"' in page
    fragment = client.get("/team?date=2024-05-06", headers=HX)
    assert "<html" not in fragment.get_data(as_text=True) and "2.2 km" in text_of(fragment)


# --- flagged visits ---------------------------------------------------------------------------

def test_flagged_list_shows_the_outside_fence_visit_with_its_reason(client, org):
    store = make_store(rep=org.rep, name="Corner Shop", geofence_m=200)
    outside = make_visit(org.rep, store, at=local(DAY, 9), minutes=20, point=A, flags=[OUTSIDE])
    make_visit(org.rep, at=local(DAY, 11), minutes=20, point=B)                       # clean
    west = make_visit(org.west_rep, at=local(DAY, 9), minutes=20, point=A, flags=[OUTSIDE])
    login(client, org.supervisor)

    response = client.get("/visits/flagged")

    assert response.status_code == 200
    page = text_of(response)
    assert "1 flagged visit" in page
    assert f'href="/visits/{outside.id}"' in page
    assert f'href="/visits/{west.id}"' not in page
    assert "Outside the fence" in page
    assert "Checked in 812 m from the store (fence 200 m): “store moved”" in page


def test_flagged_list_filters_by_flag_and_rep_and_pages(client, org, monkeypatch):
    monkeypatch.setattr(history_views, "PER_PAGE", 2)
    outside = make_visit(org.rep, at=local(DAY, 9), minutes=20, point=A, flags=[OUTSIDE])
    short = [make_visit(org.teammate, at=local(DAY, 10 + i), minutes=2, point=B,
                        flags=[{"code": "short_dwell", "minutes": 2, "minimum": 10}]) for i in range(3)]
    login(client, org.supervisor)

    only_outside = text_of(client.get("/visits/flagged?code=outside_geofence"))
    assert f'/visits/{outside.id}"' in only_outside and f'/visits/{short[0].id}"' not in only_outside
    teammate = text_of(client.get(f"/visits/flagged?rep={org.teammate.id}"))
    assert "3 flagged visits" in teammate and "Page 1 of 2" in teammate
    assert f'/visits/{short[2].id}"' in teammate and f'/visits/{outside.id}"' not in teammate
    assert f"/visits/flagged?page=2&amp;rep={org.teammate.id}" in teammate
    second = client.get(f"/visits/flagged?page=2&rep={org.teammate.id}", headers=HX)
    assert "<html" not in second.get_data(as_text=True) and f'/visits/{short[0].id}"' in text_of(second)


def test_flagged_list_with_a_bad_filter_says_so_and_shows_everything(client, org):
    make_visit(org.rep, at=local(DAY, 9), minutes=20, point=A, flags=[OUTSIDE])
    login(client, org.supervisor)
    for url in ("/visits/flagged?code=%25", "/visits/flagged?code=nope", f"/visits/flagged?rep={org.west_rep.id}",
                "/visits/flagged?rep=abc"):
        response = client.get(url)
        assert response.status_code == 422, url
        page = text_of(response)
        assert "1 flagged visit" in page
        assert "showing every" in page


def test_manager_sees_flags_in_their_regions(client, org):
    east = make_visit(org.rep, at=local(DAY, 9), minutes=20, point=A, flags=[OUTSIDE])
    west = make_visit(org.west_rep, at=local(DAY, 9), minutes=20, point=A, flags=[OUTSIDE])
    login(client, org.manager)
    page = text_of(client.get("/visits/flagged"))
    assert f'/visits/{east.id}"' in page and f'/visits/{west.id}"' not in page
