"""Writes replayed from the phone's outbox (X-Field-Replay: 1): each acts once and answers as the first
time did; bad replays are refused with a clear JSON message and write nothing; the phone's time is kept
and flagged for the supervisor when it tells a late sync, a wrong clock or an event out of order."""
import threading
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from field.audit import AuditEvent
from field.core import now
from field.extensions import db
from field.photos.models import Photo
from field.sales.models import Sale
from field.visits import operations as ops
from field.visits.models import (ClientWrite, FollowUp, Objective, StepResult, Visit, VisitStatus, VisitStep,
                                 WriteKind)
from tests.conftest import login
from tests.factories import make_product, make_store, vtype
from tests.web.test_photos import good_jpeg, post as post_photo
from tests.web.test_visit import HX, SHOP, checklist_all_pass, fresh, north, planned, position, started, step_of

REPLAY = {"X-Field-Replay": "1"}


def cid() -> str:
    return str(uuid.uuid4())


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audits(action: str) -> int:
    return count(AuditEvent, AuditEvent.action == action)


def twice(client, url, data, headers=REPLAY):
    """Send the same item two times, as the outbox does when the first answer was lost."""
    return [client.post(url, data=data, headers=headers) for _ in range(2)]


def ready_to_check_out(client, visit) -> None:
    checklist = step_of(visit, "checklist")
    assert client.post(f"/visits/{visit.id}/steps/{checklist.id}", data=checklist_all_pass(checklist)).status_code == 302


def done_writes() -> int:
    return count(ClientWrite)


# --- every idempotent write, replayed twice, acts once ------------------------------------------

def test_a_step_save_replayed_twice_saves_once(client, rep):
    visit = started(rep)
    login(client, rep)
    step = step_of(visit, "checklist")
    first, again = twice(client, f"/visits/{visit.id}/steps/{step.id}",
                         {**checklist_all_pass(step), "client_id": cid(), "phone_at": iso(now())})
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert count(StepResult) == 1 and audits("visit.step") == 1 and done_writes() == 1


def test_a_step_skip_replayed_twice_skips_once(client, rep):
    visit = started(rep)
    login(client, rep)
    step = step_of(visit, "stock_count")
    first, again = twice(client, f"/visits/{visit.id}/steps/{step.id}/skip",
                         {"skip_reason": "Back room locked", "client_id": cid()})
    assert first.status_code == again.status_code == 302
    assert count(StepResult) == 1 and audits("visit.step_skip") == 1


def test_an_htmx_replay_answers_the_step_fragment_again(client, rep):
    visit = started(rep)
    login(client, rep)
    step = step_of(visit, "text")
    first, again = twice(client, f"/visits/{visit.id}/steps/{step.id}", {"text": "All fine", "client_id": cid()},
                         headers={**HX, **REPLAY})
    assert first.status_code == again.status_code == 200
    assert f'id="step-{step.id}"' in again.get_data(as_text=True) and audits("visit.step") == 1


def test_an_objective_replayed_twice_is_marked_once(client, rep):
    visit = started(rep)
    login(client, rep)
    objective = visit.objectives[0]
    first, again = twice(client, f"/visits/{visit.id}/objectives/{objective.id}",
                         {"met": "yes", "note": "done", "client_id": cid()})
    assert first.status_code == again.status_code == 302
    assert audits("visit.objective") == 1 and db.session.get(Objective, objective.id).met is True


def test_an_objective_marked_on_the_planned_page_arrives_after_its_check_in_and_acts_once(client, rep):
    visit = planned(rep)
    login(client, rep)
    client.post(f"/visits/{visit.id}/checkin", data={**position(north(20)), "client_id": cid()},
                headers=REPLAY)
    objective = fresh(visit).objectives[0]
    named = {"source": objective.source, "text": objective.text, "met": "yes", "note": "done", "client_id": cid()}
    first, again = twice(client, f"/visits/{visit.id}/objectives/plan/0", named)
    assert first.status_code == again.status_code == 302
    assert audits("visit.objective") == 1 and db.session.get(Objective, objective.id).met is True


def test_an_objective_the_visit_no_longer_has_is_refused_and_marks_nothing(client, rep):
    visit = started(rep)
    login(client, rep)
    answer = client.post(f"/visits/{visit.id}/objectives/plan/0", headers=REPLAY, data={
        "source": "goal", "text": "Not an objective of this visit", "met": "yes", "client_id": cid()})
    assert answer.status_code == 409 and "not part of the visit" in answer.get_json()["error"]
    assert audits("visit.objective") == 0


def test_a_follow_up_replayed_twice_is_added_once(client, rep):
    visit = started(rep)
    login(client, rep)
    first, again = twice(client, f"/visits/{visit.id}/followups",
                         {"text": "Bring new price tags", "owner": str(rep.id), "client_id": cid()})
    assert first.status_code == again.status_code == 302
    assert count(FollowUp) == 1 and audits("follow_up.create") == 1


def test_a_check_in_replayed_twice_starts_one_visit_by_client_id_or_client_key(client, rep):
    visit = planned(rep)
    login(client, rep)
    first, again = twice(client, f"/visits/{visit.id}/checkin", {**position(north(20)), "client_id": cid()})
    assert first.status_code == again.status_code == 302 and first.headers["Location"] == again.headers["Location"]
    assert audits("visit.check_in") == 1 and fresh(visit).status == VisitStatus.IN_PROGRESS
    assert db.session.execute(select(ClientWrite.kind, ClientWrite.record_id)).all() == [(WriteKind.CHECK_IN, visit.id)]


def test_an_unplanned_check_in_replayed_twice_makes_one_visit(client, rep):
    store = make_store(rep=rep, lat=SHOP.lat, lng=SHOP.lng)
    login(client, rep)
    data = {**position(north(20)), "client_id": cid(), "visit_type": str(vtype("routine").id)}
    first, again = twice(client, f"/stores/{store.id}/checkin", data)
    assert first.status_code == again.status_code == 302 and first.headers["Location"] == again.headers["Location"]
    assert count(Visit) == 1 and audits("visit.check_in") == 1


def test_a_check_out_replayed_twice_completes_once_and_returns_to_today(client, rep):
    visit = started(rep)
    login(client, rep)
    ready_to_check_out(client, visit)
    order = step_of(visit, "order_lines")
    make_product(sku="COLA", name="Cola", unit_price=350)
    assert client.post(f"/visits/{visit.id}/steps/{order.id}", data={"sku": "COLA", "quantity": "2"}).status_code == 302
    first, again = twice(client, f"/visits/{visit.id}/checkout", {**position(north(10)), "client_id": cid()})
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"].endswith("/today") and again.headers["Location"].endswith("/today")
    assert audits("visit.check_out") == 1 and count(Sale) == 1


def test_a_check_out_without_a_position_replayed_twice_completes_once(client, rep):
    visit = started(rep)
    login(client, rep)
    ready_to_check_out(client, visit)
    first, again = twice(client, f"/visits/{visit.id}/checkout",
                         {**position(None), "no_position": "1", "client_id": cid()})
    assert first.status_code == again.status_code == 303
    assert audits("visit.check_out") == 1 and "no_position" in fresh(visit).flag_codes


def test_a_photo_replayed_twice_is_stored_once_with_the_phones_time(client, rep):
    visit = started(rep)
    login(client, rep)
    key, data, tapped = cid(), good_jpeg(seed=7), now() - timedelta(minutes=3)
    first = post_photo(client, visit, data, client_id=key, headers=REPLAY, phone_at=iso(tapped))
    again = post_photo(client, visit, data, client_id=key, headers=REPLAY, phone_at=iso(tapped))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"] and count(Photo) == 1
    write = db.session.execute(select(ClientWrite)).scalar_one()
    assert write.kind == WriteKind.PHOTO and write.record_id == first.get_json()["id"]
    assert abs((write.phone_at - tapped).total_seconds()) < 1


def test_a_plain_form_sent_twice_acts_once(client, rep):
    """The server's own forms carry a client id: a double submit without the outbox acts once too."""
    visit = started(rep)
    login(client, rep)
    html = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert html.count('name="client_id"') >= 4  # steps, skips, objectives, follow-up, check-out
    step = step_of(visit, "text")
    first, again = twice(client, f"/visits/{visit.id}/steps/{step.id}", {"text": "ok", "client_id": cid()}, headers={})
    assert first.status_code == again.status_code == 302 and audits("visit.step") == 1


def test_two_replays_at_the_same_moment_act_once(app, rep, monkeypatch):
    """Both pass the "done already?" look-up before either commits: the unique client id decides, under a
    savepoint, and the loser answers as a replay."""
    visit = started(rep)
    step = step_of(visit, "text")
    visit_id, step_id, rep_id, key = visit.id, step.id, rep.id, cid()
    barrier = threading.Barrier(2)
    results, failures = [], []

    def save():
        with app.app_context(), app.test_request_context():
            try:
                v = db.session.get(Visit, visit_id)
                me = db.session.get(type(rep), rep_id)
                barrier.wait()
                result = ops.save_step(v, step_id, MultiDict({"text": "same"}), me, ops.Write(key))
                db.session.commit()  # what the request does before it answers
                results.append(result.id)
            except Exception as exc:  # noqa: BLE001
                failures.append(exc)
            finally:
                db.session.remove()

    real = ops.earlier_write

    def looked_up_late(*args):
        # The first look-up (before acting) sees nothing; the one after the savepoint sees the winner.
        looked_up_late.calls += 1
        return None if looked_up_late.calls <= 2 else real(*args)
    looked_up_late.calls = 0
    monkeypatch.setattr(ops, "earlier_write", looked_up_late)
    threads = [threading.Thread(target=save) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    assert len(results) == 2 and results[0] == results[1]
    db.session.expire_all()
    assert count(StepResult) == 1 and count(ClientWrite) == 1 and audits("visit.step") == 1


# --- one client id names one write ---------------------------------------------------------------

def test_a_client_id_reused_for_another_kind_of_write_is_409(client, rep):
    visit = started(rep)
    login(client, rep)
    key = cid()
    step = step_of(visit, "text")
    assert client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "ok", "client_id": key},
                       headers=REPLAY).status_code == 302
    r = client.post(f"/visits/{visit.id}/steps/{step.id}/skip", data={"skip_reason": "no", "client_id": key},
                    headers=REPLAY)
    assert r.status_code == 409 and "already used" in r.get_json()["error"]
    assert audits("visit.step_skip") == 0 and fresh(visit).results[0].status == "done"
    photo = post_photo(client, visit, good_jpeg(seed=3), client_id=key, headers=REPLAY)
    assert photo.status_code == 409 and count(Photo) == 0


def test_a_client_id_used_by_another_user_is_409(client, org):
    mine, theirs = started(org.rep), started(org.teammate)
    key = cid()
    login(client, org.rep)
    step = step_of(mine, "text")
    assert client.post(f"/visits/{mine.id}/steps/{step.id}", data={"text": "ok", "client_id": key},
                       headers=REPLAY).status_code == 302
    login(client, org.teammate)
    r = client.post(f"/visits/{theirs.id}/steps/{step.id}", data={"text": "mine", "client_id": key}, headers=REPLAY)
    assert r.status_code == 409 and r.get_json()["error"]
    assert count(StepResult, StepResult.visit_id == theirs.id) == 0


def test_a_photo_with_other_bytes_under_the_same_client_id_is_refused(client, rep):
    visit = started(rep)
    login(client, rep)
    key = cid()
    assert post_photo(client, visit, good_jpeg(seed=1), client_id=key, headers=REPLAY).status_code == 201
    r = post_photo(client, visit, good_jpeg(seed=2), client_id=key, headers=REPLAY)
    assert r.status_code == 409 and "different photo" in r.get_json()["error"] and count(Photo) == 1


# --- refused replays: a clear JSON 4xx, nothing written --------------------------------------------

def test_a_replay_to_a_visit_cancelled_meanwhile_is_refused(client, rep):
    visit = started(rep)
    ops.cancel(visit, rep, "Store closed")
    db.session.commit()
    login(client, rep)
    step = step_of(visit, "text")
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "late", "client_id": cid()}, headers=REPLAY)
    assert r.status_code == 409 and r.is_json and "cancelled" in r.get_json()["error"]
    r = client.post(f"/visits/{visit.id}/checkout", data={**position(), "client_id": cid()}, headers=REPLAY)
    assert r.status_code == 409 and "cancelled" in r.get_json()["error"]
    assert count(StepResult) == 0 and done_writes() == 0


def test_a_replay_of_a_planned_visit_cancelled_meanwhile_does_not_check_in(client, rep):
    visit = planned(rep)
    ops.cancel(visit, rep, "Not today")
    db.session.commit()
    login(client, rep)
    r = client.post(f"/visits/{visit.id}/checkin", data={**position(), "client_id": cid()}, headers=REPLAY)
    assert r.status_code == 409 and "cancelled" in r.get_json()["error"]
    assert fresh(visit).status == VisitStatus.CANCELLED and done_writes() == 0


def test_a_replay_of_a_step_removed_from_its_type_is_refused(client, rep):
    visit = started(rep)
    step = step_of(visit, "text")
    db.session.get(VisitStep, step.id).removed = True
    db.session.commit()
    login(client, rep)
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "late", "client_id": cid()}, headers=REPLAY)
    assert r.status_code == 409 and "taken out of the visit type" in r.get_json()["error"]
    assert count(StepResult) == 0 and done_writes() == 0


def test_a_replay_done_before_its_step_was_removed_still_answers_as_done(client, rep):
    visit = started(rep)
    login(client, rep)
    step = step_of(visit, "text")
    data = {"text": "in time", "client_id": cid()}
    assert client.post(f"/visits/{visit.id}/steps/{step.id}", data=data, headers=REPLAY).status_code == 302
    db.session.get(VisitStep, step.id).removed = True
    db.session.commit()
    assert client.post(f"/visits/{visit.id}/steps/{step.id}", data=data, headers=REPLAY).status_code == 302


def test_a_replay_after_check_out_answers_as_done(client, rep):
    """The first send arrived but its answer was lost; the visit was checked out since: still done."""
    visit = started(rep)
    login(client, rep)
    step = step_of(visit, "text")
    data = {"text": "before check-out", "client_id": cid()}
    assert client.post(f"/visits/{visit.id}/steps/{step.id}", data=data, headers=REPLAY).status_code == 302
    ready_to_check_out(client, visit)
    assert client.post(f"/visits/{visit.id}/checkout", data=position()).status_code == 303
    assert client.post(f"/visits/{visit.id}/steps/{step.id}", data=data, headers=REPLAY).status_code == 302
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "new", "client_id": cid()}, headers=REPLAY)
    assert r.status_code == 409 and "already checked out" in r.get_json()["error"]


def test_a_deactivated_reps_replay_gets_a_json_403_not_the_sign_in_page(client, rep):
    visit = started(rep)
    login(client, rep)
    rep.active = False
    db.session.commit()
    step = step_of(visit, "text")
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "x", "client_id": cid()}, headers=REPLAY)
    assert r.status_code == 403 and "deactivated" in r.get_json()["error"]
    assert count(StepResult) == 0
    page = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "x"})
    assert page.status_code == 302 and "/login" in page.headers["Location"]  # a page still goes to sign-in


def test_a_signed_out_replay_gets_a_json_401(client, rep):
    visit = started(rep)
    step = step_of(visit, "text")
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "x", "client_id": cid()}, headers=REPLAY)
    assert r.status_code == 401 and "signed out" in r.get_json()["error"]


def test_a_device_clock_days_ahead_is_refused(client, rep):
    visit = started(rep)
    login(client, rep)
    ahead = iso(now() + timedelta(days=3))
    step = step_of(visit, "text")
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "x", "client_id": cid(), "phone_at": ahead},
                    headers=REPLAY)
    assert r.status_code == 422 and "clock is ahead" in r.get_json()["error"]
    ready_to_check_out(client, visit)
    r = client.post(f"/visits/{visit.id}/checkout", data={**position(at=now() + timedelta(days=3)), "phone_at": ahead},
                    headers=REPLAY)
    assert r.status_code == 422 and r.get_json()["error"]
    r = post_photo(client, visit, good_jpeg(seed=5), headers=REPLAY, phone_at=ahead)
    assert r.status_code == 422 and count(Photo) == 0
    assert count(StepResult) == 1 and fresh(visit).status == VisitStatus.IN_PROGRESS and done_writes() == 0


def test_an_unreadable_phone_time_is_refused(client, rep):
    visit = started(rep)
    login(client, rep)
    step = step_of(visit, "text")
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "x", "phone_at": "yesterday"}, headers=REPLAY)
    assert r.status_code == 422 and r.get_json()["error"] and count(StepResult) == 0


def test_a_replay_refused_by_a_form_answers_json_with_the_message(client, rep):
    visit = started(rep)
    login(client, rep)
    r = client.post(f"/visits/{visit.id}/followups", data={"text": "", "owner": str(rep.id), "client_id": cid()},
                    headers=REPLAY)
    assert r.status_code == 422 and r.get_json() == {"error": "Say what needs doing."}
    step = step_of(visit, "text")
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "", "client_id": cid()}, headers=REPLAY)
    assert r.status_code == 422 and "Write something" in r.get_json()["error"]
    r = client.post(f"/visits/{visit.id}/checkout", data=position(), headers=REPLAY)  # required step missing
    assert r.status_code == 422 and "Finish or skip" in r.get_json()["error"]


def test_a_replay_still_needs_the_csrf_token(client, rep):
    visit = started(rep)
    login(client, rep)
    step = step_of(visit, "text")
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "x", "client_id": cid()}, headers=REPLAY,
                    csrf=False)
    assert r.status_code == 400 and "expired" in r.get_json()["error"] and count(StepResult) == 0


def test_a_replay_to_another_reps_visit_is_404(client, org):
    visit = started(org.rep)
    login(client, org.west_rep)
    step = step_of(visit, "text")
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"text": "x", "client_id": cid()}, headers=REPLAY)
    assert r.status_code == 404 and r.get_json()["error"]
    r = client.post(f"/visits/{visit.id}/checkout", data={**position(), "client_id": cid()}, headers=REPLAY)
    assert r.status_code == 404 and done_writes() == 0


# --- the phone's time, and what it tells the supervisor --------------------------------------------

def test_a_late_synced_check_in_keeps_the_phones_time_and_is_flagged(client, rep):
    visit = planned(rep)
    login(client, rep)
    tapped = now() - timedelta(hours=3)
    r = client.post(f"/visits/{visit.id}/checkin",
                    data={**position(north(20), at=tapped), "phone_at": iso(tapped), "client_id": cid()},
                    headers=REPLAY)
    assert r.status_code == 302
    visit = fresh(visit)
    assert abs((visit.checkin_at - tapped).total_seconds()) < 1
    assert visit.checkin_received_at - visit.checkin_at > timedelta(hours=2)
    assert "late_sync" in visit.flag_codes and "stale_position" not in visit.flag_codes


def test_a_check_out_sent_straight_with_a_phone_clock_far_behind_is_flagged(client, rep):
    visit = started(rep)
    login(client, rep)
    ready_to_check_out(client, visit)
    r = client.post(f"/visits/{visit.id}/checkout", data={**position(), "phone_at": iso(now() - timedelta(minutes=40))})
    assert r.status_code == 303
    visit = fresh(visit)
    assert "clock_skew" in visit.flag_codes and "late_sync" not in visit.flag_codes
    assert visit.checkout_received_at is not None and visit.checkout_position_at is not None


def test_a_check_out_the_phone_puts_before_the_check_in_is_flagged_out_of_order(client, rep):
    visit = started(rep)
    login(client, rep)
    ready_to_check_out(client, visit)
    before = fresh(visit).checkin_at - timedelta(minutes=30)
    r = client.post(f"/visits/{visit.id}/checkout",
                    data={**position(at=before), "phone_at": iso(before), "client_id": cid()}, headers=REPLAY)
    assert r.status_code == 303
    visit = fresh(visit)
    assert "out_of_order" in visit.flag_codes and visit.checkout_at == visit.checkin_at


def test_a_visit_done_offline_keeps_its_own_dwell(client, rep):
    """Check-in and check-out replayed a second apart, tapped 25 minutes apart: the visit lasted 25 minutes."""
    visit = planned(rep)
    login(client, rep)
    tapped_in, tapped_out = now() - timedelta(minutes=40), now() - timedelta(minutes=15)
    assert client.post(f"/visits/{visit.id}/checkin", data={**position(at=tapped_in), "phone_at": iso(tapped_in),
                                                            "client_id": cid()}, headers=REPLAY).status_code == 302
    checklist = step_of(visit, "checklist")
    assert client.post(f"/visits/{visit.id}/steps/{checklist.id}",
                       data={**checklist_all_pass(checklist), "phone_at": iso(tapped_in + timedelta(minutes=5)),
                             "client_id": cid()}, headers=REPLAY).status_code == 302
    assert client.post(f"/visits/{visit.id}/checkout", data={**position(at=tapped_out), "phone_at": iso(tapped_out),
                                                             "client_id": cid()}, headers=REPLAY).status_code == 303
    visit = fresh(visit)
    assert round(visit.dwell_minutes) == 25 and "short_dwell" not in visit.flag_codes
    assert not {"late_sync", "clock_skew", "out_of_order"} & set(visit.flag_codes)


# --- the visit page before check-out ---------------------------------------------------------------

def test_the_time_left_to_the_minimum_dwell_is_shown_before_check_out(as_rep, rep):
    visit = started(rep)  # routine: 10 minutes
    db.session.get(Visit, visit.id).checkin_at = now() - timedelta(minutes=4)
    db.session.commit()
    html = as_rep.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "6 min left to this visit's minimum time in the store (10 min)." in html and "data-dwell-until" in html
    db.session.get(Visit, visit.id).checkin_at = now() - timedelta(minutes=12)
    db.session.commit()
    html = as_rep.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "The minimum time in the store (10 min) is reached." in html


def test_checking_out_without_a_position_is_behind_a_confirmation(as_rep, rep):
    visit = started(rep)
    html = as_rep.get(f"/visits/{visit.id}").get_data(as_text=True)
    finish = html.split('id="finish"')[1].split("</section>")[0]
    details = finish.split('<details class="skip no-position"')[1].split("</details>")[0]
    assert "<summary>Check out without a position</summary>" in details and 'name="no_position"' in details
    assert 'name="no_position"' not in finish.replace(details, "")


def test_an_htmx_check_out_goes_to_today_as_a_page(client, rep):
    visit = started(rep)
    login(client, rep)
    ready_to_check_out(client, visit)
    r = client.post(f"/visits/{visit.id}/checkout", data=position(), headers=HX)
    assert r.status_code == 200 and r.headers["HX-Redirect"].endswith("/today")
