"""Each alert rule at its threshold (the pure decision, then the rule over the database), one alert per
condition and period however often it is evaluated, alerts that clear by themselves, and who is told."""
from datetime import datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import select

from field import providers
from field.activities.models import Evidence
from field.alerts import rules as R
from field.alerts.evaluate import evaluate, leaf_regions, recipients, settings
from field.alerts.models import Alert, AlertRule, AlertStatus
from field.audit import AuditEvent
from field.core import now
from field.extensions import db
from field.visits.models import VisitStatus
from tests.factories import SHANGHAI, make_photo, make_store, make_user, make_visit, promo_visit, running

pytestmark = pytest.mark.usefixtures("request_ctx")


def at(day, hour=12, minute=0):
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def today():
    return now().astimezone(SHANGHAI).date()


def only(region, code, **params):
    """Thresholds for `region`: `code` on with `params`, every other rule off (so a test sees one rule)."""
    for rule in R.RULES:
        db.session.add(AlertRule(region_id=region.id, code=rule.code, enabled=rule.code == code,
                                 params={**rule.defaults(), **params} if rule.code == code else rule.defaults()))
    db.session.commit()


def set_params(region, code, **params):
    row = db.session.execute(select(AlertRule).where(AlertRule.region_id == region.id,
                                                     AlertRule.code == code)).scalar_one()
    row.params = {**row.params, **params}
    db.session.commit()


def alerts(code=None):
    stmt = select(Alert).order_by(Alert.id)
    if code:
        stmt = stmt.where(Alert.rule == code)
    return db.session.execute(stmt).scalars().all()


# --- the decisions, at their thresholds ------------------------------------------------------------------

def test_the_decisions_at_their_thresholds():
    assert not R.fires_missed(1, 2) and R.fires_missed(2, 2)
    assert not R.fires_coverage(4, 5, 80) and R.fires_coverage(79, 100, 80) and not R.fires_coverage(0, 0, 80)
    assert not R.fires_no_checkin(time(9, 59), time(10), False) and R.fires_no_checkin(time(10), time(10), False)
    assert not R.fires_no_checkin(time(11), time(10), True)
    assert not R.fires_flagged(1, 2) and R.fires_flagged(2, 2)
    today_ = datetime(2027, 1, 10).date()
    assert R.fires_overdue(today_ - timedelta(days=3), today_, 2)       # two whole days after it ended
    assert not R.fires_overdue(today_ - timedelta(days=2), today_, 2)
    assert not R.fires_overdue(today_ - timedelta(days=R.RECENT_DAYS + 1), today_, 2)  # history
    assert R.fires_floor(1, 2, Decimal("60.00"), 2) and not R.fires_floor(1, 2, Decimal("50.00"), 2)
    assert not R.fires_floor(0, 1, Decimal("60.00"), 2)                 # too early to tell
    assert R.fires_budget(80, 100, 59, 100, 80, 60) and not R.fires_budget(79, 100, 59, 100, 80, 60)
    assert not R.fires_budget(80, 100, 60, 100, 80, 60) and not R.fires_budget(80, 0, 0, 1, 80, 60)
    assert R.fires_roi(Fraction(-1, 100), 0) and not R.fires_roi(Fraction(0), 0) and not R.fires_roi(None, 0)
    assert R.fires_roi(Fraction(9, 100), 10) and not R.fires_roi(Fraction(10, 100), 10)
    assert not R.fires_reuse(2, 3) and R.fires_reuse(3, 3)


def test_thresholds_are_checked_in_range():
    count = R.BY_CODE["missed_visits"].params[0]
    assert count.parse("3") == 3
    for bad in ("0", "51", "x", "", "2.5"):
        with pytest.raises(ValueError):
            count.parse(bad)
    clock = R.BY_CODE["no_checkin"].params[0]
    assert clock.parse("9:30") == "09:30"
    for bad in ("05:59", "18:01", "25:00", "noon"):
        with pytest.raises(ValueError):
            clock.parse(bad)
    roi = R.BY_CODE["negative_roi"].params[0]
    assert roi.parse("-100") == -100
    with pytest.raises(ValueError):
        roi.parse("-101")


def test_a_region_takes_its_own_thresholds_else_the_nearest_above_else_the_defaults(org):
    assert settings(org.east)["missed_visits"][:2] == (True, {"min_missed": 1})
    db.session.add(AlertRule(region_id=org.china.id, code="missed_visits", enabled=True, params={"min_missed": 3}))
    db.session.commit()
    assert settings(org.east)["missed_visits"][1] == {"min_missed": 3}
    db.session.add(AlertRule(region_id=org.east.id, code="missed_visits", enabled=False, params={"min_missed": 2}))
    db.session.commit()
    assert settings(org.east)["missed_visits"][:2] == (False, {"min_missed": 2})
    assert settings(org.west)["missed_visits"][1] == {"min_missed": 3}
    assert [r.code for r in leaf_regions()] == ["EAST", "WEST"]
    assert [r.code for r in leaf_regions(org.china)] == ["EAST", "WEST"] and leaf_regions(org.east) == [org.east]


# --- each rule over the database, at its threshold ------------------------------------------------------------

def test_missed_visits_at_the_threshold_once_per_rep_and_day_and_clearing(org):
    only(org.east, "missed_visits", min_missed=2)
    day = today()
    first = make_visit(org.rep, planned_for=day - timedelta(days=1))
    make_visit(org.rep, planned_for=day - timedelta(days=2))        # not yesterday
    make_visit(org.teammate, planned_for=day - timedelta(days=1), at=at(day - timedelta(days=1)), minutes=30)
    assert evaluate(org.east, day).opened == []
    make_visit(org.rep, planned_for=day - timedelta(days=1))
    outcome = evaluate(org.east, day)
    db.session.commit()
    assert [(a.rule, a.rep_id, a.period, a.detail["missed"]) for a in outcome.opened] == \
        [("missed_visits", org.rep.id, day - timedelta(days=1), 2)]
    again = evaluate(org.east, day)                                  # the same condition, the same period
    db.session.commit()
    assert again.opened == [] and again.standing == 1 and len(alerts()) == 1
    first.status = VisitStatus.CANCELLED                             # the supervisor cancelled one: under 2
    db.session.commit()
    cleared = evaluate(org.east, day)
    db.session.commit()
    assert [a.id for a in cleared.cleared] == [outcome.opened[0].id]
    alert = alerts()[0]
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_by_id is None and alert.cleared
    actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "alerts")
                                 .order_by(AuditEvent.id)).scalars().all()
    assert actions == ["alert.open", "alert.clear"]


def test_a_resolved_alert_is_not_opened_again_for_the_same_period(org):
    only(org.east, "missed_visits", min_missed=1)
    day = today()
    make_visit(org.rep, planned_for=day - timedelta(days=1))
    evaluate(org.east, day)
    alert = alerts()[0]
    alert.status, alert.resolved_by_id, alert.resolved_at = AlertStatus.RESOLVED, org.supervisor.id, now()
    db.session.commit()
    assert evaluate(org.east, day).opened == [] and len(alerts()) == 1
    assert len(evaluate(org.east, day + timedelta(days=1)).opened) == 0   # yesterday then was a day with none
    make_visit(org.rep, planned_for=day)
    assert len(evaluate(org.east, day + timedelta(days=1)).opened) == 1   # a new period, a new alert


def test_coverage_under_the_floor(org):
    only(org.east, "coverage", overdue_days=7, min_coverage_pct=75)
    day = today()
    long_ago = now() - timedelta(days=100)
    stores = [make_store(rep=org.rep, tier="B", created_at=long_ago) for _ in range(4)]
    for store in stores[:3]:
        make_visit(org.rep, store, at=at(day - timedelta(days=2)), minutes=20)
    make_store(rep=org.teammate, tier="B", created_at=now())           # new: not due yet
    assert evaluate(org.east, day).opened == []                       # 3 of 4 = 75 %: on the floor
    set_params(org.east, "coverage", min_coverage_pct=76)
    opened = evaluate(org.east, day).opened
    assert [(a.rep_id, a.detail["covered"], a.detail["total"], a.detail["store_ids"]) for a in opened] == \
        [(org.rep.id, 3, 4, [stores[3].id])]
    assert opened[0].period == R.monday(day)


def test_coverage_counts_a_store_late_only_past_the_days_allowed(org):
    only(org.east, "coverage", overdue_days=7, min_coverage_pct=100)
    day = today()
    store = make_store(rep=org.rep, tier="B", created_at=now() - timedelta(days=100))  # every 14 days
    make_visit(org.rep, store, at=at(day - timedelta(days=21)), minutes=20)             # 7 days past due
    assert evaluate(org.east, day).opened == []
    set_params(org.east, "coverage", overdue_days=6)
    assert len(evaluate(org.east, day).opened) == 1


def last_weekday(day, weekday):
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def test_no_checkin_by_the_time_of_day_and_a_check_in_clears_it(org):
    only(org.east, "no_checkin", by_time="10:00")
    day = last_weekday(today(), 2)  # a Wednesday
    assert evaluate(org.east, day, moment=at(day, 9, 59)).opened == []
    make_visit(org.teammate, at=at(day, 8, 30), minutes=20)
    opened = evaluate(org.east, day, moment=at(day, 10, 0)).opened
    assert [a.rep_id for a in opened] == [org.rep.id]
    make_visit(org.rep, at=at(day, 10, 40))
    outcome = evaluate(org.east, day, moment=at(day, 10, 45))
    assert [a.rep_id for a in outcome.cleared] == [org.rep.id]


def test_no_checkin_on_a_weekend_only_for_a_rep_with_a_visit_planned(org):
    only(org.east, "no_checkin", by_time="10:00")
    saturday = last_weekday(today(), 5)
    assert evaluate(org.east, saturday, moment=at(saturday, 11)).opened == []
    make_visit(org.teammate, planned_for=saturday)
    opened = evaluate(org.east, saturday, moment=at(saturday, 11)).opened
    assert [a.rep_id for a in opened] == [org.teammate.id]


def test_a_check_in_evaluates_the_reps_rules_at_once(org):
    """The visits operations tell providers "visit.checked_in"; alerts listens (a flagged check-in, here)."""
    only(org.east, "flagged_visits", min_flagged=1)
    store = make_store(rep=org.rep)
    visit = make_visit(org.rep, store, at=now() - timedelta(minutes=5), flags=[{"code": "outside_geofence"}])
    providers.notify("visit.checked_in", visit)
    db.session.commit()
    assert [(a.rule, a.rep_id) for a in alerts()] == [("flagged_visits", org.rep.id)]


def test_flagged_visits_at_the_threshold(org):
    only(org.east, "flagged_visits", min_flagged=2)
    day = today()
    store = make_store(rep=org.rep)
    make_visit(org.rep, store, at=at(day, 9), minutes=20, flags=[{"code": "outside_geofence"}])
    make_visit(org.rep, store, at=at(day, 11), minutes=20)
    assert evaluate(org.east, day, moment=at(day, 15)).opened == []
    flagged = make_visit(org.rep, store, at=at(day, 13), minutes=20, flags=[{"code": "short_dwell"}])
    opened = evaluate(org.east, day, moment=at(day, 15)).opened
    assert [(a.rep_id, a.period, a.detail["flagged"]) for a in opened] == [(org.rep.id, day, 2)]
    assert flagged.id in opened[0].detail["visit_ids"]


def test_evidence_overdue_after_the_grace_days(org):
    store = make_store(rep=org.rep)
    activity = running(org.manager, [store], start_days_ago=10)     # period 0 ended four days ago, no evidence
    only(org.east, "evidence_overdue", grace_days=4)
    assert evaluate(org.east, today()).opened == []
    set_params(org.east, "evidence_overdue", grace_days=3)
    opened = evaluate(org.east, today()).opened
    assert [(a.activity_id, a.detail["periods"], a.detail["rep_ids"]) for a in opened] == \
        [(activity.id, 1, [org.rep.id])]


def test_compliance_under_the_payout_floor_once_enough_periods_are_owed(org):
    store = make_store(rep=org.rep)
    activity = running(org.manager, [store], start_days_ago=17)     # two weekly periods over, none verified
    only(org.east, "compliance_floor", min_periods=3)
    assert evaluate(org.east, today()).opened == []
    set_params(org.east, "compliance_floor", min_periods=2)
    opened = evaluate(org.east, today()).opened
    assert [(a.activity_id, a.detail["under"], a.detail["stores"]) for a in opened] == [(activity.id, 1, 1)]


def test_negative_roi_reads_the_roi_pages_figures_at_the_threshold(org):
    """With no sales at all the ROI page reads −100 % on the committed budget: so does the rule."""
    store = make_store(rep=org.rep)
    activity = running(org.manager, [store], start_days_ago=10)
    only(org.east, "negative_roi", roi_pct=-100)
    assert evaluate(org.east, today()).opened == []
    set_params(org.east, "negative_roi", roi_pct=-99)
    opened = evaluate(org.east, today()).opened
    assert [(a.activity_id, a.detail["roi"]) for a in opened] == [(activity.id, "-100.0")]


def test_budget_rule_stays_quiet_while_nothing_is_written_off(org):
    store = make_store(rep=org.rep)
    running(org.manager, [store], start_days_ago=17)
    only(org.east, "budget_compliance", used_pct=1, compliance_pct=100)
    assert evaluate(org.east, today()).opened == []


def test_repeated_photo_reuse_by_one_rep_in_seven_days(org):
    only(org.east, "photo_reuse", min_flags=3)
    store = make_store(rep=org.rep)
    visit, step = promo_visit(org.rep, store)
    make_photo(visit, step, flags=("exact_reuse",))
    make_photo(visit, step, flags=("near_reuse",))
    make_photo(visit, step, flags=("no_capture_data",))
    make_photo(visit, step, flags=("exact_reuse",), at=now() - timedelta(days=8))   # older than a week
    assert evaluate(org.east, today()).opened == []
    make_photo(visit, step, flags=("near_reuse",))
    opened = evaluate(org.east, today()).opened
    assert [(a.rep_id, a.detail["flagged"], a.detail["visit_ids"]) for a in opened] == [(org.rep.id, 3, [visit.id])]


def test_a_region_sees_only_its_own_reps(org):
    only(org.east, "missed_visits", min_missed=1)
    only(org.west, "missed_visits", min_missed=1)
    make_visit(org.west_rep, planned_for=today() - timedelta(days=1))
    assert evaluate(org.east, today()).opened == []
    assert [a.rep_id for a in evaluate(org.west, today()).opened] == [org.west_rep.id]


# --- who is told ---------------------------------------------------------------------------------------------

def test_a_new_alert_tells_the_reps_supervisor_and_the_regions_managers_once(org, monkeypatch):
    heard = []
    monkeypatch.setattr(providers, "_listeners", {**providers._listeners, "alerts.opened": [
        lambda messages: heard.extend(messages)]})  # an evaluation's new alerts come together
    top = make_user(role="manager", login="country", regions=[org.china])
    make_user(role="manager", login="westmanager", regions=[org.west])
    only(org.east, "missed_visits", min_missed=1)
    make_visit(org.rep, planned_for=today() - timedelta(days=1))
    alert = evaluate(org.east, today()).opened[0]
    assert [u.login for u in recipients(alert)] == ["manager", "supervisor", "country"]
    assert len(heard) == 1                                           # one language: one call
    call = heard[0]
    assert sorted(u.login for u in call["users"]) == ["country", "manager", "supervisor"]
    assert call["kind"] == "alert" and call["key"] == f"alert:{alert.id}" and call["url"] == f"/alerts/{alert.id}"
    assert org.rep.name in call["title"] and "1 planned visit" in call["body"]
    evaluate(org.east, today())
    assert len(heard) == 1                                           # evaluated again: nobody told twice
