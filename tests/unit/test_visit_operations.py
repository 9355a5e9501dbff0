"""Visit operations without a request: dwell, impossible travel, automatic checks, position parsing."""
from datetime import timedelta

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from field.core import Conflict, DomainError, now
from field.extensions import db
from field.geo import Point
from field.visits import history
from field.visits import operations as ops
from field.visits.forms import parse_position_at
from field.visits.models import FollowUp, VisitStatus
from tests.factories import make_product, make_store, vtype

pytestmark = [pytest.mark.usefixtures("request_ctx"), pytest.mark.language(None)]

SHANGHAI = Point(31.2304, 121.4737)
CHENGDU = Point(30.5728, 104.0668)


def check_in(rep, store, code="routine", at: Point | None = None, reason=""):
    return ops.check_in(rep, store, vtype(code), position=at or store.point, accuracy_m=10, position_at=now(),
                        reason=reason, client_key=None)


def step_of(visit, kind):
    return next(s for s in visit.visit_type.steps if s.kind == kind)


def finish_required(visit, rep):
    checklist = step_of(visit, "checklist")
    ops.save_step(visit, checklist.id, MultiDict({f"item-{i}": "pass" for i in range(len(checklist.config["items"]))}),
                  rep)


def test_short_dwell_is_flagged_and_a_long_enough_visit_is_not(rep):
    store = make_store(rep=rep, lat=SHANGHAI.lat, lng=SHANGHAI.lng)
    quick = check_in(rep, store)
    finish_required(quick, rep)
    ops.check_out(quick, rep, position=SHANGHAI, accuracy_m=10, position_at=now())
    flag = next(f for f in quick.flags if f["code"] == "short_dwell")
    assert flag["minimum"] == 10 and flag["minutes"] < 1

    slow = check_in(rep, store)
    finish_required(slow, rep)
    slow.checkin_at = now() - timedelta(minutes=25)
    db.session.commit()
    ops.check_out(slow, rep, position=SHANGHAI, accuracy_m=10, position_at=now())
    assert slow.status == VisitStatus.COMPLETED and slow.flags == []
    assert 24 < slow.dwell_minutes < 26


def test_impossible_travel_between_two_check_ins(rep):
    shanghai = make_store(rep=rep, lat=SHANGHAI.lat, lng=SHANGHAI.lng)
    chengdu = make_store(rep=rep, lat=CHENGDU.lat, lng=CHENGDU.lng)
    first = check_in(rep, shanghai)
    first.checkin_at = now() - timedelta(minutes=30)
    db.session.commit()
    ops.cancel(first, rep, "wrong store")
    second = check_in(rep, chengdu)
    flag = next(f for f in second.flags if f["code"] == "impossible_travel")
    assert 3000 < flag["speed_kmh"] < 3600  # ≈ 1,660 km in half an hour
    # a plausible drive is not flagged
    third_store = make_store(rep=rep, lat=CHENGDU.lat + 0.05, lng=CHENGDU.lng)  # ≈ 5.5 km
    second.checkin_at = now() - timedelta(minutes=20)
    db.session.commit()
    ops.cancel(second, rep, "moved on")
    third = check_in(rep, third_store)
    assert "impossible_travel" not in third.flag_codes


def test_two_check_ins_at_the_same_instant_in_two_cities_are_flagged_without_a_speed(rep):
    """No time between two places is an infinite speed: flagged, stored without a figure, and
    the flags still read as words and stay valid JSON."""
    shanghai = make_store(rep=rep, lat=SHANGHAI.lat, lng=SHANGHAI.lng)
    chengdu = make_store(rep=rep, lat=CHENGDU.lat, lng=CHENGDU.lng)
    first = check_in(rep, shanghai)
    instant = now().replace(microsecond=0) - timedelta(seconds=30)
    first.checkin_at = instant
    db.session.commit()
    ops.cancel(first, rep, "wrong store")
    second = ops.check_in(rep, chengdu, vtype("routine"), position=CHENGDU, accuracy_m=10, position_at=instant,
                          reason="", client_key=None)
    flag = next(f for f in second.flags if f["code"] == "impossible_travel")
    assert flag["speed_kmh"] is None
    db.session.expire_all()
    assert db.session.get(type(second), second.id).flags == second.flags
    with force_locale("en"):
        assert history.flag_text(flag) == "Faster than 150 km/h since the previous check-in"


def test_the_same_place_at_the_same_instant_is_no_travel_at_all(rep):
    store = make_store(rep=rep, lat=SHANGHAI.lat, lng=SHANGHAI.lng)
    first = check_in(rep, store)
    instant = now().replace(microsecond=0) - timedelta(seconds=30)
    first.checkin_at = instant
    db.session.commit()
    ops.cancel(first, rep, "tapped twice")
    again = ops.check_in(rep, store, vtype("routine"), position=SHANGHAI, accuracy_m=10, position_at=instant,
                         reason="", client_key=None)
    assert "impossible_travel" not in again.flag_codes


def test_auto_checks_checklist_score_and_stock_floor(rep):
    make_product(sku="COLA", name="Cola")
    make_product(sku="TEA", name="Tea")
    store = make_store(rep=rep, lat=SHANGHAI.lat, lng=SHANGHAI.lng)
    visit = check_in(rep, store)
    assert ops.auto_checks(visit, "zh_CN") == [{"code": "required_steps", "ok": False, "missing": ["门店检查"]}]
    assert ops.auto_checks(visit, "en") == [{"code": "required_steps", "ok": False, "missing": ["Store check"]}]

    checklist, stock = step_of(visit, "checklist"), step_of(visit, "stock_count")
    stock.config = {"products": [], "floor": {"COLA": 12, "TEA": 2}}
    db.session.commit()
    ops.save_step(visit, checklist.id, MultiDict({"item-0": "pass", "item-1": "fail", "item-2": "pass",
                                                  "item-3": "fail"}), rep)
    ops.save_step(visit, stock.id, MultiDict([("sku", "COLA"), ("sku", "TEA"), ("shelf-COLA", "3"),
                                              ("back-COLA", "4"), ("shelf-TEA", "2"), ("back-TEA", "0")]), rep)
    by_code = {c["code"]: c for c in ops.auto_checks(visit, "en")}
    assert by_code["required_steps"]["ok"] is True
    assert by_code["checklist"]["step"] == "Store check" and by_code["stock_floor"]["step"] == "Stock count"
    assert (by_code["checklist"]["passed"], by_code["checklist"]["total"], by_code["checklist"]["ok"]) == (2, 4, False)
    assert by_code["stock_floor"]["ok"] is False and by_code["stock_floor"]["low"] == ["Cola (7)"]


def test_step_rules_for_the_visit_state_and_owner(rep, org):
    store = make_store(rep=rep, lat=SHANGHAI.lat, lng=SHANGHAI.lng)
    visit = check_in(rep, store)
    checklist = step_of(visit, "checklist")
    with pytest.raises(DomainError) as exc:
        ops.save_step(visit, checklist.id, MultiDict(), org.supervisor)
    assert exc.value.status == 403
    ops.cancel(visit, rep, "closed")
    with pytest.raises(Conflict):
        ops.save_step(visit, checklist.id, MultiDict({"item-0": "pass"}), rep)


def test_met_follow_up_closes_at_check_out_and_new_ones_reach_the_next_plan(rep):
    store = make_store(rep=rep, lat=SHANGHAI.lat, lng=SHANGHAI.lng)
    old = FollowUp(store_id=store.id, text="Fix the price tags", owner_id=rep.id, created_by_id=rep.id, status="open")
    db.session.add(old)
    db.session.commit()
    visit = check_in(rep, store)
    objective = next(o for o in visit.objectives if o.follow_up_id == old.id)
    ops.mark_objective(visit, objective.id, True, "done", rep)
    ops.add_follow_up(visit, "Ask for a second shelf", rep.id, None, rep)
    finish_required(visit, rep)
    ops.check_out(visit, rep, position=SHANGHAI, accuracy_m=10, position_at=now())
    texts = [text for _, text, _ in ops.objectives_preview(store, vtype("order"), rep)]
    assert "Ask for a second shelf" in texts and "Fix the price tags" not in texts


def test_parse_position_at():
    assert parse_position_at("2026-11-23T02:00:00.123Z").isoformat() == "2026-11-23T02:00:00.123000+00:00"
    assert parse_position_at("2026-11-23T10:00:00+08:00").hour == 2
    for bad in ("", "yesterday", "2026-11-23T02:00:00", "1e9", "x" * 100):
        assert parse_position_at(bad) is None
