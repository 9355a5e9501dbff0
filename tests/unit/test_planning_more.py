"""Planning without a request: what is due, what today holds and where its route starts, and
planning many visits at once (all or nothing, never twice)."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.core import DomainError, now
from field.extensions import db
from field.geo import Point
from field.stores.models import Store
from field.visits import planning
from field.visits.models import FollowUp, Visit, VisitStatus
from tests.factories import earlier_today, make_store, vtype

pytestmark = pytest.mark.usefixtures("request_ctx", "builtin_types")


def visited(rep, store, days_ago, status=VisitStatus.COMPLETED) -> Visit:
    if days_ago == 0:  # in at 75 minutes ago, out 15 minutes later: both today on the rep's clock
        checkin = earlier_today(75)
        end = checkin + min(timedelta(minutes=15), (now() - checkin) / 2)
    else:
        end = now() - timedelta(days=days_ago)
        checkin = end - timedelta(minutes=15)
    visit = Visit(rep=rep, store=store, visit_type=vtype(), status=status, flags=[],
                  checkin_at=checkin, checkout_at=end if status == VisitStatus.COMPLETED else None)
    db.session.add(visit)
    db.session.commit()
    return visit


def planned(rep, store, day) -> Visit:
    visit = Visit(rep=rep, store=store, visit_type=vtype(), status=VisitStatus.PLANNED, flags=[], planned_for=day)
    db.session.add(visit)
    db.session.commit()
    return visit


def test_due_and_overdue_days():
    today = date(2024, 5, 20)
    assert planning.is_due(None, 7, today) and planning.overdue_days(None, 7, today) is None
    assert planning.is_due(date(2024, 5, 13), 7, today) and planning.overdue_days(date(2024, 5, 13), 7, today) == 0
    assert not planning.is_due(date(2024, 5, 14), 7, today)
    assert planning.overdue_days(date(2024, 5, 1), 7, today) == 12


def test_due_stores_follow_the_stores_own_frequency_and_skip_deactivated(org):
    rep = org.rep
    today = planning.local_today(rep)
    own = make_store(rep=rep, tier="D", visit_every_days=3)   # D alone would wait 90 days
    visited(rep, own, 4)
    make_store(rep=rep, active=False)
    hidden = make_store(rep=rep)

    due = planning.due_stores(rep, today)
    narrowed = planning.due_stores(rep, today, within=select(Store.id).where(Store.id != hidden.id))

    assert {s.store.id for s in due} == {own.id, hidden.id}
    own_stop = next(s for s in due if s.store.id == own.id)
    assert own_stop.overdue == 1 and own_stop.due_on == today - timedelta(days=1)
    assert [s.store.id for s in narrowed] == [own.id]


def test_due_in_week_counts_lateness_from_the_first_day_ahead(org):
    rep = org.rep
    today = planning.local_today(rep)
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    store = make_store(rep=rep, tier="C")
    visited(rep, store, 30 - (monday + timedelta(days=3) - today).days)   # due next Thursday

    stop, = planning.due_in_week(rep, monday, today)

    assert stop.due_on == monday + timedelta(days=3) and stop.overdue == -3


def test_a_planned_store_that_is_also_due_is_one_stop_with_both_reasons(org):
    rep = org.rep
    today = planning.local_today(rep)
    store = make_store(rep=rep, tier="B")
    visited(rep, store, 20)
    visit = planned(rep, store, today)

    day = planning.today_for(rep, today)

    stop, = day.stops
    assert stop.visit == visit
    assert [code for code, _ in stop.reasons] == ["planned", "overdue"] and stop.overdue == 6


def test_a_follow_up_due_brings_a_store_that_is_not_otherwise_due(org):
    rep = org.rep
    today = planning.local_today(rep)
    store = make_store(rep=rep, tier="B")
    visited(rep, store, 1)
    db.session.add(FollowUp(store_id=store.id, text="Check the price tags", owner=rep, created_by_id=rep.id,
                            due_on=today - timedelta(days=2), status="open"))
    later = make_store(rep=rep, tier="B")
    visited(rep, later, 1)
    db.session.add(FollowUp(store_id=later.id, text="Next month", owner=rep, created_by_id=rep.id,
                            due_on=today + timedelta(days=30), status="open"))
    db.session.commit()

    day = planning.today_for(rep, today)

    assert [(s.store.id, s.reasons) for s in day.stops] == [(store.id, [("follow_up", today - timedelta(days=2))])]


def test_planned_visits_are_routed_before_overdue_stores_when_the_day_is_full(org, monkeypatch):
    monkeypatch.setattr(planning, "ROUTE_LIMIT", 1)
    rep = org.rep
    today = planning.local_today(rep)
    very_late = make_store(rep=rep, tier="A")
    visited(rep, very_late, 60)
    on_plan = make_store(rep=rep, tier="D")
    visited(rep, on_plan, 1)
    planned(rep, on_plan, today)

    day = planning.today_for(rep, today)

    assert [s.store.id for s in day.stops] == [on_plan.id]
    assert [s.store.id for s in day.also_due] == [very_late.id]


def test_the_route_starts_where_the_rep_is_else_where_they_are_or_last_were(org):
    rep = org.rep
    today = planning.local_today(rep)
    make_store(rep=rep, lat=31.20, lng=121.40)
    last = make_store(rep=rep, lat=31.30, lng=121.50)
    visited(rep, last, 0)
    here = Point(31.0, 121.0)

    assert planning.today_for(rep, today, here).start_from == "position"
    day = planning.today_for(rep, today)
    assert (day.start_from, day.start_store, day.start) == ("last_visit", last, last.point)
    busy = make_store(rep=rep, lat=31.25, lng=121.45)
    visited(rep, busy, 0, status=VisitStatus.IN_PROGRESS)
    day = planning.today_for(rep, today)
    assert (day.start_from, day.start_store) == ("in_progress", busy)
    assert busy.id not in {s.store.id for s in day.stops} and last.id not in {s.store.id for s in day.stops}


def test_a_store_without_a_position_is_listed_after_the_route_without_a_leg(org):
    rep = org.rep
    nowhere = make_store(rep=rep, lat=None, lng=None)
    somewhere = make_store(rep=rep)

    day = planning.today_for(rep, planning.local_today(rep), Point(31.2, 121.4))

    assert [s.store.id for s in day.stops] == [somewhere.id, nowhere.id]
    assert day.unplaced[0].leg_m is None and day.total_m == day.stops[0].leg_m > 0


def _plan_events() -> int:
    return db.session.execute(select(func.count()).where(AuditEvent.action == "visit.plan")).scalar_one()


def test_plan_visits_is_all_or_nothing(org):
    day = planning.local_today(org.supervisor) + timedelta(days=1)
    open_store = make_store(rep=org.rep)
    closed = make_store(rep=org.rep, name="Closed Shop", active=False)

    with pytest.raises(DomainError, match="Closed Shop"):
        planning.plan_visits(org.supervisor, org.rep, [open_store, closed], vtype(), day)

    assert db.session.execute(select(func.count(Visit.id))).scalar_one() == 0 and _plan_events() == 0


def test_plan_visits_never_plans_a_store_twice_for_a_day(org):
    day = planning.local_today(org.supervisor) + timedelta(days=1)
    a, b = make_store(rep=org.rep), make_store(rep=org.rep)
    planning.plan_visits(org.supervisor, org.rep, [a], vtype(), day)

    outcome = planning.plan_visits(org.supervisor, org.rep, [a, b, b], vtype("stock_count"), day)

    assert [v.store for v in outcome.planned] == [b] and outcome.already == [a]
    assert db.session.execute(select(func.count(Visit.id))).scalar_one() == 2 and _plan_events() == 2


@pytest.mark.parametrize("who", ["supervisor", "teammate_inactive"])
def test_plan_visits_is_for_active_reps(org, who):
    rep = org.supervisor if who == "supervisor" else org.teammate
    if who == "teammate_inactive":
        rep.active = False
        db.session.commit()

    with pytest.raises(DomainError, match="active reps"):
        planning.plan_visits(org.supervisor, rep, [make_store(rep=org.rep)], vtype(),
                             planning.local_today(org.supervisor))
