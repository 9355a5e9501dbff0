"""The outbox on a phone (static/js/outbox.js): what a rep does without a network is kept on the phone
(IndexedDB) and sent once, in order, when the network is back; a refusal stays listed with its reason.

Two kinds of cut: the server itself stopped (a restartable live server of this module, on a fixed
port: the browser's offline switch does not cover everything, e.g. a service worker's own fetches),
and the browser's offline switch or Playwright's page.route failing the requests. Rows are counted
in the database to prove that nothing is lost and nothing doubled.

FIELD_SHOT_DIR=/some/dir keeps phone-size screenshots of the counter and the list (en and zh-CN)."""
import os
import random
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from field.extensions import db
from field.photos.models import Photo
from field.visits import operations as ops
from field.visits.models import FollowUp, StepResult, Visit, VisitStatus
from tests.browser.conftest import MIN_TAP, grant_geolocation, keep_shot, login, no_horizontal_overflow
from tests.browser.offline_windows import OfflineWindows
from tests.browser.servers import Server
from tests.factories import PASSWORD
from tests.fixtures import photos as samples
from tests.fixtures.photos import visit_in_progress

STEP_URL = r"**/visits/*/steps/*"


@pytest.fixture
def server(app):
    s = Server(app)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def open_visit(new_page, server):
    """open_visit(rep, visit, locale=...) → a phone page signed in as `rep` on the visit, outbox running."""
    def go(rep, visit, locale=None):
        page = new_page(locale=locale, base_url=server.url)
        grant_geolocation(page, *samples.SHOP, accuracy=9)
        login(page, server.url, rep.login, PASSWORD)
        page.goto(f"/visits/{visit.id}")
        page.wait_for_function("() => window.fieldOutbox !== undefined")
        return page
    return go


def step_card(page, title: str):
    return page.locator("section.step").filter(has=page.locator(".step-title", has_text=title))


def step_of(visit, title_en: str):
    return next(s for s in visit.visit_type.steps if s.title_en == title_en)


def summary_text(visit) -> str | None:
    db.session.expire_all()
    row = db.session.execute(select(StepResult).where(
        StepResult.visit_id == visit.id, StepResult.step_id == step_of(visit, "Visit summary").id)).scalar_one_or_none()
    return row.value.get("text") if row is not None and row.value else None


def rows(model, visit) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(model).where(model.visit_id == visit.id)).scalar_one()


def counter(page):
    return page.locator("#outbox-status")


def drained(page, timeout=15_000):
    """Wait until the outbox holds nothing (every item answered)."""
    deadline = time.monotonic() + timeout / 1000
    while page.evaluate("fieldOutbox.list().then(items => items.length)"):
        assert time.monotonic() < deadline, (page.evaluate("fieldOutbox.state()"), page.evaluate(
            "fieldOutbox.list().then(items => items.map(i => [i.url, i.state, i.error, i.attempts]))"))
        page.wait_for_timeout(100)


def show_list(page):
    """The /outbox page's container (the page itself belongs to the app shell): filled from IndexedDB."""
    page.evaluate("""() => { if (!document.getElementById('outbox-list')) {
        document.querySelector('main').insertAdjacentHTML('afterbegin', '<div id="outbox-list"></div>'); }
        return fieldOutbox.changed(); }""")
    return page.locator("#outbox-list")


def ack_ms(page, button) -> float:
    """Milliseconds from the tap on `button` to an acknowledgement on screen."""
    return button.evaluate("""(b) => new Promise(ok => {
        const form = b.form, t0 = performance.now();
        b.click();
        const look = () => { const a = form.isConnected && form.querySelector('.outbox-ack');
            if (a && a.textContent.trim()) ok(performance.now() - t0); else requestAnimationFrame(look); };
        look(); })""")


# --- a step saved with the server down ------------------------------------------------------------

def test_a_step_saved_with_the_server_down_is_kept_on_the_phone_and_sent_once(open_visit, server, org):
    visit = visit_in_progress(org.rep)
    page = open_visit(org.rep, visit)
    summary = step_card(page, "Visit summary")
    summary.locator("textarea[name=text]").fill("Shelf moved to aisle 3")

    server.stop()
    elapsed = ack_ms(page, summary.get_by_role("button", name="Save step"))
    assert elapsed <= 100, f"acknowledged after {elapsed:.0f} ms"
    expect(summary.locator(".outbox-ack")).to_have_text("Saved on the phone. It will be sent when there is a network.")
    expect(counter(page)).to_be_visible()
    expect(counter(page).locator(".outbox-count")).to_have_text("1")
    expect(summary.locator("textarea[name=text]")).to_have_value("Shelf moved to aisle 3")
    assert summary_text(visit) is None

    # The server is back but the step's posts still fail: a reload (the app opened again) keeps the item.
    server.start()
    page.route(STEP_URL, lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    page.reload()
    page.wait_for_function("() => window.fieldOutbox !== undefined")
    expect(counter(page).locator(".outbox-count")).to_have_text("1")
    listed = show_list(page).locator(".outbox-item")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Visit summary")
    expect(listed.locator(".outbox-state")).to_have_text("Waiting to send")
    assert summary_text(visit) is None

    # The network is back: sent once, in place, and the counter goes.
    page.unroute(STEP_URL)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    drained(page)
    expect(counter(page)).to_be_hidden()
    expect(page.locator("#outbox-list .outbox-empty")).to_be_visible()
    assert summary_text(visit) == "Shelf moved to aisle 3"
    assert rows(StepResult, visit) == 1


def test_a_refused_replay_shows_its_reason_and_stays_listed_until_discarded(open_visit, server, org):
    visit = visit_in_progress(org.rep)
    page = open_visit(org.rep, visit)
    summary = step_card(page, "Visit summary")
    summary.locator("textarea[name=text]").fill("Owner away")
    page.context.set_offline(True)
    summary.get_by_role("button", name="Save step").click()
    expect(summary.locator(".outbox-ack")).to_contain_text("Saved on the phone")

    # Meanwhile the supervisor's side: the visit is cancelled. The replay is refused (4xx).
    ops.cancel(db.session.get(Visit, visit.id), org.rep, "Store closed")
    db.session.commit()
    page.context.set_offline(False)
    listed = show_list(page).locator(".outbox-item")
    expect(listed.locator(".outbox-state")).to_have_text("Not accepted")
    expect(listed.locator(".outbox-error")).not_to_be_empty()
    expect(counter(page)).to_have_class("outbox-status outbox-refused")
    expect(counter(page).locator(".outbox-count")).to_have_text("1")
    reason = listed.locator(".outbox-error").text_content()
    assert "HTTP" not in reason, reason  # the server's own words

    # Still there after a reload, with its reason; discarded only by the rep.
    page.reload()
    page.wait_for_function("() => window.fieldOutbox !== undefined")
    listed = show_list(page).locator(".outbox-item")
    expect(listed.locator(".outbox-error")).to_have_text(reason)
    listed.get_by_role("button", name="Discard").click()
    expect(listed).to_have_count(0)
    expect(counter(page)).to_be_hidden()
    assert summary_text(visit) is None


# --- check-out saves what was typed first ---------------------------------------------------------

def _ready_to_check_out(rep):
    visit = visit_in_progress(rep)
    ops.skip_step(visit, step_of(visit, "Store check").id, "Not today", rep)
    db.session.commit()
    return visit


def test_a_step_typed_then_a_tab_tapped_is_saved_before_the_page_goes(open_visit, server, org):
    visit = visit_in_progress(org.rep)
    page = open_visit(org.rep, visit)
    step_card(page, "Visit summary").locator("textarea[name=text]").fill("Typed, then off to Today")
    page.locator("nav.bottomnav a[href='/today']").click()
    page.wait_for_url("**/today")
    drained(page)
    assert summary_text(visit) == "Typed, then off to Today"
    # Offline too: the typed step is kept on the phone before the page goes.
    page.goto(f"/visits/{visit.id}")
    summary = step_card(page, "Visit summary")
    summary.locator("details.step-edit > summary").click()  # a saved step opens its form with "Change"
    summary.locator("textarea[name=text]").fill("Typed offline")
    server.stop()
    page.locator("nav.bottomnav a[href='/today']").click()
    page.wait_for_url("**/today")
    assert page.evaluate("fieldOutbox.list().then(items => items.length)") == 1
    server.start()
    page.evaluate("fieldOutbox.retryNow()")
    drained(page)
    assert summary_text(visit) == "Typed offline"


def test_a_typed_step_then_check_out_saves_the_step_first(open_visit, org):
    visit = _ready_to_check_out(org.rep)
    page = open_visit(org.rep, visit)
    step_card(page, "Visit summary").locator("textarea[name=text]").fill("Talked to the owner")
    page.locator("#checkout").get_by_role("button", name="Check out").click()
    page.wait_for_url(lambda url: f"/visits/{visit.id}" not in url or "checkout" not in url)
    expect(page.locator(".flash, .visit-completed, body")).not_to_have_count(0)
    page.wait_for_function("() => !document.querySelector('#checkout')")
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == VisitStatus.COMPLETED
    assert summary_text(visit) == "Talked to the owner"


def test_check_out_stops_when_a_typed_step_is_refused(open_visit, org):
    visit = _ready_to_check_out(org.rep)
    ops.save_step(visit, step_of(visit, "Visit summary").id, MultiDict({"text": "first"}), org.rep)
    db.session.commit()
    # Store check is skipped; un-skip it on the page by typing a checklist with one item left out.
    page = open_visit(org.rep, visit)
    check = step_card(page, "Store check")
    check.locator("summary", has_text="Change").click() if check.locator("details.step-edit").count() else None
    picks = check.locator("label.pick-yes")
    picks.first.click()
    page.locator("#checkout").get_by_role("button", name="Check out").click()
    expect(page.locator("#checkout .checkout-blocked")).to_have_text(
        "A step was not saved. Look at it before checking out.")
    expect(check.locator(".error").first).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == VisitStatus.IN_PROGRESS


def test_an_offline_check_out_is_queued_after_the_typed_step_and_the_rep_is_back_on_today(open_visit, org):
    visit = _ready_to_check_out(org.rep)
    page = open_visit(org.rep, visit)
    # The rep's day was kept on the phone when Today loaded online (the service worker).
    page.goto("/today")
    page.wait_for_function("() => document.documentElement.dataset.offlineDay === 'ready'", timeout=30_000)
    page.goto(f"/visits/{visit.id}")
    page.wait_for_function("() => window.fieldOutbox !== undefined")
    step_card(page, "Visit summary").locator("textarea[name=text]").fill("Counted twice")
    page.context.set_offline(True)
    page.locator("#checkout").get_by_role("button", name="Check out").click()
    # Checked out on the phone: back on Today (kept on the phone), both writes waiting in order.
    page.wait_for_url("**/today")
    expect(counter(page).locator(".outbox-count")).to_have_text("2")
    items = page.evaluate("fieldOutbox.list().then(items => items.map(i => i.url))")
    assert items[0].endswith(f"/steps/{step_of(visit, 'Visit summary').id}") and items[1].endswith("/checkout")
    assert page.evaluate("fieldOutbox.list().then(items => items.every(i => i.fields.some(f => f[0] === 'phone_at')))")

    page.context.set_offline(False)
    drained(page)
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == VisitStatus.COMPLETED
    assert summary_text(visit) == "Counted twice"


# --- photos ---------------------------------------------------------------------------------------

def _pick_photo(page, card, tmp_path, seed):
    path = tmp_path / f"IMG_{seed:04d}.jpg"
    path.write_bytes(samples.jpeg(seed, size=(640, 480)))
    card.locator("input[data-photo-input=camera]").set_input_files(str(path))


def test_a_photo_taken_offline_waits_on_the_phone_survives_a_reload_and_is_sent_later(open_visit, org, tmp_path):
    visit = visit_in_progress(org.rep)
    page = open_visit(org.rep, visit)
    card = step_card(page, "Storefront and shelf photos")

    page.context.set_offline(True)
    _pick_photo(page, card, tmp_path, 31)
    waiting = card.locator(".photo-tile.photo-waiting")
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".photo-status")).to_have_text("No connection. It stays here until it is sent.")
    expect(counter(page).locator(".outbox-count")).to_have_text("1")

    # Online but its uploads failing: a reload brings the tile back from the phone.
    page.route("**/photos", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    page.context.set_offline(False)
    page.reload()
    page.wait_for_function("() => window.fieldOutbox !== undefined")
    expect(card.locator(".photo-tile.photo-waiting")).to_have_count(1)
    assert card.locator(".photo-tile.photo-waiting img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert rows(Photo, visit) == 0

    page.unroute("**/photos")
    page.evaluate("fieldOutbox.retryNow()")
    expect(card.locator(".photo-tile[id^=photo-]")).to_have_count(1)
    expect(card.locator(".photo-tile.photo-pending")).to_have_count(0)
    expect(card.locator("[data-photo-have]")).to_have_text("1")
    drained(page)
    assert rows(Photo, visit) == 1


# --- randomized offline windows -------------------------------------------------------------------

def test_fifty_random_offline_windows_lose_nothing_and_double_nothing(open_visit, server, org, tmp_path):
    """A scripted visit: text saves, follow-ups and photos, through 50 offline windows cut at random by
    the server stopping, the browser's offline switch or failed requests (tests/browser/offline_windows.py).
    At the end the rows are exactly what the rep did. Kept under a minute."""
    seed = int(os.environ.get("FIELD_OUTBOX_SEED") or random.randrange(1 << 30))
    visit = visit_in_progress(org.rep)
    page = open_visit(org.rep, visit)
    started = time.monotonic()
    # A failure names its seed: FIELD_OUTBOX_SEED=<seed> plays it again.
    windows = OfflineWindows(page, server, random.Random(seed), tmp_path)
    windows.run(50, most_taps=2, pause_ms=60)
    drained(page, timeout=30_000)

    assert summary_text(visit) == windows.last_text, f"seed {seed}"
    assert rows(Photo, visit) == windows.taps["photo"], f"seed {seed}"
    assert rows(FollowUp, visit) == windows.taps["follow_up"], f"seed {seed}"
    expect(counter(page)).to_be_hidden()
    assert time.monotonic() - started < 60, f"seed {seed}: the 50 windows must take under a minute"


# --- the counter and the list at phone size -------------------------------------------------------

@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_counter_and_the_list_fit_a_phone(open_visit, org, locale):
    org.rep.locale = "zh_CN" if locale == "zh-CN" else "en"
    db.session.commit()
    visit = visit_in_progress(org.rep)
    page = open_visit(org.rep, visit, locale=locale)
    page.context.set_offline(True)
    summary = page.locator(f"#step-{step_of(visit, 'Visit summary').id}")
    summary.locator("textarea[name=text]").fill("门店老板不在，下周二再来" if locale == "zh-CN" else "Owner away until Tuesday")
    summary.locator("button[type=submit]").first.click()
    expect(counter(page).locator(".outbox-count")).to_have_text("1")
    box = counter(page).bounding_box()
    assert box["height"] >= MIN_TAP and box["width"] >= MIN_TAP
    ack = summary.locator(".outbox-ack")
    expect(ack).to_have_text("已保存在手机上，有网络时会自动发送。" if locale == "zh-CN"
                             else "Saved on the phone. It will be sent when there is a network.")
    assert no_horizontal_overflow(page)
    summary.scroll_into_view_if_needed()
    keep_shot(page, f"outbox-visit-{locale}", full_page=False)

    listed = show_list(page)
    page.evaluate("window.scrollTo(0, 0)")
    expect(listed.locator(".outbox-item")).to_have_count(1)
    for button in listed.locator("button").all():
        b = button.bounding_box()
        assert b["height"] >= MIN_TAP, button.text_content()
    assert no_horizontal_overflow(page)
    keep_shot(page, f"outbox-list-{locale}", full_page=False)
    page.context.set_offline(False)


# --- the outbox outlives the browser and the service worker ----------------------------------------

def test_the_outbox_survives_closing_the_browser_and_a_service_worker_update(
        playwright_driver, phone, server, org, tmp_path, monkeypatch):
    from field.app_shell import views as shell
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    visit = visit_in_progress(org.rep)
    profile = tmp_path / "phone-profile"  # a real profile on disk, as a phone keeps it

    def open_phone():
        context = playwright_driver.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, locale="en",
            base_url=server.url, **phone)
        return context, context.pages[0] if context.pages else context.new_page()

    context, page = open_phone()
    grant_geolocation(page, *samples.SHOP, accuracy=9)
    login(page, server.url, org.rep.login, PASSWORD)
    page.goto(f"/visits/{visit.id}")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null || "
                           "navigator.serviceWorker.ready.then(() => false)", timeout=30_000)
    first_caches = page.evaluate("caches.keys()")
    summary = step_card(page, "Visit summary")
    summary.locator("textarea[name=text]").fill("Kept across a restart")
    server.stop()
    summary.get_by_role("button", name="Save step").click()
    expect(counter(page).locator(".outbox-count")).to_have_text("1")
    context.close()  # the browser is closed with the item still waiting

    # A new release meanwhile: the worker's source changes, so its version (and cache names) do too.
    original = shell._worker_source
    monkeypatch.setattr(shell, "_worker_source", lambda: original() + "\n// a new release\n")
    server.start()
    context, page = open_phone()
    login(page, server.url, org.rep.login, PASSWORD)  # the browser forgot its session, not the outbox
    page.wait_for_function("() => window.fieldOutbox !== undefined")
    page.evaluate("fieldOutbox.retryNow()")
    drained(page)
    assert summary_text(visit) == "Kept across a restart"
    page.wait_for_function(f"() => caches.keys().then(k => k.some(n => n.startsWith('field-static-') "
                           f"&& !{first_caches!r}.includes(n)))", timeout=30_000)
    context.close()


def sign_out(page):
    """The profile page's sign-out button, from whatever page is open."""
    page.evaluate("""() => { const f = document.createElement('form'); f.method = 'post'; f.action = '/logout';
        f.innerHTML = '<input name="csrf_token" value="' + document.querySelector('meta[name=csrf-token]').content + '">';
        document.body.append(f); f.submit(); }""")
    page.wait_for_url("**/login**")


def test_what_one_rep_left_waiting_is_neither_shown_nor_sent_for_the_next_rep_on_the_same_phone(
        open_visit, server, org):
    visit = visit_in_progress(org.rep)
    page = open_visit(org.rep, visit)
    summary = step_card(page, "Visit summary")
    summary.locator("textarea[name=text]").fill("Mine, not my teammate's")
    page.route("**/visits/**", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    summary.get_by_role("button", name="Save step").click()
    expect(counter(page).locator(".outbox-count")).to_have_text("1")
    page.unroute("**/visits/**")
    sign_out(page)

    login(page, server.url, org.teammate.login, PASSWORD)
    page.wait_for_function("() => window.fieldOutbox !== undefined")
    page.evaluate("fieldOutbox.retryNow()")
    assert page.evaluate("fieldOutbox.list().then(items => items.length)") == 0
    expect(counter(page)).to_be_hidden()
    assert summary_text(visit) is None  # not sent under the teammate's session

    sign_out(page)
    login(page, server.url, org.rep.login, PASSWORD)
    page.wait_for_function("() => window.fieldOutbox !== undefined")
    page.evaluate("fieldOutbox.retryNow()")
    drained(page)
    assert summary_text(visit) == "Mine, not my teammate's"
