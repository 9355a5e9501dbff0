"""The visit-type editor by request: admins list, create, edit and (de)activate types, and add, edit,
reorder, require, remove and restore steps; everyone else gets 403; every POST needs its CSRF token."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.core import now
from field.extensions import db
from field.geo import Point
from field.visits import operations as visit_ops
from field.visits.models import StepResult, Visit, VisitStatus, VisitStep, VisitType
from tests.factories import make_store, vtype

HX = {"HX-Request": "true", "HX-Request-Type": "partial"}
SHOP = Point(31.2304, 121.4737)


# --- helpers ------------------------------------------------------------------------------------

def fresh_type(visit_type: VisitType) -> VisitType:
    db.session.expire_all()
    return db.session.get(VisitType, visit_type.id)


def step_titles(visit_type: VisitType) -> list[str]:
    return [s.title_en for s in fresh_type(visit_type).steps]


def step_named(visit_type: VisitType, title_en: str) -> VisitStep:
    return next(s for s in fresh_type(visit_type).steps if s.title_en == title_en)


def audit_actions() -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def counts() -> tuple[int, int, int]:
    """Types, steps and audit events: what a refused request must leave as it was."""
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (VisitType, VisitStep, AuditEvent))


def shown_steps(html: str) -> list[str]:
    """The step titles of the type page, in the order shown (the English title of each step)."""
    return re.findall(r'<strong>\d+\. ([^<]+)</strong>', html)


def new_step_form(kind: str = "checklist", **overrides) -> dict:
    data = {"kind": kind, "title": "冰柜检查", "title_en": "Fridge check", "phase": "do", "required": "1",
            "items": "冰柜通电\n冰柜整洁"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def text(response) -> str:
    return response.get_data(as_text=True)


def planned(rep, visit_type: VisitType, store=None) -> Visit:
    store = store or make_store(rep=rep, lat=SHOP.lat, lng=SHOP.lng)
    visit = Visit(rep=rep, store=store, visit_type=visit_type, planned_for=date.today(),
                  status=VisitStatus.PLANNED, flags=[])
    db.session.add(visit)
    db.session.commit()
    return visit


def started(rep, visit_type: VisitType, store=None) -> Visit:
    visit = planned(rep, visit_type, store)
    return visit_ops.check_in(rep, visit.store, visit.visit_type, position=SHOP, accuracy_m=10, position_at=now(),
                              reason="", client_key=None, visit=visit)


# --- who may ------------------------------------------------------------------------------------

def routes(visit_type: VisitType) -> dict[str, list[str]]:
    step = visit_type.steps[0]
    base = f"/visit-types/{visit_type.id}"
    return {
        "get": ["/visit-types", base, f"{base}?add=checklist", f"{base}?edit={step.id}"],
        "post": ["/visit-types", base, f"{base}/deactivate", f"{base}/activate", f"{base}/steps",
                 f"{base}/steps/{step.id}", f"{base}/steps/{step.id}/move", f"{base}/steps/{step.id}/required",
                 f"{base}/steps/{step.id}/remove", f"{base}/steps/{step.id}/restore"],
    }


@pytest.mark.parametrize("role", ["rep", "supervisor", "manager"])
def test_no_one_but_an_admin_may_use_the_editor(client, org, role):
    # 403, not 404 as before issue 11: visit types are no one's scope, so the one answer for an
    # action that is not the user's is "not allowed" (permissions.may_administer).
    routine = vtype()
    client.login_as(getattr(org, role))
    before = counts()
    for url in routes(routine)["get"]:
        assert client.get(url).status_code == 403, url
    for url in routes(routine)["post"]:
        data = {**new_step_form(), "direction": "up", "required": "0", "name": "x", "code": "x", "min_dwell": "1"}
        assert client.post(url, data=data).status_code == 403, url
    assert counts() == before


def test_signed_out_is_sent_to_sign_in(client):
    routine = vtype()
    r = client.get(f"/visit-types/{routine.id}")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_every_post_without_its_csrf_token_is_refused(as_admin):
    routine = vtype()
    before = counts()
    for url in routes(routine)["post"]:
        data = {**new_step_form(), "direction": "down", "required": "0", "name": "新类型", "code": "fresh",
                "min_dwell": "5"}
        r = as_admin.post(url, data=data, csrf=False)
        assert r.status_code == 400, url
        assert "Reload the page" in text(r)
    assert counts() == before


def test_an_admin_reaches_every_page(as_admin):
    routine = vtype()
    for url in routes(routine)["get"]:
        assert as_admin.get(url).status_code == 200, url


def test_unknown_ids_are_404(as_admin):
    routine, order = vtype("routine"), vtype("order")
    foreign = order.steps[0]
    assert as_admin.get("/visit-types/999999").status_code == 404
    assert as_admin.post("/visit-types/999999/steps", data=new_step_form()).status_code == 404
    # A step of another type is not this type's, whatever the address says.
    for action in ("", "/move", "/required", "/remove", "/restore"):
        r = as_admin.post(f"/visit-types/{routine.id}/steps/{foreign.id}{action}",
                          data={**new_step_form(), "direction": "up", "required": "1"})
        assert r.status_code == 404, action
    assert [s.title_en for s in fresh_type(order).steps][0] == foreign.title_en


# --- the list and a type --------------------------------------------------------------------

def test_the_list_shows_each_type_with_its_steps_time_and_state(as_admin, org):
    routine = vtype()
    promo = vtype("promotion")
    promo.active = False
    db.session.commit()
    html = text(as_admin.get("/visit-types"))
    assert html.count('class="list-item"') == 8
    row = html[html.index('data-type="routine"'):html.index('data-type="display_audit"')]
    assert "Routine visit" in row and "例行拜访" in row and "5 steps" in row and "at least 10 min" in row
    assert "Active" in row
    promo_row = html[html.index('data-type="promotion"'):]
    assert "Inactive" in promo_row.split("</a>")[0]
    assert f'href="/visit-types/{routine.id}"' in html
    assert 'action="/visit-types#new-type"' in html  # the new-type form, answered where it is


def test_the_type_page_shows_steps_in_order_with_phase_kind_and_required(as_admin):
    routine = vtype()
    html = text(as_admin.get(f"/visit-types/{routine.id}"))
    assert shown_steps(html) == ["Store check", "Stock count", "Storefront and shelf photos", "Order",
                                 "Visit summary"]
    first = html[html.index(f'id="step-{routine.steps[0].id}"'):html.index(f'id="step-{routine.steps[1].id}"')]
    assert ">Do<" in first and 'data-kind="checklist"' in first and "data-required" in first
    assert "主推产品在架 · 价签清晰" in first  # the checklist items
    last = html[html.index(f'id="step-{routine.steps[-1].id}"'):]
    assert ">Check<" in last and "optional" in last
    # Thumb-sized controls that post: move up/down, require, and an edit link.
    assert html.count(f'action="/visit-types/{routine.id}/steps/{routine.steps[1].id}/move"') == 2
    assert f'href="/visit-types/{routine.id}?edit={routine.steps[1].id}#step-{routine.steps[1].id}"' in html
    assert 'hx-target="#steps-area"' in html
    assert f'href="/audit?type=visit_types&amp;id={routine.id}"' in html  # its history


def test_the_add_editor_shows_the_fields_of_the_chosen_kind(as_admin):
    routine = vtype()
    base = f"/visit-types/{routine.id}"
    picker = text(as_admin.get(base))
    assert 'data-add-kind="checklist"' in picker and 'data-add-kind="scorecard"' not in picker
    number = text(as_admin.get(f"{base}?add=number"))
    assert 'name="kind" value="number"' in number and 'name="min"' in number and 'name="unit"' in number
    assert 'name="items"' not in number
    photo = text(as_admin.get(f"{base}?add=photo"))
    assert 'name="min_photos"' in photo and 'name="allow_album"' in photo
    stock = text(as_admin.get(f"{base}?add=stock_count"))
    assert "catalogue's active products" in stock
    assert 'name="kind"' not in text(as_admin.get(f"{base}?add=video"))  # an unknown kind opens nothing
    covisit = vtype("co_visit")
    assert 'data-add-kind="scorecard"' in text(as_admin.get(f"/visit-types/{covisit.id}"))


def test_the_edit_editor_is_filled_from_the_step(as_admin):
    routine = vtype()
    photo = step_named(routine, "Storefront and shelf photos")
    html = text(as_admin.get(f"/visit-types/{routine.id}?edit={photo.id}"))
    assert f'action="/visit-types/{routine.id}/steps/{photo.id}#step-{photo.id}"' in html
    assert 'value="门头及货架照片"' in html and 'name="min_photos" type="text" value="2"' in html
    assert f'action="/visit-types/{routine.id}/steps/{photo.id}/remove"' in html
    assert 'name="kind"' not in html  # the kind of a saved step is not offered for change


# --- creating and editing a type -------------------------------------------------------------

def test_create_a_type(as_admin, org):
    vtype()
    r = as_admin.post("/visit-types", data={"name": "冰柜巡检", "name_en": "Fridge round", "code": "Fridge",
                                            "min_dwell": "8", "goals": "冰柜通电\n冰柜无杂物"})
    made = db.session.execute(select(VisitType).where(VisitType.code == "fridge")).scalar_one()
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/visit-types/{made.id}")
    assert (made.name, made.name_en, made.min_dwell_minutes, made.goals, made.active) == (
        "冰柜巡检", "Fridge round", 8, ["冰柜通电", "冰柜无杂物"], True)
    page = text(as_admin.get(r.headers["Location"]))
    assert "Visit type 冰柜巡检 added. Now add its steps." in page and "No steps yet." in page
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "visit_type.create")).scalar_one()
    assert (event.actor_id, event.object_id) == (org.admin.id, made.id)
    assert "Fridge round" in text(as_admin.get("/visit-types"))
    history = text(as_admin.get(f"/audit?type=visit_types&id={made.id}"))  # the type page's History link
    assert 'data-action="visit_type.create"' in history


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "code": "fridge", "min_dwell": "5"}, "name", "This cannot be empty."),
    ({"name": "冰柜", "code": "fridge", "min_dwell": "-5"}, "min_dwell", "Enter a whole number from 0 to 240."),
    ({"name": "冰柜", "code": "fridge", "min_dwell": "10000"}, "min_dwell", "Enter a whole number from 0 to 240."),
    ({"name": "冰柜", "code": "fridge round", "min_dwell": "5"}, "code", "Use lower-case letters"),
    ({"name": "冰柜", "code": "routine", "min_dwell": "5"}, "code", "The code routine is taken."),
    ({"name": "冰柜", "code": "", "min_dwell": "5"}, "code", "This cannot be empty."),
])
def test_bad_type_input_is_refused_in_place(as_admin, data, field, message):
    vtype()
    before = counts()
    r = as_admin.post("/visit-types", data=data)
    assert r.status_code == 422
    html = text(r)
    assert message in html
    # The message sits in the field's own block, below its input.
    block = html[html.index(f'name="{field}"'):]
    assert block.index(message) < block.index('class="field')
    assert counts() == before


def test_edit_a_type_name_time_and_goals(as_admin):
    routine = vtype()
    r = as_admin.post(f"/visit-types/{routine.id}", data={"name": "日常拜访", "name_en": "Daily visit",
                                                          "min_dwell": "12", "goals": "看陈列", "code": "hacked"})
    assert r.status_code == 302
    routine = fresh_type(routine)
    assert (routine.name, routine.name_en, routine.min_dwell_minutes, routine.goals, routine.code) == (
        "日常拜访", "Daily visit", 12, ["看陈列"], "routine")
    assert "日常拜访 saved." in text(as_admin.get(r.headers["Location"]))
    assert audit_actions() == ["visit_type.update"]


def test_an_absurd_minimum_time_is_refused_and_nothing_changes(as_admin):
    routine = vtype()
    before = counts()
    r = as_admin.post(f"/visit-types/{routine.id}", data={"name": "日常拜访", "min_dwell": "10000"})
    assert r.status_code == 422
    html = text(r)
    assert "Enter a whole number from 0 to 240." in html
    assert re.search(r"<details[^>]*type-edit[^>]*open", html)  # the form opens where the message is
    assert (fresh_type(routine).name, fresh_type(routine).min_dwell_minutes) == ("例行拜访", 10)
    assert counts() == before


def test_deactivate_hides_the_type_from_new_visits_and_reactivate_brings_it_back(as_admin, client, org):
    routine = vtype()
    store = make_store(rep=org.rep)
    r = as_admin.post(f"/visit-types/{routine.id}/deactivate")
    assert r.status_code == 302
    assert "is deactivated" in text(as_admin.get(r.headers["Location"]))
    assert fresh_type(routine).active is False
    client.login_as(org.rep)
    assert not re.search(f'<option[^>]*value="{routine.id}"', text(client.get(f"/stores/{store.id}/checkin")))
    client.login_as(org.admin)
    assert client.post(f"/visit-types/{routine.id}/activate").status_code == 302
    assert fresh_type(routine).active is True
    client.login_as(org.rep)
    assert re.search(f'<option[^>]*value="{routine.id}"', text(client.get(f"/stores/{store.id}/checkin")))
    assert audit_actions() == ["visit_type.deactivate", "visit_type.activate"]


# --- steps: add and edit --------------------------------------------------------------------------

def test_add_a_checklist_step_at_the_end(as_admin):
    routine = vtype()
    r = as_admin.post(f"/visit-types/{routine.id}/steps", data=new_step_form())
    assert r.status_code == 302 and "#step-" in r.headers["Location"]
    added = step_named(routine, "Fridge check")
    assert (added.position, added.kind, added.phase, added.required, added.config) == (
        5, "checklist", "do", True, {"items": ["冰柜通电", "冰柜整洁"]})
    assert shown_steps(text(as_admin.get(f"/visit-types/{routine.id}")))[-1] == "Fridge check"
    assert audit_actions() == ["visit_type.step_add"]


def test_add_with_htmx_answers_the_steps_area_only(as_admin):
    routine = vtype()
    r = as_admin.post(f"/visit-types/{routine.id}/steps",
                      data=new_step_form("number", title_en="Facings", min="0", max="50", unit="个", items=None),
                      headers=HX)
    assert r.status_code == 200
    html = text(r)
    assert html.lstrip().startswith('<div id="steps-area">') and "<html" not in html
    assert "Step added: Facings" in html and shown_steps(html)[-1] == "Facings"
    assert step_named(routine, "Facings").config == {"min": 0, "max": 50, "unit": "个"}


@pytest.mark.parametrize("data, field, message", [
    (new_step_form(title=""), "title", "This cannot be empty."),
    (new_step_form(items=" \n "), "items", "A checklist needs at least one item"),
    (new_step_form("number", min="10", max="5", items=None), "max", "The highest value is below the lowest (10)."),
    (new_step_form("choice", choices="Yes", items=None), "choices", "Enter at least two options"),
    (new_step_form("photo", min_photos="0", items=None), "min_photos", "Enter a whole number from 1 to 20."),
    (new_step_form(phase="later"), "phase", "Pick Plan, Do, Check or Act."),
])
def test_bad_step_input_is_refused_in_place(as_admin, data, field, message):
    routine = vtype()
    before = counts()
    for headers in ({}, HX):
        r = as_admin.post(f"/visit-types/{routine.id}/steps", data=data, headers=headers)
        assert r.status_code == 422
        html = text(r)
        assert message in html
        assert 'id="step-editor-new"' in html  # the editor stays open with what was typed
        assert f'name="{field}"' in html
    assert counts() == before


def test_an_unknown_kind_is_refused(as_admin):
    routine = vtype()
    before = counts()
    for kind in ("video", "scorecard"):  # the scorecard belongs to the co-visit type only
        r = as_admin.post(f"/visit-types/{routine.id}/steps", data=new_step_form(kind))
        assert r.status_code == 422
        assert "Pick a kind of step from the list." in text(r)
    assert counts() == before


def test_edit_a_step_keeps_its_kind(as_admin):
    routine = vtype()
    check = step_named(routine, "Store check")
    r = as_admin.post(f"/visit-types/{routine.id}/steps/{check.id}",
                      data={"kind": "text", "title": "门店检查", "title_en": "Shop check", "phase": "check",
                            "items": "价签清晰\n货架整洁"})
    assert r.status_code == 302
    check = db.session.get(VisitStep, check.id)
    assert (check.kind, check.title_en, check.phase, check.required, check.config) == (
        "checklist", "Shop check", "check", False, {"items": ["价签清晰", "货架整洁"]})
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "visit_type.step_update")).scalar_one()
    assert event.details["required"] == [True, False] and event.details["phase"] == ["do", "check"]


def test_editing_a_step_with_bad_input_changes_nothing(as_admin):
    routine = vtype()
    check = step_named(routine, "Store check")
    before = counts()
    r = as_admin.post(f"/visit-types/{routine.id}/steps/{check.id}",
                      data={"title": "门店检查", "phase": "do", "items": ""}, headers=HX)
    assert r.status_code == 422
    html = text(r)
    assert "A checklist needs at least one item" in html and f'id="step-editor-{check.id}"' in html
    assert step_named(routine, "Store check").config["items"][0] == "主推产品在架"
    assert counts() == before


# --- steps: order, required, remove -------------------------------------------------------------

def test_move_a_step_up_and_down(as_admin):
    routine = vtype()
    order = step_named(routine, "Order")
    base = f"/visit-types/{routine.id}/steps/{order.id}/move"
    r = as_admin.post(base, data={"direction": "up"}, headers=HX)
    assert r.status_code == 200
    assert shown_steps(text(r)) == ["Store check", "Stock count", "Order", "Storefront and shelf photos",
                                    "Visit summary"]
    r = as_admin.post(base, data={"direction": "down"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"#step-{order.id}")
    assert step_titles(routine)[3] == "Order"
    assert sorted(s.position for s in fresh_type(routine).steps) == [0, 1, 2, 3, 4]
    assert audit_actions() == ["visit_type.step_move", "visit_type.step_move"]


def test_moving_past_either_end_changes_nothing(as_admin):
    routine = vtype()
    first, last = fresh_type(routine).steps[0], fresh_type(routine).steps[-1]
    assert as_admin.post(f"/visit-types/{routine.id}/steps/{first.id}/move",
                         data={"direction": "up"}).status_code == 302
    assert as_admin.post(f"/visit-types/{routine.id}/steps/{last.id}/move",
                         data={"direction": "down"}).status_code == 302
    assert step_titles(routine)[0] == "Store check" and audit_actions() == []
    r = as_admin.post(f"/visit-types/{routine.id}/steps/{first.id}/move", data={"direction": "sideways"})
    assert r.status_code == 422 and "Move a step up or down." in text(r)


def test_make_a_step_required_and_optional(as_admin):
    routine = vtype()
    summary = step_named(routine, "Visit summary")
    url = f"/visit-types/{routine.id}/steps/{summary.id}/required"
    r = as_admin.post(url, data={"required": "1"}, headers=HX)
    assert r.status_code == 200
    card = text(r)[text(r).index(f'id="step-{summary.id}"'):]
    assert 'aria-pressed="true"' in card.split("</li>")[0]
    assert step_named(routine, "Visit summary").required is True
    as_admin.post(url, data={"required": "1"})  # a double tap: still required, recorded once
    assert as_admin.post(url, data={"required": "0"}).status_code == 302
    assert step_named(routine, "Visit summary").required is False
    assert audit_actions() == ["visit_type.step_update", "visit_type.step_update"]
    r = as_admin.post(url, data={"required": "maybe"})
    assert r.status_code == 422 and "Say whether the step is required." in text(r)


def test_remove_retires_a_step_and_restore_brings_it_back(as_admin):
    routine = vtype()
    photos = step_named(routine, "Storefront and shelf photos")
    r = as_admin.post(f"/visit-types/{routine.id}/steps/{photos.id}/remove", headers=HX)
    assert r.status_code == 200
    html = text(r)
    assert "Removed: Storefront and shelf photos." in html
    assert "Storefront and shelf photos" not in shown_steps(html)
    assert 'data-removed-step="%d"' % photos.id in html and "1 removed step" in html
    assert db.session.get(VisitStep, photos.id).removed is True  # retired, not deleted
    assert sorted(s.position for s in fresh_type(routine).steps) == [0, 1, 2, 3]
    # A removed step cannot be moved or required until it is restored.
    r = as_admin.post(f"/visit-types/{routine.id}/steps/{photos.id}/move", data={"direction": "up"})
    assert r.status_code == 409 and "This step was removed." in text(r)
    r = as_admin.post(f"/visit-types/{routine.id}/steps/{photos.id}/restore")
    assert r.status_code == 302
    assert step_titles(routine)[-1] == "Storefront and shelf photos"
    assert audit_actions() == ["visit_type.step_remove", "visit_type.step_restore"]


def test_a_removed_step_is_not_in_a_new_visit_but_a_past_visit_keeps_its_result(client, org):
    routine = vtype()
    summary = step_named(routine, "Visit summary")
    store = make_store(rep=org.rep, lat=SHOP.lat, lng=SHOP.lng)
    past = planned(org.rep, routine, store)
    past.status = VisitStatus.COMPLETED
    db.session.add(StepResult(visit=past, step=summary, status="done", value={"text": "Shelf moved left"}))
    db.session.commit()

    client.login_as(org.admin)
    assert client.post(f"/visit-types/{routine.id}/steps/{summary.id}/remove", headers=HX).status_code == 200

    client.login_as(org.rep)
    new = planned(org.rep, routine, store)
    page = text(client.get(f"/visits/{new.id}"))
    assert "Store check" in page and "Visit summary" not in page
    page = text(client.get(f"/visits/{past.id}"))
    assert "Visit summary" in page and "removed from the type" in page
    assert "Shelf moved left" in page  # what was recorded, not just "saved"
    history = text(client.get(f"/stores/{store.id}/visits"))
    assert "Visit summary: Shelf moved left" in history


def test_a_visit_under_way_still_checks_out_after_its_required_step_is_removed(client, org):
    routine = vtype()
    visit = started(org.rep, routine)
    check = step_named(routine, "Store check")  # required, and not done yet
    client.login_as(org.admin)
    assert client.post(f"/visit-types/{routine.id}/steps/{check.id}/remove", headers=HX).status_code == 200
    client.login_as(org.rep)
    page = text(client.get(f"/visits/{visit.id}"))
    assert "Store check" not in page
    r = client.post(f"/visits/{visit.id}/checkout", data={"lat": f"{SHOP.lat:.6f}", "lng": f"{SHOP.lng:.6f}",
                                                         "accuracy": "10",
                                                         "position_at": now().isoformat()})
    assert r.status_code == 303  # checked out: back to Today
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == VisitStatus.COMPLETED


def test_saving_a_step_removed_while_the_visit_was_open_says_so_and_saves_nothing(client, org):
    routine = vtype()
    visit = started(org.rep, routine)
    summary = step_named(routine, "Visit summary")
    client.login_as(org.admin)
    assert client.post(f"/visit-types/{routine.id}/steps/{summary.id}/remove", headers=HX).status_code == 200
    client.login_as(org.rep)
    r = client.post(f"/visits/{visit.id}/steps/{summary.id}", data={"text": "Shelf moved left"}, headers=HX)
    assert r.status_code == 409 and "taken out of the visit type meanwhile" in text(r)
    assert db.session.execute(select(StepResult).where(StepResult.visit_id == visit.id)).first() is None
    other = vtype("display_audit")
    foreign = other.steps[0]
    assert client.post(f"/visits/{visit.id}/steps/{foreign.id}", data={"text": "x"}, headers=HX).status_code == 404


def test_a_step_added_now_appears_on_the_next_new_visit(client, org):
    routine = vtype()
    client.login_as(org.admin)
    assert client.post(f"/visit-types/{routine.id}/steps", data=new_step_form(), headers=HX).status_code == 200
    client.login_as(org.rep)
    visit = planned(org.rep, routine)
    assert "Fridge check" in text(client.get(f"/visits/{visit.id}"))
