"""The planner's pages by request: the due list, planning it for a day (once, in one go, audited),
planning one visit, the week and taking a visit off it — and everything a planner may not touch."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.core import now
from field.extensions import db
from field.visits import history, planning
from field.visits.models import Visit, VisitStatus
from tests.conftest import login
from tests.factories import make_store, vtype

pytestmark = pytest.mark.usefixtures("builtin_types")


def page_text(response) -> str:
    html = response.get_data(as_text=True).replace("\u00a0", " ")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def visits_of(rep) -> list[Visit]:
    return list(db.session.execute(select(Visit).where(Visit.rep_id == rep.id).order_by(Visit.id)).scalars())


def audit_count(action: str) -> int:
    return db.session.execute(select(func.count()).where(AuditEvent.action == action)).scalar_one()


def visited(rep, store, days_ago: int) -> Visit:
    end = now() - timedelta(days=days_ago)
    visit = Visit(rep=rep, store=store, visit_type=vtype(), status=VisitStatus.COMPLETED, flags=[],
                  checkin_at=end - timedelta(minutes=20), checkout_at=end)
    db.session.add(visit)
    db.session.commit()
    return visit


def today(user):
    return planning.local_today(user)


@pytest.fixture
def shops(org):
    """Three of the rep's stores: one never visited, one overdue, one visited yesterday (not due)."""
    fresh = make_store(rep=org.rep, name="New Shop", tier="A")
    late = make_store(rep=org.rep, name="Late Shop", tier="B")
    visited(org.rep, late, 20)
    calm = make_store(rep=org.rep, name="Calm Shop", tier="C")
    visited(org.rep, calm, 1)
    return fresh, late, calm


def plan(client, rep, stores, day, code="routine", **extra):
    data = {"rep": rep.id, "stores": [s.id for s in stores], "on": day.isoformat(),
            "visit_type": vtype(code).id, **extra}
    return client.post("/plan", data=data)


# --- the due list --------------------------------------------------------------------------------

def test_the_due_list_shows_the_reps_due_stores_with_tier_and_lateness(client, org, shops):
    fresh, late, calm = shops
    later = make_store(rep=org.rep, name="Later Shop", tier="B")
    visited(org.rep, later, 40)
    make_store(rep=org.west_rep, region=org.west, name="West Shop")
    login(client, org.supervisor)

    response = client.get(f"/plan?rep={org.rep.id}")

    assert response.status_code == 200
    html = response.get_data(as_text=True).split('id="due"')[1].split('id="plan-one"')[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert f'data-store="{fresh.code}"' in html and f'data-store="{late.code}"' in html
    assert "Never visited" in text and "Overdue 6 days" in text
    assert "Calm Shop" not in text and "West Shop" not in text
    assert "Overdue 26 days" in text
    assert html.index(f'data-store="{later.code}"') < html.index(f'data-store="{late.code}"')  # most urgent first


def test_a_store_falling_due_later_in_the_week_says_when(client, org):
    monday = history.monday_of(today(org.supervisor)) + timedelta(days=7)
    wednesday = monday + timedelta(days=2)
    soon = make_store(rep=org.rep, name="Soon Shop", tier="C")  # every 30 days: due on next Wednesday
    visited(org.rep, soon, 30 - (wednesday - today(org.rep)).days)
    login(client, org.supervisor)

    this_week = client.get(f"/plan?rep={org.rep.id}")
    next_week = client.get(f"/plan?rep={org.rep.id}&week={monday.isoformat()}")

    assert "Soon Shop" not in page_text(this_week).split("Plan one visit")[0]
    said = f"Soon Shop Due {wednesday.strftime('%a')}, {wednesday.strftime('%b')} {wednesday.day}"
    assert said in page_text(next_week)


def test_planning_ticked_stores_plans_each_once_audited(client, org, shops):
    fresh, late, _calm = shops
    day = today(org.supervisor) + timedelta(days=1)
    login(client, org.supervisor)

    response = plan(client, org.rep, [fresh, late], day)

    assert response.status_code == 302
    assert f"rep={org.rep.id}" in response.location
    planned = visits_of(org.rep)[-2:]
    assert {v.store_id for v in planned} == {fresh.id, late.id}
    assert all(v.status == VisitStatus.PLANNED and v.planned_for == day and v.planned_by_id == org.supervisor.id
               for v in planned)
    assert audit_count("visit.plan") == 2
    follow = client.get(response.location)
    assert "2 visits planned for" in page_text(follow)
    assert "planned" in page_text(follow)  # the due list marks the stores planned this week


def test_planning_again_for_the_same_day_does_not_duplicate_and_says_so(client, org, shops):
    fresh, late, _calm = shops
    day = today(org.supervisor) + timedelta(days=2)
    login(client, org.supervisor)
    plan(client, org.rep, [fresh], day)

    response = plan(client, org.rep, [fresh, late], day)

    assert response.status_code == 302
    assert len([v for v in visits_of(org.rep) if v.status == VisitStatus.PLANNED]) == 2
    text = page_text(client.get(response.location))
    assert "1 visit planned for" in text
    assert "Already planned for" in text and "not planned again: New Shop" in text


def test_a_day_in_the_past_is_refused_and_nothing_written(client, org, shops):
    fresh, _late, _calm = shops
    login(client, org.supervisor)
    before = len(visits_of(org.rep))

    response = plan(client, org.rep, [fresh], today(org.supervisor) - timedelta(days=1))

    assert response.status_code == 422
    assert "That day is in the past" in page_text(response)
    assert len(visits_of(org.rep)) == before and audit_count("visit.plan") == 0


@pytest.mark.parametrize("raw", ["2024-13-45", "tomorrow", "1900-01-01", ""])
def test_an_unreadable_day_is_refused_with_a_message(client, org, shops, raw):
    fresh, _late, _calm = shops
    login(client, org.supervisor)

    response = client.post("/plan", data={"rep": org.rep.id, "stores": [fresh.id], "on": raw,
                                          "visit_type": vtype().id})

    assert response.status_code == 422
    assert (f"“{raw}” is not a day (YYYY-MM-DD)." if raw else "Pick a day.") in page_text(response)
    assert audit_count("visit.plan") == 0


def test_nothing_ticked_or_a_non_numeric_store_is_refused(client, org, shops):
    login(client, org.supervisor)
    day = today(org.supervisor).isoformat()

    none = client.post("/plan", data={"rep": org.rep.id, "on": day, "visit_type": vtype().id})
    garbage = client.post("/plan", data={"rep": org.rep.id, "stores": ["abc"], "on": day, "visit_type": vtype().id})

    assert none.status_code == 422 and "Tick at least one store." in page_text(none)
    assert garbage.status_code == 422
    assert audit_count("visit.plan") == 0


def test_unknown_store_or_another_teams_store_is_404_and_nothing_written(client, org, shops):
    fresh, _late, _calm = shops
    west_store = make_store(rep=org.west_rep, region=org.west)
    teammate_store = make_store(rep=org.teammate)
    login(client, org.supervisor)
    day = today(org.supervisor)

    unknown = client.post("/plan", data={"rep": org.rep.id, "stores": [fresh.id, 999999], "on": day.isoformat(),
                                         "visit_type": vtype().id})
    assert unknown.status_code == 404
    assert plan(client, org.rep, [fresh, west_store], day).status_code == 404
    assert plan(client, org.rep, [fresh, teammate_store], day).status_code == 404  # not one of the rep's stores
    huge = client.post("/plan", data={"rep": org.rep.id, "stores": [fresh.id, 99999999999999999999999],
                                      "on": day.isoformat(), "visit_type": vtype().id})
    assert huge.status_code == 404
    assert visits_of(org.rep) == [] or all(v.status != VisitStatus.PLANNED for v in visits_of(org.rep))
    assert audit_count("visit.plan") == 0


def test_another_teams_rep_is_404(client, org):
    west_store = make_store(rep=org.west_rep, region=org.west)
    login(client, org.supervisor)

    assert client.get(f"/plan?rep={org.west_rep.id}").status_code == 404
    assert client.get(f"/plan/week?rep={org.west_rep.id}").status_code == 404
    assert client.get("/plan?rep=abc").status_code == 404
    assert client.get("/plan?rep=99999999999999999999999").status_code == 404
    assert plan(client, org.west_rep, [west_store], today(org.supervisor)).status_code == 404
    assert visits_of(org.west_rep) == []


def test_an_unknown_visit_type_is_refused(client, org, shops):
    fresh, _late, _calm = shops
    login(client, org.supervisor)

    response = client.post("/plan", data={"rep": org.rep.id, "stores": [fresh.id],
                                          "on": today(org.supervisor).isoformat(), "visit_type": 999999})

    assert response.status_code == 422
    assert visits_of(org.rep)[-1].status == VisitStatus.COMPLETED or not visits_of(org.rep)
    assert audit_count("visit.plan") == 0


def test_posting_without_the_csrf_token_is_refused(client, org, shops):
    fresh, _late, _calm = shops
    login(client, org.supervisor)

    response = client.post("/plan", data={"rep": org.rep.id, "stores": [fresh.id],
                                          "on": today(org.supervisor).isoformat(), "visit_type": vtype().id},
                           csrf=False)

    assert response.status_code == 400
    assert audit_count("visit.plan") == 0


def test_reps_cannot_plan(client, org, shops):
    fresh, _late, _calm = shops
    login(client, org.rep)

    assert client.get("/plan").status_code == 404
    assert client.get("/plan/week").status_code == 404
    assert plan(client, org.rep, [fresh], today(org.rep)).status_code == 404
    assert client.post("/plan/one", data={"rep": org.rep.id, "store": fresh.id, "on": today(org.rep).isoformat(),
                                          "visit_type": vtype().id}).status_code == 404
    assert audit_count("visit.plan") == 0


def test_a_manager_plans_for_reps_in_their_regions_only(client, org, shops):
    fresh, _late, _calm = shops
    west_store = make_store(rep=org.west_rep, region=org.west)
    login(client, org.manager)

    assert client.get("/plan").status_code == 200
    assert plan(client, org.rep, [fresh], today(org.manager)).status_code == 302
    assert plan(client, org.west_rep, [west_store], today(org.manager)).status_code == 404
    assert [v.planned_by_id for v in visits_of(org.rep) if v.status == VisitStatus.PLANNED] == [org.manager.id]


def test_the_plan_page_lists_only_the_planners_reps(client, org):
    login(client, org.supervisor)

    response = client.get("/plan")

    options = re.findall(r'<option value="(\d+)"', response.get_data(as_text=True).split('id="plan-rep"')[1]
                         .split("</select>")[0])
    assert set(map(int, options)) == {org.rep.id, org.teammate.id}


def test_a_bad_week_in_the_address_says_so(client, org):
    login(client, org.supervisor)

    response = client.get(f"/plan?rep={org.rep.id}&week=someday")

    assert response.status_code == 422
    assert "“someday” is not a date we can show" in page_text(response)


# --- one visit ------------------------------------------------------------------------------------

def test_plan_one_visit_for_a_day_ahead(client, org, shops):
    _fresh, _late, calm = shops
    day = today(org.supervisor) + timedelta(days=10)
    login(client, org.supervisor)

    response = client.post("/plan/one", data={"rep": org.rep.id, "store": calm.id, "on": day.isoformat(),
                                              "visit_type": vtype("stock_count").id})

    assert response.status_code == 302 and "/plan/week" in response.location
    visit = visits_of(org.rep)[-1]
    assert (visit.store_id, visit.planned_for, visit.visit_type.code) == (calm.id, day, "stock_count")
    week = client.get(response.location)
    assert "Calm Shop" in page_text(week) and "Stock count" in page_text(week)


def test_plan_one_refuses_too_far_ahead_and_the_past(client, org, shops):
    _fresh, _late, calm = shops
    login(client, org.supervisor)
    for day, message in ((today(org.supervisor) + timedelta(days=400), "Plan for a day from today up to 60 days"),
                         (today(org.supervisor) - timedelta(days=3), "That day is in the past")):
        response = client.post("/plan/one", data={"rep": org.rep.id, "store": calm.id, "on": day.isoformat(),
                                                  "visit_type": vtype().id})
        assert response.status_code == 422 and message in page_text(response)
    assert audit_count("visit.plan") == 0


def test_plan_one_at_a_store_outside_scope_is_404(client, org):
    west_store = make_store(rep=org.west_rep, region=org.west)
    login(client, org.supervisor)

    response = client.post("/plan/one", data={"rep": org.rep.id, "store": west_store.id,
                                              "on": today(org.supervisor).isoformat(), "visit_type": vtype().id})

    assert response.status_code == 404
    assert visits_of(org.rep) == []


# --- the week -------------------------------------------------------------------------------------

def _plan_for(org, store, day):
    visit = Visit(rep=org.rep, store=store, visit_type=vtype(), status=VisitStatus.PLANNED, flags=[],
                  planned_for=day, planned_by=org.supervisor)
    db.session.add(visit)
    db.session.commit()
    return visit


def test_the_week_shows_monday_to_sunday_with_the_planned_visits(client, org, shops):
    fresh, late, _calm = shops
    monday = history.monday_of(today(org.supervisor)) + timedelta(days=7)
    _plan_for(org, fresh, monday + timedelta(days=1))
    _plan_for(org, late, monday + timedelta(days=6))
    login(client, org.supervisor)

    response = client.get(f"/plan/week?rep={org.rep.id}&week={(monday + timedelta(days=3)).isoformat()}")

    html = response.get_data(as_text=True)
    days = re.findall(r'data-day="([\d-]+)"', html)
    assert days == [(monday + timedelta(days=i)).isoformat() for i in range(7)]
    tuesday = html.split(f'data-day="{(monday + timedelta(days=1)).isoformat()}"')[1].split('data-day="')[0]
    sunday = html.split(f'data-day="{(monday + timedelta(days=6)).isoformat()}"')[1]
    assert "New Shop" in tuesday and "Late Shop" in sunday and "Late Shop" not in tuesday


def test_taking_a_planned_visit_off_the_plan(client, org, shops):
    fresh, _late, _calm = shops
    day = today(org.supervisor) + timedelta(days=1)
    visit = _plan_for(org, fresh, day)
    login(client, org.supervisor)

    response = client.post(f"/plan/visits/{visit.id}/cancel", data={"reason": "Store closed for works"})

    assert response.status_code == 302 and "/plan/week" in response.location
    db.session.refresh(visit)
    assert visit.status == VisitStatus.CANCELLED and visit.cancel_reason == "Store closed for works"
    assert audit_count("visit.cancel") == 1
    assert "New Shop is off the plan for" in page_text(client.get(response.location))


def test_taking_off_the_plan_needs_no_reason(client, org, shops):
    fresh, _late, _calm = shops
    visit = _plan_for(org, fresh, today(org.supervisor))
    login(client, org.supervisor)

    client.post(f"/plan/visits/{visit.id}/cancel", data={})

    db.session.refresh(visit)
    assert visit.status == VisitStatus.CANCELLED and visit.cancel_reason == "Taken off the plan"


def test_only_planned_visits_come_off_the_plan(client, org, shops):
    _fresh, late, _calm = shops
    done = visits_of(org.rep)[0]
    assert done.store_id == late.id and done.status == VisitStatus.COMPLETED
    login(client, org.supervisor)

    response = client.post(f"/plan/visits/{done.id}/cancel", data={"reason": "oops"})

    assert response.status_code == 409
    assert "Only a visit that is still planned can be taken off the plan" in page_text(response)
    db.session.refresh(done)
    assert done.status == VisitStatus.COMPLETED


def test_taking_off_the_plan_is_scoped_and_needs_csrf(client, org, shops):
    fresh, _late, _calm = shops
    visit = _plan_for(org, fresh, today(org.supervisor) + timedelta(days=1))
    for user in (org.west_supervisor, org.rep):
        login(client, user)
        assert client.post(f"/plan/visits/{visit.id}/cancel", data={}).status_code == 404
    login(client, org.supervisor)
    assert client.post(f"/plan/visits/{visit.id}/cancel", data={}, csrf=False).status_code == 400
    assert client.post("/plan/visits/999999/cancel", data={}).status_code == 404
    assert client.post("/plan/visits/99999999999999999999999/cancel", data={}).status_code == 404
    db.session.refresh(visit)
    assert visit.status == VisitStatus.PLANNED and audit_count("visit.cancel") == 0


def test_a_too_long_reason_is_refused_in_place(client, org, shops):
    fresh, _late, _calm = shops
    visit = _plan_for(org, fresh, today(org.supervisor) + timedelta(days=1))
    login(client, org.supervisor)

    response = client.post(f"/plan/visits/{visit.id}/cancel", data={"reason": "x" * 501})

    assert response.status_code == 422
    assert re.search(r'<details class="cancel" open>\s*<summary>', response.get_data(as_text=True))
    db.session.refresh(visit)
    assert visit.status == VisitStatus.PLANNED
