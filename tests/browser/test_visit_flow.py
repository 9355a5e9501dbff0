"""A rep's store visit on a phone, end to end: check in by the phone's position, steps saved one by
one through htmx, a follow-up, check-out, and the follow-up waiting in the next visit's Plan; a
check-in 800 m away that needs a reason and reaches the supervisor as a flag; a step sent while the
connection is down; and every visit page at 412 and 360 px, in English and Chinese.

The data is made here with tests/factories.py and the visit operations, never the demo seed.
FIELD_SHOT_DIR=/some/dir keeps a phone-size screenshot of every visit page walked."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from field.core import now
from field.extensions import db
from field.geo import Point
from field.visits import operations as ops
from field.visits.models import Visit, VisitStatus
from tests.browser.conftest import grant_geolocation, keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD, make_product, make_store, vtype

SHOP = Point(31.2304, 121.4737)
MIN_TAP = 44  # CSS px


def north(metres: float) -> Point:
    return Point(SHOP.lat + metres / 110_900.0, SHOP.lng)  # ≈ metres per degree of latitude at 31° N


def stand_at(page, point: Point):
    grant_geolocation(page, point.lat, point.lng, accuracy=12)


def step_card(page, title: str):
    return page.locator("section.step").filter(has=page.locator(".step-title", has_text=title))


def mark_same_page(page):
    """A marker that only survives while the browser stays on the same document (no reload)."""
    page.evaluate("window.__sameDocument = true")


def still_same_page(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


# --- a) the whole visit --------------------------------------------------------------------------

def test_a_visit_from_check_in_to_the_next_visits_plan(page, live_server, org):
    store = make_store(rep=org.rep, name="Hongqiao Mart", lat=SHOP.lat, lng=SHOP.lng)
    vtype("routine")
    login(page, live_server, org.rep.login, PASSWORD)
    stand_at(page, north(40))

    # The rep opens the store and checks in there, standing inside its 200 m fence.
    page.goto(f"/stores/{store.id}")
    expect(page.locator(".store h2")).to_have_text("Hongqiao Mart")
    page.goto(f"/stores/{store.id}/checkin")
    page.get_by_role("button", name="Check in here").click()
    page.wait_for_url(re.compile(r"/visits/\d+$"))
    visit_url = page.url
    head = page.locator("#visit-head")
    expect(head.locator(".badge-status-in_progress")).to_have_text("in progress")
    expect(head).to_contain_text(re.compile(r"\b[34]\d m from the store"))
    assert head.locator(".flag").count() == 0, "a check-in at the door is not flagged"
    expect(page.locator("#checkout")).to_contain_text("1 required step left")

    # Each step is saved on its own, in place: the page never reloads.
    mark_same_page(page)
    store_check = step_card(page, "Store check")
    picks = store_check.locator("label.pick-yes")
    for i in range(picks.count() - 1):
        picks.nth(i).click()
    store_check.get_by_role("button", name="Save step").click()
    # One item left unmarked: refused (422), the message beside that item, the other answers kept.
    missing_item = store_check.locator("fieldset.check-item.has-error")
    expect(missing_item.locator(".error")).to_have_text("Mark “无临期产品” as pass or fail.")
    expect(store_check.locator("input[type=radio][value=pass]:checked")).to_have_count(picks.count() - 1)
    keep_shot(page, "flow-step-422")
    missing_item.locator("label.pick-no").click()
    missing_item.locator("input.note-input").fill("2 packs past their date")
    store_check.get_by_role("button", name="Save step").click()
    expect(store_check.locator(".step-state.saved")).to_contain_text("Saved ✓")
    expect(store_check).to_contain_text("3 of 4 passed")
    expect(page.locator("#checkout .ready")).to_have_text("Ready to check out")  # refreshed beside the step
    expect(page.locator("#auto-checks")).to_contain_text("Every required step is done or skipped.")

    summary = step_card(page, "Visit summary")
    summary.locator("textarea[name=text]").fill("Owner wants the new flavours next week.")
    summary.get_by_role("button", name="Save step").click()
    expect(summary.locator(".step-state.saved")).to_contain_text("Saved ✓")
    assert still_same_page(page), "saving a step reloaded the page"

    # Act: a follow-up with what, who and when.
    due = date.today() + timedelta(days=3)
    act = page.locator("#act")
    act.locator("textarea[name=text]").fill("Replace the expired packs")
    act.locator("select[name=owner]").select_option(label=org.rep.name)
    act.locator("input[name=due_on]").fill(due.isoformat())
    act.get_by_role("button", name="Add follow-up").click()
    expect(page.locator("#act .followups")).to_contain_text("Replace the expired packs")
    expect(page.locator("#act")).to_contain_text("Follow-up added ✓")
    assert still_same_page(page)
    page.locator("#checkout").scroll_into_view_if_needed()
    keep_shot(page, "flow-ready-to-check-out", full_page=False)

    # Check-out: the rep is back on Today; the visit is complete, with its time in the store (too short
    # for a routine visit: flagged).
    page.locator("#checkout").get_by_role("button", name="Check out").click()
    expect(page.locator(".flash")).to_have_text("Checked out. The visit is complete.")
    assert page.url.endswith("/today")
    page.goto(visit_url)
    expect(head.locator(".badge-status-completed")).to_have_text("completed")
    expect(head.locator("dt", has_text="In the store")).to_be_visible()
    expect(head.locator("dt:has-text('In the store') + dd")).to_have_text(re.compile(r"^\d+ min$"))
    expect(head.locator(".flag-short_dwell")).to_contain_text("this visit type asks for 10 min")
    expect(page.locator("#checkout")).to_have_count(0)
    keep_shot(page, "flow-completed")

    # The next check-in at this store starts from that follow-up.
    page.goto(f"/stores/{store.id}/checkin")
    expect(page.locator("#plan")).to_contain_text("Replace the expired packs")
    page.get_by_role("button", name="Check in here").click()
    page.wait_for_url(re.compile(r"/visits/\d+$"))
    assert page.url != visit_url
    plan = page.locator("#plan")
    expect(plan).to_contain_text("Replace the expired packs")
    expect(plan).to_contain_text(org.rep.name)
    expect(page.locator("#check")).to_contain_text("Replace the expired packs")  # to mark met or not met


# --- b) 800 m away ------------------------------------------------------------------------------

def test_a_check_in_800m_away_needs_a_reason_and_the_supervisor_sees_the_flag(new_page, live_server, org):
    store = make_store(rep=org.rep, name="Jing'an Corner", lat=SHOP.lat, lng=SHOP.lng)
    vtype("routine")
    rep = login(new_page(), live_server, org.rep.login, PASSWORD)
    stand_at(rep, north(800))

    rep.goto(f"/stores/{store.id}/checkin")
    rep.get_by_role("button", name="Check in here").click()
    reason_field = rep.locator(".field.has-error", has=rep.locator("textarea[name=reason]"))
    expect(reason_field.locator(".error")).to_have_text(
        re.compile(r"You are 8\d\d m from the store, outside its 200 m fence\. Say why to check in here\."))
    expect(rep.locator("textarea[name=reason]")).to_be_focused()
    assert rep.url.endswith(f"/stores/{store.id}/checkin"), "no visit without a reason"
    assert db.session.execute(select(Visit)).first() is None
    keep_shot(rep, "flow-checkin-needs-reason")

    rep.locator("textarea[name=reason]").fill("Store moved across the road")
    rep.get_by_role("button", name="Check in here").click()
    rep.wait_for_url(re.compile(r"/visits/\d+$"))
    visit_path = re.search(r"/visits/\d+$", rep.url).group(0)
    flag = rep.locator("#visit-head .flag-outside_geofence")
    expect(flag.locator(".badge-flag")).to_have_text("Outside the fence")
    expect(flag).to_contain_text("Store moved across the road")

    boss = login(new_page(), live_server, org.supervisor.login, PASSWORD)
    boss.goto("/visits/flagged")
    listed = boss.locator(".flagged-visits li", has_text="Jing'an Corner")
    expect(listed.locator(".flag-outside_geofence")).to_contain_text(
        re.compile(r"Checked in 8\d\d m from the store \(fence 200 m\): “Store moved across the road”"))
    keep_shot(boss, "flow-flagged-list")
    listed.locator("a.list-item").click()
    boss.wait_for_url(re.compile(re.escape(visit_path) + "$"))
    expect(boss.locator("#visit-head .flag-outside_geofence")).to_contain_text(
        re.compile(r"Checked in 8\d\d m from the store \(fence 200 m\): “Store moved across the road”"))
    assert boss.locator("#visit-head").get_by_text("in progress").is_visible()
    assert boss.locator("form[hx-post]").count() == 0, "the supervisor reads the visit; only the rep fills it in"


# --- a dropped connection --------------------------------------------------------------------------

def _started(rep, store, code="routine") -> Visit:
    visit = Visit(rep=rep, store=store, visit_type=vtype(code), planned_for=date.today(),
                  status=VisitStatus.PLANNED, flags=[])
    db.session.add(visit)
    db.session.commit()
    visit = ops.check_in(rep, store, visit.visit_type, position=store.point, accuracy_m=10, position_at=now(),
                         reason="", client_key=None, visit=visit)
    db.session.commit()  # what the check-in's request commits
    return visit


def test_a_step_sent_while_offline_is_kept_on_the_phone_and_sent_when_back_online(page, live_server, org):
    store = make_store(rep=org.rep, lat=SHOP.lat, lng=SHOP.lng)
    visit = _started(org.rep, store)
    login(page, live_server, org.rep.login, PASSWORD)
    page.goto(f"/visits/{visit.id}")
    summary = step_card(page, "Visit summary")
    text = summary.locator("textarea[name=text]")
    text.fill("Shelf moved to aisle 3")

    page.context.set_offline(True)
    summary.get_by_role("button", name="Save step").click()
    ack = summary.locator(".outbox-ack")
    expect(ack).to_contain_text("Saved on the phone")
    expect(text).to_have_value("Shelf moved to aisle 3")
    summary.scroll_into_view_if_needed()
    keep_shot(page, "flow-step-offline", full_page=False)

    page.context.set_offline(False)  # the outbox sends it by itself
    expect(summary.locator(".step-state.saved")).to_contain_text("Saved ✓")
    expect(summary).to_contain_text("Shelf moved to aisle 3")


def test_a_server_error_on_a_step_keeps_the_form_and_sends_it_again(page, live_server, org):
    store = make_store(rep=org.rep, lat=SHOP.lat, lng=SHOP.lng)
    visit = _started(org.rep, store)
    login(page, live_server, org.rep.login, PASSWORD)
    page.goto(f"/visits/{visit.id}")
    summary = step_card(page, "Visit summary")
    summary.locator("textarea[name=text]").fill("Owner away")
    page.route(re.compile(r"/visits/\d+/steps/\d+$"), lambda route: route.fulfill(
        status=500, content_type="text/html",
        body='<section class="card error-card"><p class="error-message">Something went wrong.</p></section>'))
    summary.get_by_role("button", name="Save step").click()
    expect(summary.locator(".outbox-ack")).to_contain_text("Saved on the phone")  # kept, to be sent again
    expect(summary.locator("textarea[name=text]")).to_have_value("Owner away")  # not swapped for the error page
    page.unroute(re.compile(r"/visits/\d+/steps/\d+$"))
    page.evaluate("fieldOutbox.retryNow()")
    expect(summary.locator(".step-state.saved")).to_be_visible()


# --- every visit page at phone size -------------------------------------------------------------

def _visits_to_walk(org) -> dict[str, str]:
    """One visit in each state, a store to check in at, and the co-visit scorecard."""
    make_product(sku="COLA", name="Cola 330ml", category="Drinks")
    make_product(sku="TEA", name="Jasmine green tea 500ml", category="Tea")
    store = make_store(rep=org.rep, name="Lujiazui Family Mart (Century Avenue branch)", lat=SHOP.lat, lng=SHOP.lng)
    other = make_store(rep=org.rep, name="Xujiahui Supermarket", lat=SHOP.lat, lng=SHOP.lng)
    planned = Visit(rep=org.rep, store=other, visit_type=vtype("order"), planned_for=date.today(),
                    status=VisitStatus.PLANNED, flags=[])
    db.session.add(planned)
    db.session.commit()
    done = _started(org.rep, store)
    checklist = next(s for s in done.visit_type.steps if s.kind == "checklist")
    ops.save_step(done, checklist.id, MultiDict({"item-0": "pass", "item-1": "fail", "item-2": "pass",
                                                 "item-3": "pass", "note-1": "Two tags missing"}), org.rep)
    ops.add_follow_up(done, "Bring new price tags", org.rep.id, date.today() + timedelta(days=2), org.rep)
    ops.check_out(done, org.rep, position=north(300), accuracy_m=150, position_at=now())
    dropped = _started(org.rep, other, code="display_audit")
    ops.cancel(dropped, org.rep, "The owner closed early for a family event; back on Thursday.")
    db.session.commit()
    busy = _started(org.rep, store, code="routine")
    db.session.commit()
    return {"checkin": f"/stores/{other.id}/checkin", "planned": f"/visits/{planned.id}",
            "in_progress": f"/visits/{busy.id}", "completed": f"/visits/{done.id}",
            "cancelled": f"/visits/{dropped.id}", "covisit": f"/visits/{done.id}/covisit"}


def _small_targets(page) -> list[str]:
    """Visible buttons, fields and pickers in the page's content that are under MIN_TAP px tall."""
    return page.evaluate("""(min) => {
        const out = [];
        document.querySelectorAll('main button, main .btn, main input:not([type=hidden]), main select,'
                                  + ' main textarea, main summary, main .pick span').forEach(el => {
            if (el.matches('.pick input')) return;             // the pill around it is the target
            const r = el.getBoundingClientRect();
            if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') return;
            if (r.height < min) out.push((el.name || el.textContent || el.tagName).trim().slice(0, 40) + ' ' + Math.round(r.height));
        });
        return out;
    }""", MIN_TAP)


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_every_visit_page_fits_a_phone(new_page, live_server, org, language):
    org.rep.locale = org.supervisor.locale = language
    db.session.commit()
    pages = _visits_to_walk(org)
    rep = login(new_page(), live_server, org.rep.login, PASSWORD)
    boss = login(new_page(), live_server, org.supervisor.login, PASSWORD)
    for width in (412, 360):
        for page in (rep, boss):
            page.set_viewport_size({"width": width, "height": 800})
        for name, path in [*pages.items(), ("completed-supervisor", pages["completed"])]:
            page = boss if name in ("covisit", "completed-supervisor") else rep
            page.goto(path)
            assert page.locator("html").get_attribute("lang") == ("zh-CN" if language == "zh_CN" else "en")
            assert no_horizontal_overflow(page), f"{name} is wider than {width} px"
            assert _small_targets(page) == [], f"{name}: tap targets under {MIN_TAP} px at {width} px"
            keep_shot(page, f"visit-{name}-{language}-{width}")
