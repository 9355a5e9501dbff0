"""The visit page on the phone: check-in, steps, Check, Act, check-out, cancel and co-visit, by request."""
import re
import threading
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.core import now
from field.extensions import db
from field.geo import Point
from field.sales.models import Sale
from field.visits import operations as ops
from field.visits.models import CoVisit, FollowUp, StepResult, Visit, VisitStatus
from field.visits.planning import local_today
from tests.conftest import login
from tests.factories import make_product, make_store, vtype

HX = {"HX-Request": "true", "HX-Request-Type": "partial"}
SHOP = Point(31.2304, 121.4737)


# --- helpers ------------------------------------------------------------------------------------

def north(metres: float, of: Point = SHOP) -> Point:
    return Point(of.lat + metres / 110_900.0, of.lng)  # ≈ metres per degree of latitude at 31° N


def step_of(visit: Visit, kind: str):
    return next(s for s in visit.visit_type.steps if s.kind == kind)


def planned(rep, store=None, code="routine", on=None) -> Visit:
    store = store or make_store(rep=rep, lat=SHOP.lat, lng=SHOP.lng)
    visit = Visit(rep=rep, store=store, visit_type=vtype(code), planned_for=on or date.today(),
                  status=VisitStatus.PLANNED, flags=[])
    db.session.add(visit)
    db.session.commit()
    return visit


def started(rep, store=None, code="routine") -> Visit:
    """A visit checked in at the store's door (through the operation, as the page would)."""
    visit = planned(rep, store, code)
    visit = ops.check_in(rep, visit.store, visit.visit_type, position=visit.store.point, accuracy_m=10,
                         position_at=now(), reason="", client_key=None, visit=visit)
    db.session.commit()  # operations stage; the test plays the request that commits
    return visit


def position(point: Point | None = SHOP, accuracy=12, at=None, **extra) -> dict:
    data = {"lat": "", "lng": "", "accuracy": "", "position_at": ""}
    if point is not None:
        data.update(lat=f"{point.lat:.6f}", lng=f"{point.lng:.6f}", accuracy=str(accuracy),
                    position_at=(at or now()).isoformat().replace("+00:00", "Z"))
    data.update(extra)
    return data


def checklist_all_pass(step) -> dict:
    return {f"item-{i}": "pass" for i in range(len(step.config["items"]))}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fresh(visit: Visit) -> Visit:
    db.session.expire_all()
    return db.session.get(Visit, visit.id)


# --- the page -----------------------------------------------------------------------------------

def test_planned_visit_shows_plan_steps_and_the_checkin_form(as_rep, rep):
    visit = planned(rep)
    db.session.add(FollowUp(store_id=visit.store_id, text="Ask for the end-cap", owner_id=rep.id,
                            created_by_id=rep.id, status="open"))
    db.session.commit()
    r = as_rep.get(f"/visits/{visit.id}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert visit.store.name in html and "Routine visit" in html
    assert "Ask for the end-cap" in html and "检查主推产品陈列" in html  # follow-up and standing goal
    assert 'action="/visits/%d/checkin"' % visit.id in html
    assert 'data-locate="submit"' in html and 'name="client_key"' in html
    assert "Check in to fill in the steps." in html
    # The visit's forms come with the page, hidden until check-in (an offline check-in shows them).
    assert 'data-visit-state="planned"' in html
    assert re.search(r'<div class="after-checkin">\s*<form method="post" action="/visits/%d/steps/' % visit.id, html)
    assert 'class="card after-checkin" id="finish"' in html and 'class="checkout-bar after-checkin"' in html


def test_visit_out_of_scope_is_404(client, org):
    theirs = planned(org.teammate)
    west = planned(org.west_rep)
    login(client, org.rep)
    assert client.get(f"/visits/{theirs.id}").status_code == 404
    assert client.post(f"/visits/{theirs.id}/checkin", data=position()).status_code == 404
    login(client, org.supervisor)
    assert client.get(f"/visits/{theirs.id}").status_code == 200
    assert client.get(f"/visits/{west.id}").status_code == 404
    assert client.get("/visits/999999").status_code == 404


def test_signed_out_is_sent_to_login(client, org):
    visit = planned(org.rep)
    r = client.get(f"/visits/{visit.id}")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


# --- check-in -------------------------------------------------------------------------------------

def test_checkin_inside_the_fence_starts_the_visit(as_rep, rep):
    visit = planned(rep)
    r = as_rep.post(f"/visits/{visit.id}/checkin", data=position(north(50)))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/visits/{visit.id}")
    visit = fresh(visit)
    assert visit.status == VisitStatus.IN_PROGRESS and visit.flags == []
    assert 40 < visit.checkin_distance_m < 60
    html = as_rep.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert 'hx-post="/visits/%d/steps/' % visit.id in html and "Check out" in html


def test_checkin_800m_away_needs_a_reason_then_is_flagged(as_rep, rep, client, supervisor):
    visit = planned(rep)
    far = position(north(800))
    r = as_rep.post(f"/visits/{visit.id}/checkin", data=far)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    # The message stands beside the reason box, which is marked and focused.
    reason_field = re.search(r'<div class="field has-error">\s*<label[^>]*for="reason".*?</div>', html, re.S).group(0)
    assert re.search(r"You are 8\d\d m from the store, outside its 200 m fence", reason_field)
    assert re.search(r'<textarea[^>]*autofocus', reason_field) and 'aria-invalid="true"' in reason_field
    assert fresh(visit).status == VisitStatus.PLANNED and count(AuditEvent) == 0

    r = as_rep.post(f"/visits/{visit.id}/checkin", data={**far, "reason": "Store moved across the road"})
    assert r.status_code == 302
    visit = fresh(visit)
    assert visit.status == VisitStatus.IN_PROGRESS
    flag = next(f for f in visit.flags if f["code"] == "outside_geofence")
    assert 790 < flag["distance_m"] < 810 and flag["reason"] == "Store moved across the road"
    assert flag["fence_m"] == 200  # the fence as it was, should the store's change later

    login(client, supervisor)
    html = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    # The same words as every other page with flags (field/visits/history.py).
    assert "Outside the fence" in html
    assert re.search(r"Checked in 8\d\d m from the store \(fence 200 m\): “Store moved across the road”", html)


def test_checkin_without_position_needs_a_reason(as_rep, rep):
    visit = planned(rep)
    r = as_rep.post(f"/visits/{visit.id}/checkin", data={**position(None), "no_position": "1"})
    assert r.status_code == 422 and b"No position from the phone" in r.data
    r = as_rep.post(f"/visits/{visit.id}/checkin",
                    data={**position(north(10)), "no_position": "1", "reason": "GPS is off indoors"})
    assert r.status_code == 302
    visit = fresh(visit)
    assert visit.flag_codes == ["no_position"] and visit.checkin_lat is None


@pytest.mark.parametrize("bad", [
    {"lat": "NaN"}, {"lat": "nan", "lng": "nan"}, {"lat": "91"}, {"lng": "-180.5"}, {"lat": "inf"},
    {"accuracy": "0"}, {"accuracy": "-5"}, {"accuracy": "NaN"}, {"lng": ""}, {"lat": "31.2", "lng": "abc"},
    {"position_at": "yesterday"}, {"position_at": "2020-01-01T00:00:00Z"},
    {"position_at": (now() + timedelta(hours=2)).isoformat()},
])
def test_absurd_positions_are_refused_and_nothing_is_written(as_rep, rep, bad):
    visit = planned(rep)
    r = as_rep.post(f"/visits/{visit.id}/checkin", data={**position(), **bad})
    assert r.status_code == 422
    assert b'class="error' in r.data
    assert fresh(visit).status == VisitStatus.PLANNED and fresh(visit).checkin_at is None
    assert count(AuditEvent) == 0


@pytest.mark.parametrize("bad", [
    {"lat": "\uff13\uff11.2304"},                      # full-width digits: float() reads them, a phone never sends them
    {"lng": "121.\uff14\uff17\uff13\uff17"},
    {"accuracy": "\uff11\uff12"},
    {"lat": "\u0663\u0661.2304"},                      # Arabic-Indic digits
])
def test_positions_with_digits_other_than_0_to_9_are_refused_and_say_so(as_rep, rep, bad):
    visit = planned(rep)
    r = as_rep.post(f"/visits/{visit.id}/checkin", data={**position(), **bad})
    assert r.status_code == 422
    assert "must use the digits 0-9" in r.get_data(as_text=True)
    assert fresh(visit).status == VisitStatus.PLANNED and count(AuditEvent) == 0


def test_an_accuracy_finer_than_a_phone_can_fix_is_flagged_as_a_likely_mocked_location(client, org):
    from field.visits.history import flag_label, flag_text
    visit = planned(org.rep)
    login(client, org.rep)
    r = client.post(f"/visits/{visit.id}/checkin", data=position(accuracy="0.0001"))
    assert r.status_code == 302  # a flag ranks it for the supervisor; it never blocks the rep
    visit = fresh(visit)
    assert visit.status == VisitStatus.IN_PROGRESS and visit.flag_codes == ["implausible_accuracy"]
    flag = visit.flags[0]
    assert flag["accuracy_m"] == 0.0001 and flag["at"] == "check_in"
    assert flag_label(flag["code"]) == "Likely mocked location"
    assert flag_text(flag) == ("Accuracy of 0.0001 m claimed, finer than a phone can fix: "
                               "likely a mocked location")
    login(client, org.supervisor)
    assert "likely a mocked location" in client.get(f"/visits/{visit.id}").get_data(as_text=True)


def test_an_accuracy_of_one_metre_or_more_is_not_flagged(as_rep, rep):
    visit = planned(rep)
    assert as_rep.post(f"/visits/{visit.id}/checkin", data=position(accuracy="1")).status_code == 302
    assert fresh(visit).flag_codes == []


def test_double_checkin_with_one_client_key_makes_one_visit(as_rep, rep):
    store = make_store(rep=rep, lat=SHOP.lat, lng=SHOP.lng)
    vtype("routine")
    page = as_rep.get(f"/stores/{store.id}/checkin")
    assert page.status_code == 200
    key = re.search(r'name="client_key"[^>]*value="([0-9a-f-]{36})"', page.get_data(as_text=True)).group(1)
    routine = vtype("routine")
    data = {**position(north(20)), "client_key": key, "visit_type": str(routine.id)}
    first = as_rep.post(f"/stores/{store.id}/checkin", data=data)
    second = as_rep.post(f"/stores/{store.id}/checkin", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Visit, Visit.store_id == store.id) == 1


def test_double_checkin_of_a_planned_visit_is_one_visit(as_rep, rep):
    visit = planned(rep)
    data = {**position(), "client_key": "5b0f1c9e-2a77-4f0e-9d53-0b7c3f6a1e21"}
    assert as_rep.post(f"/visits/{visit.id}/checkin", data=data).status_code == 302
    assert as_rep.post(f"/visits/{visit.id}/checkin", data=data).status_code == 302
    assert count(Visit) == 1 and count(AuditEvent, AuditEvent.action == "visit.check_in") == 1


def test_a_double_tapped_checkin_sent_twice_answers_the_first_visit(as_rep, rep):
    """A double tap, sequentially: the second answer names the first visit (never 500)."""
    store = make_store(rep=rep, lat=SHOP.lat, lng=SHOP.lng)
    routine = vtype("routine")
    data = {**position(), "client_key": str(uuid.uuid4()), "client_id": "", "visit_type": str(routine.id)}
    answers = [as_rep.post(f"/stores/{store.id}/checkin", data=data) for _ in range(2)]
    assert [r.status_code for r in answers] == [302, 302]
    visit = db.session.execute(select(Visit).where(Visit.store_id == store.id)).scalar_one()
    assert {r.headers["Location"] for r in answers} == {f"/visits/{visit.id}"}
    assert count(AuditEvent, AuditEvent.action == "visit.check_in") == 1


@pytest.mark.parametrize("route", ["store", "planned"])
def test_a_double_tapped_checkin_at_the_same_moment_answers_the_first_visit(app, rep, monkeypatch, route):
    """Two taps of one check-in reach two workers at once: both find no earlier write, the database
    decides, and the loser answers with the winner's visit (never 500, never a second visit)."""
    store = make_store(rep=rep, lat=SHOP.lat, lng=SHOP.lng)
    routine = vtype("routine")
    visit = planned(rep, store) if route == "planned" else None
    db.session.commit()
    url = f"/visits/{visit.id}/checkin" if visit else f"/stores/{store.id}/checkin"
    data = {**position(), "client_key": str(uuid.uuid4()), "visit_type": str(routine.id)}
    clients = [login(app.test_client(), rep) for _ in range(2)]
    barrier = threading.Barrier(2, timeout=20)
    real, seen = ops.earlier_write, threading.local()

    def looked_up_together(*args):
        # Both taps look for an earlier write before either has written: the race the unique key settles.
        found = real(*args)
        if not getattr(seen, "once", False):
            seen.once = True
            barrier.wait()
        return found
    monkeypatch.setattr(ops, "earlier_write", looked_up_together)
    answers, failures = [None, None], []

    def tap(i):
        try:
            with app.app_context():  # a worker of its own: its own session and connection
                answers[i] = clients[i].post(url, data=data)
        except Exception as exc:  # noqa: BLE001
            failures.append(exc)
    threads = [threading.Thread(target=tap, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not failures, failures
    assert [r.status_code for r in answers] == [302, 302], [r.get_data(as_text=True)[:300] for r in answers]
    db.session.expire_all()
    made = db.session.execute(select(Visit).where(Visit.store_id == store.id)).scalars().all()
    assert len(made) == 1 and made[0].status == VisitStatus.IN_PROGRESS
    assert {r.headers["Location"] for r in answers} == {f"/visits/{made[0].id}"}
    assert count(AuditEvent, AuditEvent.action == "visit.check_in") == 1


def test_second_visit_while_one_is_in_progress_is_409_with_a_link(as_rep, rep):
    busy = started(rep)
    other = planned(rep)
    r = as_rep.post(f"/visits/{other.id}/checkin", data=position())
    assert r.status_code == 409
    assert f'href="/visits/{busy.id}"' in r.get_data(as_text=True)
    assert fresh(other).status == VisitStatus.PLANNED
    store = make_store(rep=rep, lat=SHOP.lat, lng=SHOP.lng)
    r = as_rep.post(f"/stores/{store.id}/checkin", data={**position(), "visit_type": str(vtype("order").id)})
    assert r.status_code == 409 and f'href="/visits/{busy.id}"' in r.get_data(as_text=True)


def test_unplanned_checkin_page_scope_and_role(client, org):
    store = make_store(rep=org.rep, lat=SHOP.lat, lng=SHOP.lng)
    west = make_store(rep=org.west_rep)
    vtype("routine")
    login(client, org.rep)
    html = client.get(f"/stores/{store.id}/checkin").get_data(as_text=True)
    assert "Routine visit" in html and "Supervisor co-visit" not in html
    assert client.get(f"/stores/{west.id}/checkin").status_code == 404
    login(client, org.supervisor)
    assert client.get(f"/stores/{store.id}/checkin").status_code == 403
    assert client.post(f"/stores/{store.id}/checkin", data=position()).status_code == 403


def test_checking_in_from_the_store_page_starts_the_visit_planned_there_today(as_rep, rep):
    today = local_today(rep)  # the rep's day, in the rep's time zone
    visit = planned(rep, on=today)
    other_type = planned(rep, visit.store, code="order", on=today)
    data = {**position(north(20)), "visit_type": str(visit.visit_type_id)}
    r = as_rep.post(f"/stores/{visit.store_id}/checkin", data=data)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/visits/{visit.id}")
    assert fresh(visit).status == VisitStatus.IN_PROGRESS and count(Visit) == 2
    assert fresh(other_type).status == VisitStatus.PLANNED


def test_unplanned_checkin_with_unknown_type_is_422(as_rep, rep):
    store = make_store(rep=rep, lat=SHOP.lat, lng=SHOP.lng)
    vtype("routine")
    r = as_rep.post(f"/stores/{store.id}/checkin", data={**position(), "visit_type": "99999"})
    assert r.status_code == 422 and count(Visit) == 0


def test_supervisor_cannot_check_in_for_the_rep(as_supervisor, rep):
    visit = planned(rep)
    assert as_supervisor.post(f"/visits/{visit.id}/checkin", data=position()).status_code == 403
    assert fresh(visit).status == VisitStatus.PLANNED


# --- steps ---------------------------------------------------------------------------------------

def test_htmx_step_save_returns_only_that_steps_fragment(as_rep, rep):
    visit = started(rep)
    step = step_of(visit, "checklist")
    r = as_rep.post(f"/visits/{visit.id}/steps/{step.id}", data=checklist_all_pass(step), headers=HX)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<html" not in html and f'id="step-{step.id}"' in html
    others = [s.id for s in visit.visit_type.steps if s.id != step.id]
    assert not any(f'id="step-{sid}"' in html for sid in others)
    assert "4 of 4 passed" in html and "✓" in html
    assert 'hx-swap-oob="true"' in html  # the Check list and the check-out bar follow along
    result = db.session.execute(select(StepResult).where(StepResult.visit_id == visit.id)).scalar_one()
    assert result.value["passed"] == 4


def test_invalid_step_answers_422_fragment_with_messages_and_writes_nothing(as_rep, rep):
    visit = started(rep)
    step = step_of(visit, "checklist")
    r = as_rep.post(f"/visits/{visit.id}/steps/{step.id}", data={"item-0": "pass", "item-1": "maybe"}, headers=HX)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "<html" not in html and "Mark “价签清晰” as pass or fail." in html
    assert 'value="pass" checked' in html  # what was picked stays picked
    assert count(StepResult) == 0


def test_plain_form_step_save_redirects_and_page_shows_the_value(as_rep, rep):
    visit = started(rep, code="display_audit")
    step = step_of(visit, "shelf_share")
    r = as_rep.post(f"/visits/{visit.id}/steps/{step.id}", data={"ours": "6", "total": "20"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"#step-{step.id}")
    html = as_rep.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "30.0 %" in html and "6 of 20 facings" in html
    r = as_rep.post(f"/visits/{visit.id}/steps/{step.id}", data={"ours": "21", "total": "20"})
    assert r.status_code == 422 and "<html" in r.get_data(as_text=True)
    assert b"Our facings cannot exceed all facings." in r.data


def test_order_lines_ignore_empty_rows_and_refuse_unknown_products(as_rep, rep):
    visit = started(rep, code="order")
    step = step_of(visit, "order_lines")
    cola = make_product(sku="COLA", name="Cola 330ml", unit_price=350)
    url = f"/visits/{visit.id}/steps/{step.id}"
    page = as_rep.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert page.count('name="quantity"') >= 5 and "Cola 330ml" in page
    r = as_rep.post(url, data={"sku": ["NOPE", ""], "quantity": ["2", ""]}, headers=HX)
    assert r.status_code == 422 and b"Unknown product: NOPE." in r.data and count(StepResult) == 0
    r = as_rep.post(url, data={"sku": ["", "COLA", "", ""], "quantity": ["", "3", "7", ""]}, headers=HX)
    assert r.status_code == 200
    result = db.session.execute(select(StepResult)).scalar_one()
    assert result.value["lines"] == [{"sku": "COLA", "name": cola.name, "quantity": 3, "unit_price": 350,
                                      "amount": 1050}]
    assert "¥10.50" in r.get_data(as_text=True)


def test_stock_count_lists_products_and_counts_only_what_was_typed(as_rep, rep):
    visit = started(rep, code="stock_count")
    step = step_of(visit, "stock_count")
    make_product(sku="A1", name="Tea 500ml", category="Tea")
    make_product(sku="B1", name="Water 1L", category="Water")
    html = as_rep.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert 'name="shelf-A1"' in html and 'name="back-B1"' in html and 'inputmode="numeric"' in html
    url = f"/visits/{visit.id}/steps/{step.id}"
    r = as_rep.post(url, data={"sku": ["A1", "B1"], "shelf-A1": "4", "back-A1": "", "shelf-B1": "", "back-B1": ""},
                    headers=HX)
    assert r.status_code == 422 and b"Enter a number." in r.data
    r = as_rep.post(url, data={"sku": ["A1", "B1"], "shelf-A1": "4", "back-A1": "10", "shelf-B1": "", "back-B1": ""},
                    headers=HX)
    assert r.status_code == 200
    assert [line["sku"] for line in db.session.execute(select(StepResult)).scalar_one().value["lines"]] == ["A1"]
    r = as_rep.post(url, data={"sku": ["ZZ"], "shelf-ZZ": "1", "back-ZZ": "1"}, headers=HX)
    assert r.status_code == 422 and b"Unknown product: ZZ." in r.data


def test_skip_needs_a_reason(as_rep, rep):
    visit = started(rep)
    photo = step_of(visit, "photo")
    html = as_rep.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "Needs at least 2 photos." in html
    r = as_rep.post(f"/visits/{visit.id}/steps/{photo.id}/skip", data={"skip_reason": " "}, headers=HX)
    assert r.status_code == 422 and b"Say why the step is skipped." in r.data and count(StepResult) == 0
    r = as_rep.post(f"/visits/{visit.id}/steps/{photo.id}/skip", data={"skip_reason": "Camera broken"}, headers=HX)
    assert r.status_code == 200 and "Skipped: Camera broken" in r.get_data(as_text=True)


def test_steps_of_a_visit_not_in_progress_or_not_yours_are_refused(client, org):
    visit = planned(org.rep)
    step = step_of(visit, "checklist")
    login(client, org.rep)
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data=checklist_all_pass(step), headers=HX)
    assert r.status_code == 409 and b"check in first" in r.data
    visit = started(org.rep, visit.store)
    login(client, org.supervisor)
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data=checklist_all_pass(step), headers=HX)
    assert r.status_code == 403
    r = client.post(f"/visits/{visit.id}/steps/{step.id}/skip", data={"skip_reason": "x"})
    assert r.status_code == 403
    assert count(StepResult) == 0
    login(client, org.rep)
    other_type_step = step_of(planned(org.rep, code="collection"), "number")
    assert client.post(f"/visits/{visit.id}/steps/{other_type_step.id}", data={"value": "1"}).status_code == 404


# --- Check, Act, check-out, cancel ----------------------------------------------------------

def test_objective_and_follow_up_fragments(as_rep, rep, org):
    visit = started(rep)
    objective = visit.objectives[0]
    url = f"/visits/{visit.id}/objectives/{objective.id}"
    r = as_rep.post(url, data={"note": "?"}, headers=HX)
    assert r.status_code == 422 and b"Mark it met or not met." in r.data
    r = as_rep.post(url, data={"met": "yes", "note": "Done at 10"}, headers=HX)
    assert r.status_code == 200 and f'id="objective-{objective.id}"' in r.get_data(as_text=True)
    assert db.session.get(type(objective), objective.id).met is True

    r = as_rep.post(f"/visits/{visit.id}/followups", data={"text": "", "owner": str(rep.id)}, headers=HX)
    assert r.status_code == 422 and b"Say what needs doing." in r.data
    r = as_rep.post(f"/visits/{visit.id}/followups",
                    data={"text": "Bring POSM", "owner": str(org.west_rep.id)}, headers=HX)
    assert r.status_code == 422 and count(FollowUp) == 0
    r = as_rep.post(f"/visits/{visit.id}/followups",
                    data={"text": "Bring POSM", "owner": str(rep.id), "due_on": "2000-01-01"}, headers=HX)
    assert r.status_code == 422 and b"The due date is in the past." in r.data and count(FollowUp) == 0
    r = as_rep.post(f"/visits/{visit.id}/followups",
                    data={"text": "Bring POSM", "owner": str(org.supervisor.id)}, headers=HX)
    assert r.status_code == 200 and 'id="act"' in r.get_data(as_text=True)
    assert "Bring POSM" in r.get_data(as_text=True) and org.supervisor.name in r.get_data(as_text=True)
    assert as_rep.post(f"/visits/{visit.id}/objectives/999999", data={"met": "yes"}).status_code == 404


def test_checkout_without_checkin_is_409(as_rep, rep):
    visit = planned(rep)
    r = as_rep.post(f"/visits/{visit.id}/checkout", data=position())
    assert r.status_code == 409 and fresh(visit).status == VisitStatus.PLANNED


def test_checkout_with_required_steps_missing_lists_them(as_rep, rep):
    visit = started(rep)
    r = as_rep.post(f"/visits/{visit.id}/checkout", data=position())
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Finish or skip these steps first: Store check" in html
    assert "Required steps left: Store check" in html and "门店检查" not in html
    assert fresh(visit).status == VisitStatus.IN_PROGRESS
    r = as_rep.post(f"/visits/{visit.id}/checkout", data=position(SHOP, accuracy="-5"))
    assert r.status_code == 422 and b"impossible accuracy" in r.data


def test_a_chinese_speaking_rep_reads_step_and_type_names_in_chinese(client, org):
    org.rep.locale = "zh_CN"
    db.session.commit()
    visit = started(org.rep)
    login(client, org.rep)
    html = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "例行拜访" in html and "Routine visit" not in html
    checks = html.split('id="auto-checks"')[1].split("</div>")[0]
    assert "门店检查" in checks and "Store check" not in checks
    r = client.post(f"/visits/{visit.id}/checkout", data=position())
    assert r.status_code == 422 and "Store check" not in r.get_data(as_text=True)
    store = make_store(rep=org.rep, lat=SHOP.lat, lng=SHOP.lng)
    html = client.get(f"/stores/{store.id}/checkin").get_data(as_text=True)
    assert "订单拜访" in html and "Order taking" not in html  # the visit types to pick from


def test_unplanned_checkin_800m_away_says_why_beside_the_reason_box(as_rep, rep):
    store = make_store(rep=rep, lat=SHOP.lat, lng=SHOP.lng)
    routine = vtype("routine")
    data = {**position(north(800)), "visit_type": str(routine.id)}
    r = as_rep.post(f"/stores/{store.id}/checkin", data=data)
    assert r.status_code == 422 and count(Visit) == 0
    html = r.get_data(as_text=True)
    reason_field = re.search(r'<div class="field has-error">\s*<label[^>]*for="reason".*?</div>', html, re.S).group(0)
    assert "outside its 200 m fence. Say why to check in here." in reason_field
    assert 'name="lat" type="hidden" value=""' in html  # the refused position is never sent back
    r = as_rep.post(f"/stores/{store.id}/checkin", data={**data, "reason": "x" * 501})
    assert r.status_code == 422 and "longer than 500 characters" in r.get_data(as_text=True) and count(Visit) == 0
    r = as_rep.post(f"/stores/{store.id}/checkin", data={**data, "reason": "Loading dock round the back"})
    assert r.status_code == 302
    visit = db.session.execute(select(Visit)).scalar_one()
    assert visit.flag_codes == ["outside_geofence"] and visit.checkin_reason == "Loading dock round the back"


def test_cancel_needs_a_reason(as_rep, rep):
    visit = planned(rep)
    r = as_rep.post(f"/visits/{visit.id}/cancel", data={"reason": ""})
    assert r.status_code == 422 and fresh(visit).status == VisitStatus.PLANNED
    r = as_rep.post(f"/visits/{visit.id}/cancel", data={"reason": "Shop closed for holiday"})
    assert r.status_code == 302
    visit = fresh(visit)
    assert visit.status == VisitStatus.CANCELLED and visit.cancel_reason == "Shop closed for holiday"
    assert as_rep.post(f"/visits/{visit.id}/cancel", data={"reason": "again"}).status_code == 409


def test_happy_path_from_checkin_to_next_visits_plan(as_rep, rep, org):
    store = make_store(rep=rep, lat=SHOP.lat, lng=SHOP.lng)
    make_product(sku="COLA", name="Cola 330ml", unit_price=350)
    make_product(sku="TEA", name="Green tea", unit_price=400, category="Tea")
    visit = planned(rep, store)
    assert as_rep.post(f"/visits/{visit.id}/checkin", data=position(north(30))).status_code == 302
    visit = fresh(visit)
    checklist, order = step_of(visit, "checklist"), step_of(visit, "order_lines")
    assert as_rep.post(f"/visits/{visit.id}/steps/{checklist.id}",
                       data={**checklist_all_pass(checklist), "item-3": "fail", "note-3": "2 expired packs"},
                       headers=HX).status_code == 200
    assert as_rep.post(f"/visits/{visit.id}/steps/{order.id}",
                       data={"sku": ["COLA", "TEA", ""], "quantity": ["24", "12", ""]}).status_code == 302
    objective = visit.objectives[0]
    assert as_rep.post(f"/visits/{visit.id}/objectives/{objective.id}", data={"met": "yes"}).status_code == 302
    assert as_rep.post(f"/visits/{visit.id}/followups",
                       data={"text": "Replace the expired packs", "owner": str(rep.id),
                             "due_on": (date.today() + timedelta(days=3)).isoformat()}).status_code == 302
    page = as_rep.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "3 of 4 passed" in page and "Ready to check out" in page
    r = as_rep.post(f"/visits/{visit.id}/checkout", data={**position(north(20)), "reason": "All good"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/today")  # back to the day's route
    visit = fresh(visit)
    assert visit.status == VisitStatus.COMPLETED and visit.checkout_reason == "All good"
    assert "short_dwell" in visit.flag_codes  # minutes, not the type's 10
    sales = db.session.execute(select(Sale).where(Sale.visit_id == visit.id).order_by(Sale.amount)).scalars().all()
    assert [(s.product.sku, s.quantity, s.amount) for s in sales] == [("TEA", 12, 4800), ("COLA", 24, 8400)]
    assert "Checked out. The visit is complete." in as_rep.get("/today").get_data(as_text=True)
    page = as_rep.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "Short visit" in page
    assert 'action="/visits/%d/checkout"' % visit.id not in page

    following = planned(rep, store, code="order", on=date.today() + timedelta(days=7))
    html = as_rep.get(f"/visits/{following.id}").get_data(as_text=True)
    plan = html.split('id="plan"')[1].split('id="do"')[0]
    assert "Replace the expired packs" in plan


# --- co-visit -------------------------------------------------------------------------------

def _score_form(items, value=8, comment="Good rapport with the owner"):
    return {**{f"score-{i}": str(value) for i in range(len(items))}, "comment": comment}


def test_supervisor_scores_and_rep_answers(client, org):
    visit = started(org.rep)
    items = ops.scorecard(None)
    login(client, org.supervisor)
    assert client.get(f"/visits/{visit.id}").get_data(as_text=True).count("Score this visit") == 1
    page = client.get(f"/visits/{visit.id}/covisit")
    assert page.status_code == 200 and "拜访准备" in page.get_data(as_text=True)
    r = client.post(f"/visits/{visit.id}/covisit", data={**_score_form(items), "score-0": "11"})
    assert r.status_code == 422 and "Score “拜访准备” from 0 to 10." in r.get_data(as_text=True)
    assert count(CoVisit) == 0
    r = client.post(f"/visits/{visit.id}/covisit", data=_score_form(items))
    assert r.status_code == 302
    assert client.post(f"/visits/{visit.id}/covisit", data=_score_form(items)).status_code == 409

    login(client, org.rep)
    html = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "40 / 50" in html and "Good rapport with the owner" in html
    r = client.post(f"/visits/{visit.id}/covisit/answer", data={"text": ""})
    assert r.status_code == 422
    r = client.post(f"/visits/{visit.id}/covisit/answer", data={"text": "Thanks, will prepare better"})
    assert r.status_code == 302
    assert db.session.execute(select(CoVisit)).scalar_one().rep_comment == "Thanks, will prepare better"


def test_covisit_roles_and_scope(client, org):
    visit = started(org.rep)
    login(client, org.rep)
    assert client.get(f"/visits/{visit.id}/covisit").status_code == 403
    login(client, org.manager)
    assert client.get(f"/visits/{visit.id}/covisit").status_code == 403
    assert client.post(f"/visits/{visit.id}/covisit/answer", data={"text": "hi"}).status_code == 403
    login(client, org.west_supervisor)
    assert client.get(f"/visits/{visit.id}/covisit").status_code == 404
    login(client, org.rep)
    assert client.post(f"/visits/{visit.id}/covisit/answer", data={"text": "hi"}).status_code == 404  # none yet


# --- CSRF on every POST ------------------------------------------------------------------------

def test_every_post_without_csrf_token_is_400(client, org):
    visit = started(org.rep)
    step = step_of(visit, "checklist")
    objective = visit.objectives[0]
    login(client, org.rep)
    urls = [f"/visits/{visit.id}/checkin", f"/stores/{visit.store_id}/checkin",
            f"/visits/{visit.id}/steps/{step.id}", f"/visits/{visit.id}/steps/{step.id}/skip",
            f"/visits/{visit.id}/objectives/{objective.id}", f"/visits/{visit.id}/followups",
            f"/visits/{visit.id}/checkout", f"/visits/{visit.id}/cancel", f"/visits/{visit.id}/covisit",
            f"/visits/{visit.id}/covisit/answer"]
    data = {"reason": "x", "skip_reason": "x", "met": "yes"}
    for url in urls:
        assert client.post(url, data=data, csrf=False).status_code == 400, url
    assert count(StepResult) == 0 and fresh(visit).status == VisitStatus.IN_PROGRESS


def test_every_route_of_another_reps_visit_is_404(client, org):
    theirs = started(org.teammate)
    step = step_of(theirs, "checklist")
    objective = theirs.objectives[0]
    login(client, org.rep)
    base = f"/visits/{theirs.id}"
    for url in [base, f"{base}/covisit"]:
        assert client.get(url).status_code == 404, url
    for url in [f"{base}/checkin", f"{base}/steps/{step.id}", f"{base}/steps/{step.id}/skip",
                f"{base}/objectives/{objective.id}", f"{base}/followups", f"{base}/checkout", f"{base}/cancel",
                f"{base}/covisit", f"{base}/covisit/answer"]:
        assert client.post(url, data={"reason": "x", "met": "yes", "text": "x"}).status_code == 404, url
    assert count(StepResult) == 0 and fresh(theirs).status == VisitStatus.IN_PROGRESS


def test_supervisor_sees_but_cannot_fill_in_the_reps_visit(client, org):
    visit = started(org.rep)
    objective = visit.objectives[0]
    login(client, org.supervisor)
    html = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "hx-post" not in html and 'action="/visits/%d/checkout"' % visit.id not in html
    assert client.post(f"/visits/{visit.id}/objectives/{objective.id}", data={"met": "yes"}).status_code == 403
    assert client.post(f"/visits/{visit.id}/followups",
                       data={"text": "x", "owner": str(org.supervisor.id)}).status_code == 403
    assert client.post(f"/visits/{visit.id}/checkout", data=position()).status_code == 403
    assert count(FollowUp) == 0 and fresh(visit).status == VisitStatus.IN_PROGRESS
