"""Visit history sums without requests: distance travelled, time in stores, local days, flags in words."""
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from field.extensions import db
from field.geo import Point
from field.visits import history
from field.visits.models import CoVisit, FollowUp, Objective, StepResult, VisitStatus
from field.visits.planning import local_today
from tests.factories import make_store, make_visit

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Three check-ins whose geodesic legs are known: 0.009° north (≈ 997.9 m), then 0.0105° east (≈ 1000.3 m).
A, B, C = Point(31.2300, 121.4700), Point(31.2390, 121.4700), Point(31.2390, 121.4805)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# --- pure sums ----------------------------------------------------------------------------------

def test_distance_travelled_for_three_checkins_is_the_sum_of_geodesic_legs():
    assert history.legs([A, B, C])[0] is None
    assert history.legs([A, B, C])[1] == pytest.approx(997.9, abs=0.5)
    assert history.legs([A, B, C])[2] == pytest.approx(1000.3, abs=0.5)
    assert history.travelled_m([A, B, C]) == pytest.approx(1998.1, abs=1)


def test_positions_missing_are_skipped_not_counted_as_zero_or_origin():
    assert history.travelled_m([A, None, B, None, C]) == pytest.approx(1998.1, abs=1)
    assert history.legs([None, A, None, B]) == [None, None, None, pytest.approx(997.9, abs=0.5)]
    assert history.travelled_m([]) == 0
    assert history.travelled_m([A]) == 0


def test_time_in_stores_sums_dwell_of_visits_with_both_times():
    start = utc(2024, 5, 6, 1, 0)
    visits = [SimpleNamespace(checkin_at=start, checkout_at=start + timedelta(minutes=25)),
              SimpleNamespace(checkin_at=start, checkout_at=start + timedelta(minutes=40, seconds=30)),
              SimpleNamespace(checkin_at=start, checkout_at=None),      # still in the store
              SimpleNamespace(checkin_at=None, checkout_at=None)]      # never started
    assert history.minutes_in_stores(visits) == pytest.approx(65.5)


def test_local_day_boundaries_in_shanghai():
    start, end = history.day_bounds(date(2024, 5, 6), SHANGHAI)
    assert start == utc(2024, 5, 5, 16, 0)
    assert end == utc(2024, 5, 6, 16, 0)
    late = SimpleNamespace(checkin_at=utc(2024, 5, 6, 15, 59), planned_for=date(2024, 5, 6))
    after_midnight = SimpleNamespace(checkin_at=utc(2024, 5, 6, 16, 0), planned_for=date(2024, 5, 6))
    never_started = SimpleNamespace(checkin_at=None, planned_for=date(2024, 5, 9))
    assert history.local_day(late, SHANGHAI) == date(2024, 5, 6)
    assert history.local_day(after_midnight, SHANGHAI) == date(2024, 5, 7)
    assert history.local_day(never_started, SHANGHAI) == date(2024, 5, 9)


def test_monday_of_any_day():
    assert history.monday_of(date(2024, 5, 12)) == date(2024, 5, 6)   # a Sunday
    assert history.monday_of(date(2024, 5, 6)) == date(2024, 5, 6)


# --- flags in words -------------------------------------------------------------------------------

def test_outside_fence_in_words_with_distance_fence_and_reason():
    flag = {"code": "outside_geofence", "at": "check_in", "distance_m": 812, "reason": "store moved"}
    with force_locale("en"):
        assert history.flag_text({**flag, "fence_m": 200}) == \
            "Checked in 812 m from the store (fence 200 m): “store moved”"
        assert history.flag_text(flag) == "Checked in 812 m from the store, outside its fence: “store moved”"
        assert history.flag_text({**flag, "at": "check_out", "reason": "", "fence_m": 150}) == \
            "Checked out 812 m from the store (fence 150 m)"


def test_other_flags_in_words():
    with force_locale("en"):
        assert history.flag_text({"code": "no_position", "reason": "GPS off"}) == \
            "Checked in without a position: “GPS off”"
        assert "350 m" in history.flag_text({"code": "poor_accuracy", "accuracy_m": 350})
        assert "410 km/h" in history.flag_text({"code": "impossible_travel", "speed_kmh": 410})
        assert history.flag_text({"code": "short_dwell", "minutes": 3.5, "minimum": 10}) == \
            "3.5 min in the store; this visit type asks for 10 min"
        assert "2 minutes" in history.flag_text({"code": "stale_position"})
        assert history.flag_text({"code": "something_new"}) == "something_new"
        assert history.flag_label("outside_geofence") == "Outside the fence"


def test_the_offline_timing_flags_in_words_in_both_languages():
    with force_locale("en"):
        assert history.flag_text({"code": "late_sync", "at": "check_in", "minutes": 185}) == \
            "Reached the server 185 min after the rep tapped"
        assert history.flag_text({"code": "clock_skew", "minutes": -42}) == "The phone's clock was 42 min off the server's"
        assert history.flag_label("out_of_order") == "Out of order"
    with force_locale("zh_CN"):
        assert history.flag_text({"code": "late_sync", "minutes": 185}) == "业务员操作 185 分钟后才送达服务器"
        assert history.flag_label("clock_skew") == "手机时间不准"


def test_flag_text_takes_the_fence_from_the_visits_store(org):
    store = make_store(rep=org.rep, geofence_m=300)
    visit = make_visit(org.rep, store, at=utc(2024, 5, 6, 2, 0), minutes=20,
                       flags=[{"code": "outside_geofence", "distance_m": 812, "reason": "store moved"}])
    with force_locale("en"):
        assert history.flag_text(visit.flags[0], visit) == \
            "Checked in 812 m from the store (fence 300 m): “store moved”"


# --- a rep's day and week, the team's day (database, no request) -------------------------------------

def test_day_summary_distance_dwell_counts_and_order(org):
    rep = org.rep
    # Out of order on purpose: the day is walked in check-in order.
    third = make_visit(rep, at=local(2024, 5, 6, 14, 0), minutes=30, point=C)
    first = make_visit(rep, at=local(2024, 5, 6, 9, 0), minutes=25, point=A,
                       flags=[{"code": "poor_accuracy", "accuracy_m": 150}])
    nowhere = make_visit(rep, at=local(2024, 5, 6, 10, 0), minutes=10, point=None,
                         flags=[{"code": "no_position", "reason": "GPS off"}, {"code": "short_dwell"}])
    second = make_visit(rep, at=local(2024, 5, 6, 11, 0), minutes=20, point=B)
    make_visit(rep, planned_for=date(2024, 5, 6))                                  # never started: missed
    make_visit(rep, planned_for=date(2024, 5, 6), status=VisitStatus.CANCELLED)    # cancelled before starting
    make_visit(org.teammate, at=local(2024, 5, 6, 12, 0), minutes=60, point=C)     # someone else's

    day = history.day_summary(rep, date(2024, 5, 6))

    assert [line.visit.id for line in day.lines[:4]] == [first.id, nowhere.id, second.id, third.id]
    assert day.distance_m == pytest.approx(1998.1, abs=1)
    assert day.lines[2].leg_m == pytest.approx(997.9, abs=0.5)   # A → B, the stop without position skipped
    assert day.lines[1].leg_m is None
    assert day.minutes_in_stores == pytest.approx(85)
    assert day.past and (day.completed, day.planned, day.missed, day.cancelled, day.in_progress) == (4, 0, 1, 1, 0)
    assert (day.flagged, day.flags) == (2, 3)


def test_a_visit_planned_for_today_is_still_planned_one_for_yesterday_was_missed(org):
    today = local_today(org.rep)
    make_visit(org.rep, planned_for=today)
    make_visit(org.rep, planned_for=today - timedelta(days=1))
    now_day, yesterday = history.day_summary(org.rep, today), history.day_summary(org.rep, today - timedelta(days=1))
    assert (now_day.past, now_day.planned, now_day.missed) == (False, 1, 0)
    assert (yesterday.past, yesterday.planned, yesterday.missed) == (True, 0, 1)
    week = history.week_summary(org.rep, today)
    assert week.missed == (1 if history.monday_of(today) < today else 0)   # yesterday may be last week


def test_day_summary_cuts_the_day_at_local_midnight(org):
    rep = org.rep
    late = make_visit(rep, at=utc(2024, 5, 6, 15, 50), minutes=5, point=A)        # 23:50 in Shanghai
    next_day = make_visit(rep, at=utc(2024, 5, 6, 16, 10), minutes=5, point=C)    # 00:10 the next day
    early = make_visit(rep, at=utc(2024, 5, 5, 16, 5), minutes=5, point=B)        # 00:05 on the 6th

    may6 = history.day_summary(rep, date(2024, 5, 6))
    may7 = history.day_summary(rep, date(2024, 5, 7))

    assert {v.id for v in may6.visits} == {early.id, late.id}
    assert {v.id for v in may7.visits} == {next_day.id}
    assert may6.distance_m == pytest.approx(997.9, abs=0.5)   # B then A; the trip after midnight is the 7th's


def test_week_summary_groups_by_local_day_and_sums(org):
    rep = org.rep
    make_visit(rep, at=local(2024, 5, 6, 9, 0), minutes=30, point=A)
    make_visit(rep, at=local(2024, 5, 6, 10, 0), minutes=30, point=B)
    make_visit(rep, at=local(2024, 5, 8, 9, 0), minutes=15, point=B)
    make_visit(rep, at=local(2024, 5, 8, 10, 0), minutes=15, point=C)
    make_visit(rep, at=local(2024, 5, 13, 0, 30), minutes=15, point=C)   # the next Monday

    week = history.week_summary(rep, date(2024, 5, 9))   # any day of the week

    assert week.monday == date(2024, 5, 6)
    assert [d.day for d in week.days] == [date(2024, 5, 6) + timedelta(days=i) for i in range(7)]
    assert [d.completed for d in week.days] == [2, 0, 2, 0, 0, 0, 0]
    assert week.completed == 4
    assert week.distance_m == pytest.approx(997.9 + 1000.3, abs=1)
    assert week.minutes_in_stores == pytest.approx(90)


def test_team_summary_is_the_supervisors_team_with_where_they_are(org):
    store = make_store(rep=org.rep, name="Corner Shop")
    make_visit(org.rep, at=local(2024, 5, 6, 9, 0), minutes=30, point=A)
    now_in = make_visit(org.rep, store, at=local(2024, 5, 6, 11, 0), point=B)
    make_visit(org.teammate, at=local(2024, 5, 6, 9, 0), minutes=45, point=C,
               flags=[{"code": "outside_geofence", "distance_m": 900, "reason": "road works"}])
    make_visit(org.west_rep, at=local(2024, 5, 6, 9, 0), minutes=45, point=C)

    lines = history.team_summary(org.supervisor, date(2024, 5, 6))

    by_rep = {line.rep.id: line for line in lines}
    assert set(by_rep) == {org.rep.id, org.teammate.id}
    assert by_rep[org.rep.id].current.id == now_in.id
    assert by_rep[org.rep.id].day.completed == 1 and by_rep[org.rep.id].day.in_progress == 1
    assert by_rep[org.rep.id].day.distance_m == pytest.approx(997.9, abs=0.5)
    assert by_rep[org.teammate.id].current is None
    assert by_rep[org.teammate.id].day.flagged == 1
    assert {line.rep.id for line in history.team_summary(org.manager, date(2024, 5, 6))} == \
        {org.rep.id, org.teammate.id}
    assert {line.rep.id for line in history.team_summary(org.west_supervisor, date(2024, 5, 6))} == \
        {org.west_rep.id}


# --- a store's timeline and the flagged list --------------------------------------------------------

def test_store_timeline_newest_first_with_results_objectives_follow_ups_and_co_visit(org):
    store = make_store(rep=org.rep)
    older = make_visit(org.rep, store, at=local(2024, 5, 1, 9, 0), minutes=20, point=A)
    newer = make_visit(org.rep, store, at=local(2024, 5, 6, 9, 0), minutes=20, point=A)
    make_visit(org.rep, store, planned_for=date(2024, 6, 1))   # not in the timeline: it has not happened
    check = next(s for s in newer.visit_type.steps if s.kind == "checklist")
    db.session.add(StepResult(visit=newer, step=check, status="done",
                              value={"items": [], "passed": 3, "total": 4}))
    db.session.add(Objective(visit=newer, source="goal", text="Main products on shelf", met=True))
    db.session.add(Objective(visit=newer, source="goal", text="Enough stock", met=False))
    db.session.add(FollowUp(store_id=store.id, visit=newer, text="Bring POSM", owner=org.rep,
                            created_by_id=org.rep.id))
    db.session.add(CoVisit(visit=newer, supervisor=org.supervisor, scores={"a": 8}, total=42, max_total=50))
    db.session.commit()

    with force_locale("en"):
        page = history.store_timeline(store, page=1, per_page=10, locale="en")

    assert page.total == 2
    assert [e.visit.id for e in page.items] == [newer.id, older.id]
    entry = page.items[0]
    assert entry.results == ["Store check: 3/4 passed"]
    assert entry.objectives_met == ["Main products on shelf"]
    assert entry.objectives_not_met == ["Enough stock"]
    assert [f.text for f in entry.follow_ups] == ["Bring POSM"]
    assert entry.co_visit.total == 42


def test_flagged_visits_in_scope_filtered_by_code_and_rep(org):
    outside = make_visit(org.rep, at=local(2024, 5, 6, 9, 0), minutes=20, point=A,
                         flags=[{"code": "outside_geofence", "distance_m": 812, "reason": "store moved"}])
    short = make_visit(org.teammate, at=local(2024, 5, 6, 10, 0), minutes=2, point=B,
                       flags=[{"code": "short_dwell", "minutes": 2, "minimum": 10}])
    make_visit(org.rep, at=local(2024, 5, 6, 11, 0), minutes=20, point=C)    # clean
    west = make_visit(org.west_rep, at=local(2024, 5, 6, 9, 0), minutes=20, point=A,
                      flags=[{"code": "outside_geofence", "distance_m": 900, "reason": "x"}])

    assert [v.id for v in history.flagged_visits(org.supervisor).items] == [short.id, outside.id]
    assert [v.id for v in history.flagged_visits(org.supervisor, code="outside_geofence").items] == [outside.id]
    assert [v.id for v in history.flagged_visits(org.supervisor, rep_id=org.teammate.id).items] == [short.id]
    assert [v.id for v in history.flagged_visits(org.west_supervisor).items] == [west.id]
    assert history.flagged_visits(org.admin).total == 3
    with pytest.raises(ValueError):
        history.flagged_visits(org.supervisor, code="%")
