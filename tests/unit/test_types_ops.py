"""The visit-type editor's rules and operations (field/visits/types_ops.py), without requests."""
import threading

import pytest
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.core import Conflict
from field.extensions import db
from field.visits import types_ops as ops
from field.visits.models import StepKind, VisitStep, VisitType
from tests.factories import vtype

pytestmark = pytest.mark.usefixtures("request_ctx")


def positions(visit_type: VisitType) -> list[tuple[int, str]]:
    db.session.expire_all()
    return [(s.position, s.title) for s in ops.active_steps(visit_type)]


def titles(visit_type: VisitType) -> list[str]:
    return [title for _position, title in positions(visit_type)]


def events(action: str) -> list[AuditEvent]:
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).scalars().all()


def step_count() -> int:
    return db.session.scalar(select(func.count()).select_from(VisitStep))


def refused(call, *args) -> dict:
    with pytest.raises(ops.Invalid) as caught:
        call(*args)
    db.session.rollback()
    return caught.value.errors


def step_values(**overrides) -> dict:
    values = {"title": "货架检查", "title_en": "Shelf check", "phase": "do", "required": False,
              "items": "价签清晰\n货架整洁"}
    values.update(overrides)
    return values


# --- a type's fields ------------------------------------------------------------------------

@pytest.mark.parametrize("dwell", ["-5", "10000", "241", "abc", "1.5", -1])
def test_an_absurd_minimum_time_is_refused(dwell):
    errors = refused(ops.clean_type, {"name": "巡店", "code": "tour", "min_dwell": dwell}, True)
    assert set(errors) == {"min_dwell"}
    assert "0 to 240" in errors["min_dwell"]


def test_type_fields_are_cleaned_and_an_empty_time_is_no_minimum():
    clean = ops.clean_type({"name": " 巡店 ", "name_en": " Store tour ", "code": " Tour-1 ", "min_dwell": "",
                            "goals": "看陈列\n\n  问库存  \n"}, True)
    assert clean == {"name": "巡店", "name_en": "Store tour", "code": "tour-1", "min_dwell": 0,
                     "goals": ["看陈列", "问库存"]}


def test_a_type_needs_a_name_and_a_code_of_plain_letters():
    errors = refused(ops.clean_type, {"name": "  ", "code": "新 code", "min_dwell": "5"}, True)
    assert set(errors) == {"name", "code"}
    assert "lower-case letters" in errors["code"]


def test_a_code_is_taken_whatever_its_case(org):
    vtype()
    errors = refused(ops.create_type, {"name": "又一个", "code": "ROUTINE", "min_dwell": "5"}, org.admin)
    assert errors == {"code": "The code routine is taken."}


def test_a_code_taken_between_the_check_and_the_write_is_refused_and_the_rest_stays(org, monkeypatch):
    """Another admin's type took the code after the check: the savepoint undoes only the new type."""
    ops.create_type({"name": "巡店", "code": "tour", "min_dwell": "20"}, org.admin)
    monkeypatch.setattr(ops, "_code_taken", lambda code: False)
    with pytest.raises(ops.Invalid) as caught:
        ops.create_type({"name": "又一个", "code": "tour", "min_dwell": "5"}, org.admin)
    assert caught.value.errors == {"code": "The code tour is taken."}
    db.session.commit()
    assert db.session.scalars(select(VisitType.name).where(VisitType.code == "tour")).all() == ["巡店"]
    assert len(events("visit_type.create")) == 1


def test_create_and_update_a_type_are_audited(org):
    made = ops.create_type({"name": "巡店", "name_en": "Store tour", "code": "tour", "min_dwell": "20"}, org.admin)
    assert (made.active, made.min_dwell_minutes, made.steps) == (True, 20, [])
    changes = ops.update_type(made, {"name": "巡店", "name_en": "Store walk", "min_dwell": 25, "goals": ""},
                              org.admin)
    assert changes == {"name_en": ["Store tour", "Store walk"], "min_dwell_minutes": [20, 25]}
    assert events("visit_type.create")[0].details["code"] == "tour"
    assert events("visit_type.update")[0].details["min_dwell_minutes"] == [20, 25]
    assert ops.update_type(made, {"name": "巡店", "name_en": "Store walk", "min_dwell": 25}, org.admin) == {}
    assert len(events("visit_type.update")) == 1


def test_updating_with_a_bad_time_writes_nothing(org):
    routine = vtype()
    refused(ops.update_type, routine, {"name": "改名", "min_dwell": "10000"}, org.admin)
    db.session.expire_all()
    assert (routine.name, routine.min_dwell_minutes) == ("例行拜访", 10)
    assert events("visit_type.update") == []


def test_deactivate_and_reactivate(org):
    routine = vtype()
    assert ops.set_type_active(routine, False, org.admin) is True
    assert ops.set_type_active(routine, False, org.admin) is False
    assert ops.set_type_active(routine, True, org.admin) is True
    assert [e.action for e in events("visit_type.deactivate") + events("visit_type.activate")] == [
        "visit_type.deactivate", "visit_type.activate"]


# --- a step's config, per kind ---------------------------------------------------------------

def config(kind, **values) -> dict:
    errors: dict = {}
    out = ops.step_config(kind, values, errors)
    assert errors == {}, errors
    return out


def config_errors(kind, **values) -> dict:
    errors: dict = {}
    ops.step_config(kind, values, errors)
    return errors


def test_checklist_items_one_per_line():
    assert config(StepKind.CHECKLIST, items="价签清晰\r\n\r\n 货架整洁 ") == {"items": ["价签清晰", "货架整洁"]}
    assert "at least one item" in config_errors(StepKind.CHECKLIST, items=" \n ")["items"]
    assert "twice" in config_errors(StepKind.CHECKLIST, items="a\nb\na")["items"]
    assert "At most 50" in config_errors(StepKind.CHECKLIST, items="\n".join(f"item {i}" for i in range(51)))["items"]


def test_choices_need_two_distinct_options():
    assert config(StepKind.CHOICE, choices="优\n良\n差") == {"choices": ["优", "良", "差"]}
    assert config(StepKind.MULTI_CHOICE, choices="甲\n乙") == {"choices": ["甲", "乙"]}
    assert "at least two" in config_errors(StepKind.CHOICE, choices="优")["choices"]


def test_number_limits_and_unit():
    assert config(StepKind.NUMBER, min="", max="", unit="") == {"min": 0}
    assert config(StepKind.NUMBER, min="-10", max="1,000", unit="件") == {"min": -10, "max": 1000, "unit": "件"}
    assert config(StepKind.NUMBER, min="0.5", max="2.50") == {"min": "0.5", "max": "2.5"}
    assert "below the lowest" in config_errors(StepKind.NUMBER, min="10", max="5")["max"]
    assert "below the lowest" in config_errors(StepKind.NUMBER, min="", max="-5")["max"]
    assert set(config_errors(StepKind.NUMBER, min="abc", max="NaN")) == {"min", "max"}
    assert "max" in config_errors(StepKind.NUMBER, max="1e20")
    assert "unit" in config_errors(StepKind.NUMBER, unit="x" * 21)


def test_photo_count_and_album():
    assert config(StepKind.PHOTO, min_photos="3", allow_album="1") == {"min_photos": 3, "allow_album": True}
    assert config(StepKind.PHOTO, min_photos="") == {"min_photos": 1, "allow_album": False}
    for bad in ("0", "21", "two"):
        assert "min_photos" in config_errors(StepKind.PHOTO, min_photos=bad)


def test_catalogue_kinds_set_nothing_and_keep_what_they_had():
    assert config(StepKind.STOCK_COUNT) == {"products": [], "floor": {}}
    errors: dict = {}
    kept = ops.step_config(StepKind.STOCK_COUNT, {}, errors, old={"products": ["A1"], "floor": {"A1": 3}})
    assert kept == {"products": ["A1"], "floor": {"A1": 3}}
    assert config(StepKind.ORDER_LINES) == {}
    assert config(StepKind.TEXT) == {}


def test_scorecard_lines_take_a_highest_score():
    assert config(StepKind.SCORECARD, scorecard="拜访准备 | 5\n陈列执行\n沟通｜20") == {"items": [
        {"label": "拜访准备", "max": 5}, {"label": "陈列执行", "max": 10}, {"label": "沟通", "max": 20}]}
    assert "1 to 100" in config_errors(StepKind.SCORECARD, scorecard="拜访准备 | 0")["scorecard"]
    assert "before the |" in config_errors(StepKind.SCORECARD, scorecard="| 5")["scorecard"]


def test_a_step_needs_a_title_and_a_phase():
    errors = refused(ops.clean_step, step_values(title=" ", phase="later"), StepKind.CHECKLIST)
    assert set(errors) == {"title", "phase"}


# --- steps ------------------------------------------------------------------------------------

def test_a_new_step_goes_last_and_is_audited(org):
    routine = vtype()
    step = ops.add_step(routine, StepKind.CHECKLIST, step_values(required="1"), org.admin)
    assert positions(routine)[-1] == (5, "货架检查")
    assert [p for p, _t in positions(routine)] == [0, 1, 2, 3, 4, 5]
    assert (step.required, step.config) == (True, {"items": ["价签清晰", "货架整洁"]})
    event = events("visit_type.step_add")[0]
    assert (event.object_type, event.object_id, event.details["step"]) == ("visit_types", routine.id, step.id)


def test_unknown_kinds_and_bad_config_write_nothing(org):
    routine = vtype()
    before = step_count()
    assert "kind" in refused(ops.add_step, routine, "video", step_values(), org.admin)
    assert "kind" in refused(ops.add_step, routine, StepKind.SCORECARD, step_values(), org.admin)
    assert "items" in refused(ops.add_step, routine, StepKind.CHECKLIST, step_values(items=""), org.admin)
    assert step_count() == before
    assert events("visit_type.step_add") == []


def test_the_scorecard_is_offered_on_the_co_visit_type_only():
    assert StepKind.SCORECARD not in ops.kinds_for(vtype("routine"))
    assert StepKind.SCORECARD in ops.kinds_for(vtype("co_visit"))


def test_move_swaps_neighbours_and_stops_at_the_ends(org):
    routine = vtype()
    first, second = ops.active_steps(routine)[:2]
    assert ops.move_step(second, -1, org.admin) is True
    assert titles(routine)[:2] == ["库存盘点", "门店检查"]
    db.session.expire_all()
    assert ops.move_step(db.session.get(VisitStep, second.id), -1, org.admin) is False
    last = ops.active_steps(routine)[-1]
    assert ops.move_step(last, 1, org.admin) is False
    assert events("visit_type.step_move")[0].details == {"step": second.id, "position": [2, 1]}
    assert len(events("visit_type.step_move")) == 1


def test_a_move_renumbers_positions_that_were_left_untidy(org):
    routine = vtype()
    steps = ops.active_steps(routine)
    for step in steps:
        step.position = 7  # e.g. written by hand or by an older version
    db.session.commit()
    ops.move_step(ops.active_steps(routine)[2], -1, org.admin)
    assert [p for p, _t in positions(routine)] == [0, 1, 2, 3, 4]


def test_remove_hides_the_step_and_restore_brings_it_back_last(org):
    routine = vtype()
    summary_first = ops.active_steps(routine)[0]
    assert ops.remove_step(summary_first, org.admin) is True
    db.session.commit()  # the request's commit: the refusals below roll back only their own work
    assert "门店检查" not in titles(routine)
    assert [p for p, _t in positions(routine)] == [0, 1, 2, 3]
    assert [s.title for s in ops.removed_steps(routine)] == ["门店检查"]
    assert ops.remove_step(db.session.get(VisitStep, summary_first.id), org.admin) is False
    with pytest.raises(Conflict):
        ops.move_step(db.session.get(VisitStep, summary_first.id), 1, org.admin)
    with pytest.raises(Conflict):
        ops.set_required(db.session.get(VisitStep, summary_first.id), False, org.admin)
    db.session.rollback()
    assert ops.restore_step(db.session.get(VisitStep, summary_first.id), org.admin) is True
    assert positions(routine)[-1] == (4, "门店检查")
    assert [e.action for e in events("visit_type.step_remove") + events("visit_type.step_restore")] == [
        "visit_type.step_remove", "visit_type.step_restore"]


def test_update_changes_titles_phase_and_config_but_never_the_kind(org):
    routine = vtype()
    step = ops.active_steps(routine)[0]
    changes = ops.update_step(step, step_values(title="门店检查", kind="text", phase="check", required="1",
                                                items="价签清晰"), org.admin)
    assert set(changes) == {"title_en", "phase", "config"}
    db.session.expire_all()
    step = db.session.get(VisitStep, step.id)
    assert (step.kind, step.phase, step.config) == ("checklist", "check", {"items": ["价签清晰"]})
    assert events("visit_type.step_update")[0].details["phase"] == ["do", "check"]
    assert ops.update_step(step, step_values(title="门店检查", phase="check", required="1", items="价签清晰"),
                           org.admin) == {}


def test_required_is_set_not_toggled(org):
    step = ops.active_steps(vtype())[1]
    assert ops.set_required(step, True, org.admin) is True
    assert ops.set_required(step, True, org.admin) is False  # a double tap changes nothing twice
    assert events("visit_type.step_update")[0].details == {"step": step.id, "required": [False, True]}


def test_two_admins_reordering_at_once_never_share_a_position(app, org):
    """Two sessions move steps of one type at the same moment; every position stays distinct."""
    routine = vtype()
    ids = [s.id for s in ops.active_steps(routine)]
    admin_id, type_id = org.admin.id, routine.id
    start = threading.Barrier(2)
    failures = []

    def reorder(step_id, offset):
        with app.app_context():
            try:
                from field.auth.models import User
                admin = db.session.get(User, admin_id)
                start.wait(timeout=10)
                for _ in range(6):  # each call is one request, which commits at its end
                    ops.move_step(db.session.get(VisitStep, step_id), offset, admin)
                    db.session.commit()
                    offset = -offset
                ops.add_step(db.session.get(VisitType, type_id), StepKind.TEXT,
                             step_values(title=f"added by {step_id}"), admin)
                db.session.commit()
            except Exception as exc:  # reported below: a thread's failure must fail the test
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=reorder, args=(ids[1], -1)),
               threading.Thread(target=reorder, args=(ids[3], 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    assert [p for p, _t in positions(routine)] == list(range(7))
