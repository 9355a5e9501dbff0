"""Evidence pages: the verification queue (page, item, verdict, bulk approval) and the rep's POST
that binds photos to an activity — each with its scope, CSRF and bad input; and what the rep and
the manager see change as verdicts land."""
from datetime import datetime, timezone
import re

import pytest
from sqlalchemy import func, select

from field.activities.models import Evidence, Review, Verdict
from field.audit import AuditEvent
from field.extensions import db
from field.visits.models import VisitStatus
from tests.factories import make_photo, make_store, promo_visit, running

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def shop(org):
    return make_store(rep=org.rep, code="E-SHOP", name="Hongqiao Mart")


@pytest.fixture
def line(org, shop):
    return running(org.rep, [shop], photos=1, title="春节堆头").stores[0]


@pytest.fixture
def west_line(org):
    return running(org.west_rep, [make_store(rep=org.west_rep, code="W-SHOP", name="Chengdu Mart")], photos=1,
                   title="west").stores[0]


def with_evidence(rep, line, flags=()):
    visit, step = promo_visit(rep, line.store)
    photo = make_photo(visit, step, flags=flags)
    db.session.add(Evidence(activity_store=line, period_index=1, photo=photo,
                            checklist={i: True for i in line.activity.type.checklist}, created_by_id=rep.id))
    db.session.commit()
    return photo


def newest(line) -> int:
    return db.session.execute(select(func.max(Evidence.id)).where(Evidence.activity_store_id == line.id)).scalar_one()


def review_url(line, index=1):
    return f"/activities/queue/{line.id}/{index}/review"


def approve_form(line, seen_review=0):
    return {"verdict": "approved", "seen_review": str(seen_review), "seen_evidence": str(newest(line))}


# --- the queue page ------------------------------------------------------------------------------

def test_only_supervisors_and_managers_open_the_queue(client, org):
    for who, status in ((org.rep, 403), (org.admin, 403), (org.supervisor, 200), (org.manager, 200)):
        assert client.login_as(who).get("/activities/queue").status_code == status


def test_the_queue_lists_the_teams_items_flagged_first(client, org, shop, line, west_line):
    other = running(org.rep, [make_store(rep=org.teammate, code="E-TEAM", name="Team Shop")], photos=1,
                    title="team").stores[0]
    with_evidence(org.rep, line)
    with_evidence(org.teammate, other, flags=["exact_reuse"])
    with_evidence(org.west_rep, west_line)
    r = client.login_as(org.supervisor).get("/activities/queue")
    assert r.status_code == 200
    order = re.findall(r'data-item="(\d+-\d+)"', r.text)
    assert order == [f"{other.id}-1", f"{line.id}-1"]
    assert "Chengdu Mart" not in r.text
    assert "Reused photo" in r.text and "1 flagged photo" in r.text
    assert 'form="bulk-approve"' in r.text and r.text.count('name="item"') == 1  # only the clean one
    assert client.login_as(org.west_supervisor).get("/activities/queue").text.count("data-item=") == 1


def test_the_overdue_tab_lists_periods_over_without_evidence(client, org, line):
    r = client.login_as(org.supervisor).get("/activities/queue?show=overdue")
    assert r.status_code == 200 and f'data-item="{line.id}-0"' in r.text
    assert "Period over, no evidence" in r.text and 'value="no_evidence" selected' in r.text
    assert 'class="queue-approve"' not in r.text  # nothing to approve


def test_the_queue_renders_its_results_alone_for_htmx(client, org, line):
    with_evidence(org.rep, line)
    r = client.login_as(org.supervisor).get("/activities/queue", headers=HTMX)
    assert r.status_code == 200 and "<html" not in r.text and f'data-item="{line.id}-1"' in r.text


def test_an_item_page_in_scope_only(client, org, line, west_line):
    with_evidence(org.rep, line)
    client.login_as(org.supervisor)
    r = client.get(f"/activities/queue/{line.id}/1")
    assert r.status_code == 200 and "Hongqiao Mart" in r.text and "Not reviewed yet" in r.text
    assert client.get(f"/activities/queue/{west_line.id}/1").status_code == 404
    assert client.get(f"/activities/queue/{line.id}/99").status_code == 404
    assert client.get(f"/activities/queue/{2**40}/1").status_code == 404


# --- verdicts --------------------------------------------------------------------------------------

def test_approving_through_htmx_answers_the_reviewed_card(client, org, line):
    with_evidence(org.rep, line)
    r = client.login_as(org.supervisor).post(review_url(line), data=approve_form(line), headers=HTMX)
    assert r.status_code == 200 and 'data-verdict="approved"' in r.text and "<html" not in r.text
    review = db.session.execute(select(Review)).scalar_one()
    assert (review.verdict, review.reviewer_id, review.evidence_upto) == (Verdict.APPROVED, org.supervisor.id,
                                                                          newest(line))
    assert db.session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "reviews")).scalar_one() \
        == "review.approve"


def test_rejecting_with_a_plain_form_goes_back_to_the_queue(client, org, line):
    with_evidence(org.rep, line)
    r = client.login_as(org.supervisor).post(review_url(line), data={
        "verdict": "rejected", "reason": "unclear", "note": "太暗，看不清价签", "seen_review": "0",
        "seen_evidence": str(newest(line)), "show": "review", "page": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/activities/queue")
    review = db.session.execute(select(Review)).scalar_one()
    assert (review.verdict, review.reason, review.note) == ("rejected", "unclear", "太暗，看不清价签")


def test_a_verdict_without_csrf_is_refused_and_nothing_written(client, org, line):
    with_evidence(org.rep, line)
    r = client.login_as(org.supervisor).post(review_url(line), data=approve_form(line), csrf=False)
    assert r.status_code == 400 and count(Review) == 0


def test_a_review_from_outside_the_team_is_not_found(client, org, west_line):
    with_evidence(org.west_rep, west_line)
    assert client.login_as(org.supervisor).post(review_url(west_line), data=approve_form(west_line)).status_code \
        == 404
    assert client.login_as(org.west_rep).post(review_url(west_line), data=approve_form(west_line)).status_code \
        == 403
    assert count(Review) == 0


def test_a_period_not_due_answers_422(client, org, line):
    r = client.login_as(org.supervisor).post(review_url(line), data={
        "verdict": "rejected", "reason": "no_evidence", "seen_review": "0", "seen_evidence": "0"})
    assert r.status_code == 422 and "not due yet" in r.text and count(Review) == 0


def test_a_rejection_without_reason_answers_the_card_with_the_form_open(client, org, line):
    with_evidence(org.rep, line)
    r = client.login_as(org.supervisor).post(review_url(line), headers=HTMX, data={
        "verdict": "rejected", "reason": "", "seen_review": "0", "seen_evidence": str(newest(line))})
    assert r.status_code == 422 and "Pick the reason" in r.text and '<details class="queue-reject" open>' in r.text
    assert count(Review) == 0


@pytest.mark.parametrize("seen", [{"seen_review": "x"}, {"seen_evidence": ""}, {"seen_review": "-1"},
                                  {"seen_review": "²"}, {"seen_evidence": "1" * 11}])
def test_malformed_seen_values_are_a_bad_request(client, org, line, seen):
    with_evidence(org.rep, line)
    data = {**approve_form(line), **seen}
    assert client.login_as(org.supervisor).post(review_url(line), data=data).status_code == 400
    assert count(Review) == 0


def test_the_second_reviewer_gets_409_with_the_first_verdict(client, org, line):
    with_evidence(org.rep, line)
    form = approve_form(line)
    assert client.login_as(org.supervisor).post(review_url(line), data=form, headers=HTMX).status_code == 200
    r = client.login_as(org.manager).post(review_url(line), headers=HTMX, data={
        **form, "verdict": "rejected", "reason": "unclear"})
    assert r.status_code == 409
    assert "Supervisor" in r.text and "approved" in r.text and 'data-standing="approved"' in r.text
    assert [v for v, in db.session.execute(select(Review.verdict))] == ["approved"]
    # The card came back with what stands now: deciding again from it is allowed.
    seen = re.search(r'name="seen_review" value="(\d+)"', r.text).group(1)
    again = client.post(review_url(line), headers=HTMX, data={**form, "seen_review": seen, "verdict": "rejected",
                                                               "reason": "unclear"})
    assert again.status_code == 200 and count(Review) == 2


def test_a_refused_plain_form_shows_the_items_page_with_the_reason(client, org, line):
    with_evidence(org.rep, line)
    form = approve_form(line)
    client.login_as(org.supervisor).post(review_url(line), data=form)
    r = client.login_as(org.manager).post(review_url(line), data=form)
    assert r.status_code == 409 and "<html" in r.text and "in the meantime" in r.text


# --- bulk approval ---------------------------------------------------------------------------------

def test_bulk_approval_approves_the_ticked_clean_items(client, org, shop, line):
    second = running(org.rep, [make_store(rep=org.rep, code="E-2")], photos=1, title="second").stores[0]
    flagged = running(org.rep, [make_store(rep=org.rep, code="E-3")], photos=1, title="third").stores[0]
    for target in (line, second):
        with_evidence(org.rep, target)
    with_evidence(org.rep, flagged, flags=["album"])
    client.login_as(org.supervisor)
    page = client.get("/activities/queue").text
    tokens = re.findall(r'name="item" value="([\d:]+)"', page)
    assert len(tokens) == 2
    flagged_token = f"{flagged.id}:1:0:{newest(flagged)}"
    r = client.post("/activities/queue/approve", data={"item": tokens + [flagged_token]})
    assert r.status_code == 303
    verdicts = {as_id: v for as_id, v in db.session.execute(select(Review.activity_store_id, Review.verdict))}
    assert verdicts == {line.id: "approved", second.id: "approved"}
    follow = client.get("/activities/queue").text
    assert "2 items approved." in follow and "needs a look of its own" in follow


def test_bulk_approval_refuses_without_csrf_outside_scope_and_bad_tokens(client, org, line, west_line):
    with_evidence(org.rep, line)
    with_evidence(org.west_rep, west_line)
    client.login_as(org.supervisor)
    mine = f"{line.id}:1:0:{newest(line)}"
    assert client.post("/activities/queue/approve", data={"item": [mine]}, csrf=False).status_code == 400
    r = client.post("/activities/queue/approve", data={"item": [mine, f"{west_line.id}:1:0:{newest(west_line)}"]})
    assert r.status_code == 404
    assert client.post("/activities/queue/approve", data={"item": ["1:1"]}).status_code == 400
    assert client.post("/activities/queue/approve", data={}).status_code == 422
    assert count(Review) == 0
    assert client.login_as(org.rep).post("/activities/queue/approve", data={"item": [mine]}).status_code == 403


# --- the rep binds evidence ---------------------------------------------------------------------

def evidence_form(line, visit=None, step=None, **extra):
    data = {"activity_store_id": str(line.id), **extra}
    if visit is not None:
        data.update(visit_id=str(visit.id), step_id=str(step.id))
    return data


def test_the_rep_binds_a_visit_steps_new_photos_with_the_checklist(client, org, shop, line):
    visit, step = promo_visit(org.rep, shop, status=VisitStatus.IN_PROGRESS)
    photos = [make_photo(visit, step), make_photo(visit, step)]
    client.login_as(org.rep)
    r = client.post("/activities/evidence", data=evidence_form(line, visit, step, check=["价签可见"]))
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/visits/{visit.id}#visit-evidence-{step.id}")
    rows = db.session.execute(select(Evidence).order_by(Evidence.id)).scalars().all()
    assert [(e.photo_id, e.period_index) for e in rows] == [(p.id, 1) for p in photos]
    assert rows[0].checklist == {"价签可见": True, "POSM 到位": False} and rows[0].unconfirmed == 1

    # htmx: the step's evidence block comes back; nothing new to bind is still fine with the checklist.
    third = make_photo(visit, step)
    r = client.post("/activities/evidence", headers=HTMX,
                    data=evidence_form(line, visit, step, check=["价签可见", "POSM 到位"]))
    assert r.status_code == 201 and f'id="visit-evidence-{step.id}"' in r.text
    assert "1 photo saved as evidence" in r.text and f'id="photo-{third.id}"' in r.text
    assert 'value="POSM 到位" checked' in r.text


def test_the_rep_binds_named_photos_and_gets_json(client, org, shop, line):
    visit, step = promo_visit(org.rep, shop, status=VisitStatus.IN_PROGRESS)
    photo = make_photo(visit, step)
    r = client.login_as(org.rep).post("/activities/evidence", headers={"Accept": "application/json"},
                                      data=evidence_form(line, photo_id=str(photo.id)))
    assert r.status_code == 201 and r.json["bound"] == 1 and r.json["activity_store_id"] == line.id
    again = client.post("/activities/evidence", headers={"Accept": "application/json"},
                        data=evidence_form(line, photo_id=str(photo.id)))
    assert again.status_code == 200 and again.json["bound"] == 0 and count(Evidence) == 1


def test_evidence_stays_in_scope(client, org, shop, line, west_line):
    visit, step = promo_visit(org.rep, shop, status=VisitStatus.IN_PROGRESS)
    photo = make_photo(visit, step)
    team_visit, team_step = promo_visit(org.teammate, make_store(rep=org.teammate, code="E-T"))
    team_photo = make_photo(team_visit, team_step)
    client.login_as(org.rep)
    assert client.post("/activities/evidence", data=evidence_form(west_line, photo_id=str(photo.id))).status_code \
        == 404
    assert client.post("/activities/evidence", data=evidence_form(line, photo_id=str(team_photo.id))).status_code \
        == 404
    assert client.post("/activities/evidence", data=evidence_form(line, team_visit, team_step)).status_code == 404
    assert count(Evidence) == 0


def test_evidence_bad_input_writes_nothing(client, org, shop, line):
    visit, step = promo_visit(org.rep, shop, status=VisitStatus.IN_PROGRESS)
    photo = make_photo(visit, step)
    client.login_as(org.rep)
    assert client.post("/activities/evidence", data=evidence_form(line, photo_id=str(photo.id)),
                       csrf=False).status_code == 400
    assert client.post("/activities/evidence", data={"activity_store_id": "abc"}).status_code == 400
    assert client.post("/activities/evidence", data=evidence_form(line, photo_id="x1")).status_code == 400
    assert client.post("/activities/evidence", data=evidence_form(line, photo_id="³")).status_code == 400
    r = client.post("/activities/evidence", data=evidence_form(line, photo_id=str(photo.id), check=["冰柜干净"]))
    assert r.status_code == 422 and "checklist has changed" in r.text and "<html" in r.text
    r = client.post("/activities/evidence", headers=HTMX, data=evidence_form(line, visit, step, check=["冰柜干净"]))
    assert r.status_code == 422 and 'role="alert"' in r.text
    assert count(Evidence) == 0
    evidence_form_only = evidence_form(line, visit, step)
    client.post("/activities/evidence", data=evidence_form_only)  # binds the step's photo
    r = client.post("/activities/evidence", headers=HTMX, data=evidence_form_only)  # nothing new, nothing ticked
    assert r.status_code == 422 and "nothing to save" in r.text and count(Evidence) == 1


def test_a_supervisor_cannot_bind_the_reps_photo(client, org, shop, line):
    visit, step = promo_visit(org.rep, shop, status=VisitStatus.IN_PROGRESS)
    photo = make_photo(visit, step)
    r = client.login_as(org.supervisor).post("/activities/evidence", data=evidence_form(line, photo_id=str(photo.id)))
    assert r.status_code == 403 and count(Evidence) == 0


# --- what the rep and the manager see ---------------------------------------------------------

def test_the_rep_sees_the_rejection_and_then_that_new_evidence_waits(client, org, shop, line):
    with_evidence(org.rep, line)
    client.login_as(org.supervisor).post(review_url(line), data={
        "verdict": "rejected", "reason": "not_in_place", "note": "堆头没有搭好", "seen_review": "0",
        "seen_evidence": str(newest(line))})
    page = client.login_as(org.rep).get("/activities/mine").text
    assert "Rejected: Display or material not in place" in page and "堆头没有搭好" in page
    assert f'/stores/{shop.id}/checkin' in page  # the way to add evidence
    with_evidence(org.rep, line)
    page = client.get("/activities/mine").text
    assert "New evidence sent; waiting for the review." in page and "Check in to add evidence" not in page


def test_the_managers_list_shows_compliance_moving(client, org, shop, line):
    client.login_as(org.manager)
    assert "0.0 %" in client.get("/activities").text  # period 0 is over and unverified
    with_evidence(org.rep, line)
    client.login_as(org.supervisor).post(review_url(line), data=approve_form(line))
    text = client.login_as(org.manager).get("/activities").text
    assert "50.0 %" in text and "(1/2)" in text
    activity_page = client.get(f"/activities/{line.activity_id}").text
    assert "1 / 2" in activity_page and "verified" in activity_page


def test_the_activity_page_links_reviewers_to_the_item(client, org, line):
    with_evidence(org.rep, line)
    page = client.login_as(org.supervisor).get(f"/activities/{line.activity_id}").text
    assert f"/activities/queue/{line.id}/1" in page and "awaiting review" in page
    assert f"/activities/queue/{line.id}/1" not in client.login_as(org.rep).get(f"/activities/{line.activity_id}").text



def test_each_photo_says_when_and_how_far_from_the_store(client, org, line):
    photo = with_evidence(org.rep, line, flags=["exif_outside_geofence"])
    bare = running(org.rep, [make_store(rep=org.rep, code="E-BARE")], photos=1, title="bare").stores[0]
    with_evidence(org.rep, bare)
    photo.phone_distance_m, photo.phone_accuracy_m, photo.exif_distance_m = 12.4, 8, 1503
    db.session.commit()
    page = client.login_as(org.supervisor).get("/activities/queue").text
    assert "12 m away · accuracy ±8 m · photo&#39;s own GPS: 1503 m away" in page
    assert "no capture data" in page  # the other photo carries none


# --- what the reviewer sees stays true --------------------------------------------------------------

@pytest.mark.parametrize("flags, reason", [(["exact_reuse"], "reused"), (["near_reuse"], "reused"),
                                           (["phone_outside_geofence"], "wrong_store"), ([], "")])
def test_a_flagged_photo_starts_the_rejection_with_the_reason_its_flag_suggests(client, org, line, flags, reason):
    with_evidence(org.rep, line, flags=flags)
    r = client.login_as(org.supervisor).get(f"/activities/queue/{line.id}/1")
    selected = re.findall(r'<option value="(\w*)" selected>', r.text)
    assert selected == ([reason] if reason else [])


def test_a_verdict_in_place_sends_the_queue_counts_again(client, org, line):
    other = running(org.rep, [make_store(rep=org.rep, code="E-TWO", name="Two")], photos=1, title="two").stores[0]
    with_evidence(org.rep, line)
    with_evidence(org.rep, other)
    client.login_as(org.supervisor)
    before = re.findall(r'data-count="(\d+)"', client.get("/activities/queue").text)
    assert before[0] == "2"
    r = client.post(review_url(line), data=approve_form(line), headers=HTMX)
    assert r.status_code == 200
    counts = re.search(r'<nav class="status-filter" id="queue-counts"[^>]*hx-swap-oob="true"[^>]*>(.*?)</nav>',
                       r.text, re.S)
    assert counts, "the counts come along, out of band"
    after = re.findall(r'data-count="(\d+)"', counts.group(1))
    assert after == ["1", before[1]]
    assert after == re.findall(r'data-count="(\d+)"', client.get("/activities/queue").text)  # as the page says


def test_the_photo_line_says_what_each_distance_is(client, org, line):
    photo = with_evidence(org.rep, line)
    photo.phone_distance_m, photo.phone_accuracy_m, photo.exif_distance_m = 18.0, 17.0, 807.0
    db.session.commit()
    text = client.login_as(org.supervisor).get("/activities/queue").text
    assert "18 m away · accuracy ±17 m · photo&#39;s own GPS: 807 m away" in text


def test_a_photo_taken_in_another_zone_shows_its_own_clock_beside_the_viewer_s(client, org, line):
    photo = with_evidence(org.rep, line)
    photo.exif_taken_at = datetime(2026, 4, 11, 20, 47, tzinfo=timezone.utc)  # 15:47 in Bogotá, 04:47 in Shanghai
    photo.exif_utc_offset_min = -300
    db.session.commit()
    text = client.login_as(org.supervisor).get("/activities/queue").text
    assert "15:47 (UTC−05:00) · 04:47" in text
