"""A whole visit done in airplane mode — check-in, steps, a photo, an order, a follow-up, check-out — ends,
once synced, as the same visit done online: the same status, step results, photos, sales, follow-up and
flags, nothing doubled, the check-in and check-out at the phone's taps.

The rep loads Today online (the service worker keeps the day, the planned visit's page with it), opens
the planned visit, then the phone goes into airplane mode: the browser's offline switch AND the server
stopped (the switch may not cover the worker's own fetches). The planned visit's page carries the
visit's forms, hidden until check-in (templates/visits/visit.html); the outbox keeps the check-in and
visits.js shows them. The same visit is then done online by a teammate, and the two compared.

FIELD_SHOT_DIR=/some/dir keeps phone-size screenshots (zh-CN) of the visit checked in on the phone."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from field.core import now
from field.extensions import db
from field.photos.models import Photo
from field.sales.models import Sale
from field.visits import planning
from field.visits.models import FollowUp, StepResult, Visit, VisitStatus
from tests.browser.conftest import MIN_TAP, grant_geolocation, keep_shot, login, no_horizontal_overflow
from tests.browser.test_outbox import drained, server  # noqa: F401 (server: the restartable live server)
from tests.factories import PASSWORD, make_product, make_store, make_visit
from tests.fixtures import photos as samples

pytestmark = pytest.mark.usefixtures("builtin_types")

SLACK = timedelta(seconds=3)  # a tap on the phone and the clock read by the test around it


@pytest.fixture
def stores(org):
    """A product to order, and a routine visit planned today for the rep and for a teammate, each at a
    store of their own at the same place (the phone stands at the door)."""
    product = make_product(name="Oolong 500ml", unit_price=450)
    out = {}
    for who in (org.rep, org.teammate):
        store = make_store(rep=who, lat=samples.SHOP[0], lng=samples.SHOP[1], name=f"Corner shop of {who.name}")
        out[who.id] = make_visit(who, store, planned_for=planning.local_today(who))
    return SimpleNamespace(product=product, visits=out)


def step_card(page, title: str):
    return page.locator("section.step").filter(has=page.locator(".step-title", has_text=title))


def open_planned_visit(new_page, server, rep, visit, locale=None):
    """Today online first: the worker keeps the day (the planned visit's page with it); then the visit."""
    page = new_page(locale=locale, base_url=server.url)
    grant_geolocation(page, *samples.SHOP, accuracy=9)
    login(page, server.url, rep.login, PASSWORD)
    page.goto("/today")
    page.wait_for_function("() => document.documentElement.dataset.offlineDay === 'ready'", timeout=30_000)
    page.goto(f"/visits/{visit.id}")
    page.wait_for_function("() => window.fieldOutbox !== undefined")
    # Planned: the check-in, and the visit's forms on the page but hidden until check-in.
    expect(page.locator("#checkin")).to_be_visible()
    expect(page.locator(".step-form").first).to_be_hidden()
    expect(page.locator("#checkout")).to_be_hidden()
    return page


def airplane_mode(page, server, on: bool):
    if on:
        page.context.set_offline(True)
        server.stop()
    else:
        server.start()
        page.context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")


def tap(page, locator):
    """Tap and return (the clock just before, just after): the phone's time of the tap lies between."""
    before = now()
    locator.click()
    return before, now()


def check_in(page, offline: bool):
    at = tap(page, page.locator("#checkin").get_by_role("button", name="Check in here"))
    if offline:
        expect(page.locator(".visit[data-visit-state=phone]")).to_have_count(1)
        expect(page.locator(".phone-checkin")).to_contain_text("Checked in on the phone at")
        expect(page.locator("#checkin")).to_be_hidden()
        expect(page.locator("#visit-head .badge-status-in_progress")).to_have_text("in progress")
    else:
        expect(page.locator(".visit.visit-in_progress")).to_have_count(1)
    expect(step_card(page, "Store check").locator(".step-form")).to_be_visible()
    return at


def save(card, offline: bool):
    card.get_by_role("button", name="Save step").click()
    if offline:
        expect(card.locator(".outbox-ack")).to_have_text("Saved on the phone. It will be sent when there is a network.")
    else:
        expect(card.locator(".step-head.step-done")).to_have_count(1)


def do_the_steps(page, offline: bool):
    check = step_card(page, "Store check")
    for label in check.locator("label.pick-yes").all():
        label.click()
    check.locator("input[name=note-1]").fill("Price tag faded")
    save(check, offline)

    summary = step_card(page, "Visit summary")
    summary.locator("textarea[name=text]").fill("Owner wants more end-caps")
    save(summary, offline)

    order = step_card(page, "Order")
    order.locator("select[name=sku]").first.select_option(index=1)
    order.locator("input[name=quantity]").first.fill("12")
    save(order, offline)

    goal = page.locator("#check .objective").first
    goal.locator("label.pick-yes").click()
    goal.locator("input[name=note]").fill("End-cap full")
    goal.get_by_role("button", name="Save").click()
    if offline:
        expect(goal.locator(".outbox-ack")).to_contain_text("Saved on the phone")
    else:
        expect(page.locator("#check .objective.met")).to_have_count(1)


def take_photo(page, tmp_path, seed: int, offline: bool):
    card = step_card(page, "Storefront and shelf photos")
    path = tmp_path / f"IMG_{seed:04d}.jpg"
    path.write_bytes(samples.jpeg(seed, size=(640, 480)))
    card.locator("input[data-photo-input=camera]").set_input_files(str(path))
    if offline:
        expect(card.locator(".photo-tile.photo-waiting")).to_have_count(1)
    else:
        expect(card.locator(".photo-tile[id^=photo-]")).to_have_count(1)


def add_follow_up(page, offline: bool):
    form = page.locator("#act form.followup-form")
    form.locator("textarea[name=text]").fill("Bring the new end-cap stand")
    form.get_by_role("button", name="Add follow-up").click()
    if offline:
        expect(form.locator(".outbox-ack")).to_contain_text("Saved on the phone")
    else:
        expect(page.locator("#act .followups")).to_contain_text("Bring the new end-cap stand")


def check_out(page):
    at = tap(page, page.locator("#checkout").get_by_role("button", name="Check out"))
    page.wait_for_url("**/today")  # online by the server's redirect; offline by visits.js, from the phone
    return at


def rows(model, visit) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(model.visit_id == visit.id)).scalar_one()


def end_state(visit) -> dict:
    """What a supervisor and the reports see of a visit, without what differs between two visits anyway
    (ids, times, store, rep)."""
    db.session.expire_all()
    v = db.session.get(Visit, visit.id)
    results = db.session.execute(select(StepResult).where(StepResult.visit_id == v.id)).scalars().all()
    follow_ups = db.session.execute(select(FollowUp).where(FollowUp.visit_id == v.id)).scalars().all()
    sales = db.session.execute(select(Sale).where(Sale.visit_id == v.id)).scalars().all()
    return {
        "status": v.status,
        "flags": sorted(f["code"] for f in v.flags or []),
        "results": {r.step.title_en: (r.status, r.value) for r in results},
        "result_rows": len(results),
        "photos": rows(Photo, v),
        "follow_ups": [(f.text, f.owner_id == v.rep_id, f.due_on, f.status) for f in follow_ups],
        "sales": sorted((s.product_id, s.quantity, s.amount, s.source) for s in sales),
        "objectives": [(o.source, o.text, o.met, o.note) for o in sorted(v.objectives, key=lambda o: o.id)],
        "checkin_distance_m": round(v.checkin_distance_m or 0),
    }


def assert_times(visit, checked_in, checked_out):
    db.session.expire_all()
    v = db.session.get(Visit, visit.id)
    assert checked_in[0] - SLACK <= v.checkin_at <= checked_in[1] + SLACK, (v.checkin_at, checked_in)
    assert checked_out[0] - SLACK <= v.checkout_at <= checked_out[1] + SLACK, (v.checkout_at, checked_out)
    return v


def test_a_visit_done_in_airplane_mode_ends_as_the_same_visit_done_online(new_page, server, org, stores, tmp_path):
    # --- in airplane mode --------------------------------------------------------------------------------
    offline_visit = stores.visits[org.rep.id]
    page = open_planned_visit(new_page, server, org.rep, offline_visit)
    airplane_mode(page, server, True)
    checked_in = check_in(page, offline=True)
    # The dwell line counts from the phone's check-in: the whole minimum is left.
    expect(page.locator("#checkout .dwell")).to_have_text(
        "10 min left to this visit's minimum time in the store (10 min).")
    do_the_steps(page, offline=True)

    # A reload offline: the kept page, still checked in on the phone, the steps as they were saved.
    page.reload()
    page.wait_for_function("() => window.fieldOutbox !== undefined")
    expect(page.locator(".visit[data-visit-state=phone]")).to_have_count(1)
    expect(step_card(page, "Visit summary").locator("textarea[name=text]")).to_have_value("Owner wants more end-caps")
    expect(step_card(page, "Store check").locator(".outbox-ack")).to_be_visible()
    expect(page.locator("#outbox-status .outbox-count")).to_have_text("5")
    expect(page.locator("#check .objective").first.locator("input[name=note]")).to_have_value("End-cap full")
    expect(page.locator("#checkout .dwell")).to_contain_text("min left to this visit's minimum time")

    take_photo(page, tmp_path, seed=41, offline=True)
    add_follow_up(page, offline=True)
    checked_out = check_out(page)
    items = page.evaluate("fieldOutbox.list().then(items => items.map(i => [i.url, i.state]))")
    kinds = [url.rsplit("/", 2)[-2] if "/steps/" in url and url.endswith("/photos") else url.rsplit("/", 1)[-1]
             for url, _state in items]
    assert kinds[0] == "checkin" and kinds[-2:] == ["followups", "checkout"] and len(kinds) == 8, items
    assert all(state in ("pending", "sending") for _url, state in items), items  # tried, nothing refused
    db.session.expire_all()
    assert db.session.get(Visit, offline_visit.id).status == VisitStatus.PLANNED  # nothing reached the server

    # The network is back: everything is sent, in order, once.
    airplane_mode(page, server, False)
    drained(page, timeout=30_000)
    expect(page.locator("#outbox-status")).to_be_hidden()
    v = assert_times(offline_visit, checked_in, checked_out)
    assert v.checkin_received_at >= v.checkin_at and v.checkout_received_at >= v.checkout_at

    # --- the same visit, online --------------------------------------------------------------------------
    online_visit = stores.visits[org.teammate.id]
    page = open_planned_visit(new_page, server, org.teammate, online_visit)
    checked_in = check_in(page, offline=False)
    do_the_steps(page, offline=False)
    take_photo(page, tmp_path, seed=42, offline=False)
    add_follow_up(page, offline=False)
    checked_out = check_out(page)
    drained(page)
    assert_times(online_visit, checked_in, checked_out)

    # --- the same end -------------------------------------------------------------------------------------
    offline, online = end_state(offline_visit), end_state(online_visit)
    assert offline == online
    assert offline["status"] == VisitStatus.COMPLETED
    assert offline["flags"] == ["short_dwell"]  # a visit of a minute: the timing explains it, nothing else
    assert offline["result_rows"] == 3 and offline["photos"] == 1 and len(offline["follow_ups"]) == 1
    assert offline["results"]["Visit summary"] == ("done", {"text": "Owner wants more end-caps"})
    assert offline["sales"] == [(stores.product.id, 12, 5400, "visit")]
    assert [o[2:] for o in offline["objectives"]] == [(True, "End-cap full"), (None, "")]
    assert db.session.execute(select(func.count()).select_from(Visit)).scalar_one() == 2  # no visit made twice


@pytest.mark.parametrize("locale", ["zh-CN"])
def test_a_visit_checked_in_on_the_phone_fits_a_phone(new_page, server, org, stores, locale):
    org.rep.locale = "zh_CN"
    db.session.commit()
    visit = stores.visits[org.rep.id]
    page = open_planned_visit(new_page, server, org.rep, visit, locale=locale)
    airplane_mode(page, server, True)
    page.locator("#checkin button[data-locate]").click()
    expect(page.locator(".visit[data-visit-state=phone]")).to_have_count(1)
    expect(page.locator(".phone-checkin")).to_be_visible()
    assert "{time}" not in page.locator(".phone-checkin").text_content()
    expect(page.locator("#checkout .dwell")).to_contain_text("10")
    page.evaluate("window.scrollTo(0, 0)")
    keep_shot(page, "airplane-checked-in-zh")
    assert no_horizontal_overflow(page)
    # Every control of the visit, now shown, is a thumb's size.
    small = page.evaluate("""(min) => Array.from(document.querySelectorAll(
        '.visit button, .visit .btn, .visit label.pick, .visit summary, .visit select, .visit input:not([type=hidden]):not([type=radio]):not([type=checkbox]):not([type=file])'))
        .filter(e => e.offsetParent !== null)
        .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])
        .filter(([, h]) => h < min)""", MIN_TAP)
    assert small == [], small
    page.locator("#checkout").scroll_into_view_if_needed()
    keep_shot(page, "airplane-checkout-zh", full_page=False)


def test_offline_a_step_skipped_and_a_check_out_without_a_position_behind_its_confirmation(new_page, server, org,
                                                                                         stores):
    visit = stores.visits[org.rep.id]
    page = open_planned_visit(new_page, server, org.rep, visit)
    airplane_mode(page, server, True)
    check_in(page, offline=True)
    check = step_card(page, "Store check")
    check.locator("details.skip summary").click()
    check.locator("textarea[name=skip_reason]").fill("Shelf being rebuilt")
    check.get_by_role("button", name="Skip step").click()
    expect(check.locator("details.skip .outbox-ack")).to_contain_text("Saved on the phone")

    # A secondary action, behind its confirmation: the button shows only once the rep opens it.
    no_position = page.locator("#checkout-no-position")
    confirm = no_position.get_by_role("button", name="Yes, check out without a position")
    expect(confirm).to_be_hidden()
    no_position.locator("summary").click()
    page.locator("#checkout-note").fill("GPS lost in the basement")
    confirm.click()
    page.wait_for_url("**/today")
    expect(page.locator("#outbox-status .outbox-count")).to_have_text("3")

    airplane_mode(page, server, False)
    drained(page, timeout=30_000)
    db.session.expire_all()
    v = db.session.get(Visit, visit.id)
    assert v.status == VisitStatus.COMPLETED and v.checkout_lat is None
    assert v.checkout_reason == "GPS lost in the basement"
    assert sorted(f["code"] for f in v.flags) == ["no_position", "short_dwell"]
    assert [(r.status, r.skip_reason) for r in v.results] == [("skipped", "Shelf being rebuilt")]
