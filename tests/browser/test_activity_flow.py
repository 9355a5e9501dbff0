"""Promotion evidence on a phone, end to end: the rep's evidence is in for two stores; the supervisor
approves one and rejects the other with a reason; the rep reads the reason, checks in, shoots a new
photo and sends it as evidence; the supervisor approves it; the manager's list shows compliance
move. And the queue at phone and desk widths, in English and Chinese, with the desk's keys.

Photos come in through the real ingest (decoded, hashed, watermarked, thumbnailed) so the pages
show real thumbnails; the rep's new photo is shot through the visit page's camera input.
FIELD_SHOT_DIR=/some/dir keeps a screenshot of each page walked."""
import re
import uuid
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from field.activities import evidence
from field.activities.models import ActivityStatus as S, Evidence, Review
from field.core import company_today, now
from field.extensions import db
from field.photos import ingest
from field.visits.models import StepKind, Visit, VisitStatus
from tests.browser.conftest import MIN_TAP, grant_geolocation, keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD, make_activity, make_store, make_type, vtype
from tests.fixtures import photos as samples
from tests.web.test_photos import good_jpeg

DESK = {"viewport": {"width": 1280, "height": 900}, "is_mobile": False, "has_touch": False,
        "device_scale_factor": 1, "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36"}
ELSEWHERE = (samples.SHOP[0] + 1500 / 110_900.0, samples.SHOP[1])  # 1.5 km north of the store


def shoot(app, rep, line, seed, gps=None, checklist=None, days_ago=0):
    """A promotion visit at the line's store with one real photo bound to the line's current period."""
    store = line.store
    with app.test_request_context(headers={"Accept-Language": "en"}):
        vt = vtype("promotion")
        visit = Visit(rep=rep, store=store, visit_type=vt, status=VisitStatus.IN_PROGRESS, flags=[],
                      planned_for=company_today(), checkin_at=now() - timedelta(minutes=15),
                      checkin_lat=store.lat, checkin_lng=store.lng)
        db.session.add(visit)
        db.session.commit()
        step = next(s for s in vt.steps if s.kind == StepKind.PHOTO)
        exif = {"gps": gps} if gps is not None else {}
        photo, _created = ingest.add_photo(visit, step, ingest.Upload(
            data=good_jpeg(seed=seed, **exif), client_id=str(uuid.uuid4()), phone_point=store.point, accuracy_m=8,
            captured_at=now()), rep)
        answers = checklist if checklist is not None else {item: True for item in line.activity.type.checklist}
        if days_ago:  # evidence of an earlier period, as it was written then
            photo.created_at = now() - timedelta(days=days_ago)
            index = evidence.current_period(line, company_today() - timedelta(days=days_ago)).index
            db.session.add(Evidence(activity_store=line, period_index=index, photo=photo, checklist=answers,
                                    unconfirmed=sum(1 for v in answers.values() if not v), created_by_id=rep.id,
                                    created_at=photo.created_at))
            db.session.commit()
        else:
            evidence.bind_photo(photo, line, evidence.current_period(line, company_today()).index,
                                answers, rep)
        visit.status, visit.checkout_at = VisitStatus.COMPLETED, now()
        db.session.commit()
        return photo


def running_activity(org, stores, title="春节堆头陈列"):
    kind = make_type(name="堆头租赁", name_en="End-cap rental", photos=1, checklist=("堆头已搭好", "价签可见"))
    start = company_today() - timedelta(days=10)  # period 1 runs; period 0 is over
    return make_activity(org.rep, stores, kind=kind, status=S.RUNNING, start=start, end=start + timedelta(days=27),
                         title=title)


def card(page, store_name):
    return page.locator("article.queue-item", has=page.locator(".queue-head h2", has_text=store_name))


def compliance_of(page, title):
    return page.locator(".activity-item", has_text=title).locator("[data-compliance]")


# --- the whole loop ---------------------------------------------------------------------------

def test_rejected_evidence_is_resent_approved_and_compliance_moves(app, new_page, live_server, org, tmp_path):
    hongqiao = make_store(rep=org.rep, name="Hongqiao Mart", lat=samples.SHOP[0], lng=samples.SHOP[1])
    jingan = make_store(rep=org.rep, name="Jing'an Corner", lat=samples.SHOP[0], lng=samples.SHOP[1])
    activity = running_activity(org, [hongqiao, jingan])
    line_h, line_j = activity.stores
    shoot(app, org.rep, line_h, seed=41)
    shoot(app, org.rep, line_j, seed=42)

    # The manager's list before any verdict: period 0 of both stores is over and unverified.
    manager = login(new_page(), live_server, org.manager.login, PASSWORD)
    manager.goto("/activities")
    expect(compliance_of(manager, "春节堆头陈列")).to_have_text(re.compile(r"0\.0 %\s*\(0/2\)"))

    # The supervisor: approve one store, reject the other with a reason and a note.
    boss = login(new_page(), live_server, org.supervisor.login, PASSWORD)
    boss.goto("/activities")
    boss.get_by_role("link", name="Verify evidence").click()
    boss.wait_for_url("**/activities/queue")
    expect(boss.locator("article.queue-item")).to_have_count(2)
    expect(card(boss, "Hongqiao Mart").locator(".queue-photo img")).to_have_js_property("complete", True)
    assert no_horizontal_overflow(boss)
    keep_shot(boss, "activity-flow-queue")
    boss.evaluate("window.__sameDocument = true")
    card(boss, "Hongqiao Mart").get_by_role("button", name="Approve").click()
    expect(card(boss, "Hongqiao Mart").locator(".queue-verdict")).to_contain_text("Approved ✓")
    rejecting = card(boss, "Jing'an Corner")
    rejecting.locator("summary", has_text="Reject").click()
    rejecting.locator("select[name=reason]").select_option("not_in_place")
    rejecting.locator("textarea[name=note]").fill("堆头没有搭好，请补拍")
    rejecting.locator("form button", has_text="Reject").click()
    expect(card(boss, "Jing'an Corner").locator(".queue-verdict")).to_contain_text(
        "Rejected: Display or material not in place")
    assert boss.evaluate("window.__sameDocument === true"), "a verdict reloaded the page"
    keep_shot(boss, "activity-flow-queue-decided")

    # The rep reads why, and the way to add evidence.
    rep = new_page()
    grant_geolocation(rep, *samples.SHOP, accuracy=9)
    login(rep, live_server, org.rep.login, PASSWORD)
    rep.goto("/activities/mine")
    rejected = rep.locator(".evidence-store", has_text="Jing'an Corner")
    expect(rejected.locator("[data-rejection]")).to_contain_text("Rejected: Display or material not in place")
    expect(rejected.locator("[data-rejection]")).to_contain_text("堆头没有搭好，请补拍")
    expect(rep.locator(".evidence-store", has_text="Hongqiao Mart").locator(".badge")).to_have_text("Verified")
    assert no_horizontal_overflow(rep)
    keep_shot(rep, "activity-flow-rep-rejected")

    # … checks in at the store, shoots a new photo in the promotion step and sends it as evidence.
    rejected.get_by_role("link", name="Check in to add evidence").click()
    rep.wait_for_url(f"**/stores/{jingan.id}/checkin")
    vtype("promotion")
    rep.locator("select[name=visit_type]").select_option(label="Promotion execution")
    rep.get_by_role("button", name="Check in here").click()
    rep.wait_for_url(re.compile(r"/visits/\d+$"))
    visit_id = int(rep.url.rsplit("/", 1)[1])
    step = next(s for s in vtype("promotion").steps if s.kind == StepKind.PHOTO)
    step_card = rep.locator(f"#step-{step.id}")
    step_card.locator("input[data-photo-input=camera]").set_input_files(
        {"name": "IMG_0043.jpg", "mimeType": "image/jpeg", "buffer": good_jpeg(seed=43)})
    # The step's own grid: the evidence box below it already shows this period's earlier photo.
    expect(step_card.locator("[data-photo-grid] .photo-tile[id^=photo-]")).to_have_count(1, timeout=20_000)
    # What the step's "Save as evidence" button sends (activities/_visit_evidence.html).
    token = rep.locator("meta[name=csrf-token]").get_attribute("content")
    sent = rep.request.post(f"{live_server}/activities/evidence", headers={"Accept": "application/json"}, form={
        "csrf_token": token, "activity_store_id": str(line_j.id), "visit_id": str(visit_id),
        "step_id": str(step.id), "check": "堆头已搭好"})
    assert sent.status == 201 and sent.json()["bound"] == 1
    rep.goto("/activities/mine")
    waiting = rep.locator(".evidence-store", has_text="Jing'an Corner")
    expect(waiting.locator(".evidence-item .badge")).to_have_text("Awaiting review")
    expect(waiting.locator("[data-rejection]")).to_contain_text("New evidence sent; waiting for the review.")
    keep_shot(rep, "activity-flow-rep-resent")

    # The supervisor sees the store again, the new photo marked, and approves it.
    boss.goto("/activities/queue")
    again = card(boss, "Jing'an Corner")
    expect(boss.locator("article.queue-item")).to_have_count(1)
    expect(again.locator(".queue-standing")).to_contain_text("New evidence since.")
    expect(again.locator(".queue-mark.new")).to_have_count(1)
    expect(again.locator(".queue-checklist .no")).to_contain_text("价签可见")
    keep_shot(boss, "activity-flow-queue-resent")
    again.get_by_role("button", name="Approve").click()
    expect(card(boss, "Jing'an Corner").locator(".queue-verdict")).to_contain_text("Approved ✓")
    db.session.expire_all()
    assert [r.verdict for r in db.session.execute(select(Review).order_by(Review.id)).scalars()] == [
        "approved", "rejected", "approved"]

    # The manager's list: two verified periods of four due.
    manager.goto("/activities")
    expect(compliance_of(manager, "春节堆头陈列")).to_have_text(re.compile(r"50\.0 %\s*\(2/4\)"))
    keep_shot(manager, "activity-flow-manager")


# --- the queue at both widths, both languages; the desk's keys ------------------------------------

def _queue_data(app, org):
    stores = [make_store(rep=rep, name=name, lat=samples.SHOP[0], lng=samples.SHOP[1])
              for rep, name in ((org.rep, "Hongqiao Mart 虹桥店"), (org.rep, "Jing'an Corner"),
                                (org.teammate, "Xujiahui Superstore 徐家汇大卖场"))]
    activity = running_activity(org, stores)
    first, second, third = activity.stores
    shoot(app, org.rep, first, seed=51, days_ago=8)  # an approved photo of an earlier period, for comparison
    with app.test_request_context():
        from field.activities import queue, reviews
        item = queue.one(first, 0, company_today(), org.supervisor)
        reviews.record(item, "approved", org.supervisor, seen_review=0, seen_evidence=item.newest)
        db.session.commit()
    shoot(app, org.rep, first, seed=52)
    shoot(app, org.rep, second, seed=53, gps=ELSEWHERE, checklist={"堆头已搭好": True, "价签可见": False})
    shoot(app, org.teammate, third, seed=54)


def test_the_queue_fits_phone_and_desk_in_both_languages(app, new_page, live_server, org):
    _queue_data(app, org)
    for lang in ("en", "zh_CN"):
        org.supervisor.locale = lang
        db.session.commit()
        for width, options in (("phone", {}), ("desk", DESK)):
            page = login(new_page(**options), live_server, org.supervisor.login, PASSWORD)
            page.goto("/activities/queue")
            expect(page.locator("article.queue-item")).to_have_count(3)
            expect(page.locator(".queue-reference img").first).to_have_js_property("complete", True)
            assert no_horizontal_overflow(page), (lang, width)
            # The flagged store comes first.
            expect(page.locator("article.queue-item").first).to_contain_text("Jing'an Corner")
            if width == "phone":
                for button in page.locator(".queue-actions .btn:visible, .queue-bulk .btn").all():
                    box = button.bounding_box()
                    assert box["height"] >= MIN_TAP and box["width"] >= MIN_TAP, (lang, button.inner_text())
            keep_shot(page, f"queue-{width}-{lang}")
            first = page.locator("article.queue-item").first
            first.locator("summary.btn-danger").click()
            keep_shot(page, f"queue-{width}-{lang}-reject", full_page=False)


def test_the_desk_keys_move_approve_and_reject(app, new_page, live_server, org):
    _queue_data(app, org)
    page = login(new_page(**DESK), live_server, org.supervisor.login, PASSWORD)
    page.goto("/activities/queue")
    expect(page.locator(".queue-keys")).to_be_visible()
    items = page.locator("article.queue-item")
    page.keyboard.press("j")
    expect(items.nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("k")
    page.keyboard.press("j")
    approved_id = items.nth(1).get_attribute("id")
    page.keyboard.press("a")
    expect(page.locator(f"#{approved_id} .queue-verdict")).to_contain_text("Approved ✓")
    expect(items.nth(2)).to_be_focused()  # the next open item takes over
    page.keyboard.press("r")
    reject = items.nth(2).locator("select[name=reason]")
    expect(reject).to_be_focused()
    page.keyboard.press("Escape")
    expect(items.nth(2).locator("details.queue-reject")).not_to_have_attribute("open", "")
    db.session.expire_all()
    assert db.session.execute(select(Review).order_by(Review.id.desc())).scalars().first().verdict == "approved"


def test_verdicts_given_in_place_keep_the_counts_and_the_bulk_button_true(app, new_page, live_server, org):
    _queue_data(app, org)
    page = login(new_page(**DESK), live_server, org.supervisor.login, PASSWORD)
    page.goto("/activities/queue")
    to_review = page.locator("#queue-counts a").first
    expect(to_review).to_have_attribute("data-count", "3")
    bulk = page.locator(".queue-bulk")
    expect(bulk.locator("[data-bulk-count]")).to_have_text("2")  # the two items without flags
    clean = [item.get_attribute("id") for item in page.locator("article.queue-item:has([data-bulk])").all()]
    for item_id, left in zip(clean, ("2", "1")):
        page.locator(f"#{item_id} .queue-approve button").click()
        expect(page.locator(f"#{item_id} .queue-verdict")).to_contain_text("Approved ✓")
        expect(to_review).to_have_attribute("data-count", left)
    # Nothing ticked is left to approve in bulk: the button goes, rather than answer "tick something".
    expect(bulk).to_be_hidden()
