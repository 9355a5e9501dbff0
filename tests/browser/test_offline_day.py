"""The rep's day without a network, on a phone: Today loaded online keeps the day on the phone (service
worker); then, with the browser offline AND the server stopped (the browser's switch may not reach
the worker's own fetches), Today reloads from the phone with its "as of" time, the day's stops and
tabs open, and a page that was not kept shows the app's offline page in the rep's language. Also:
Today loads once (the position updates the route in place).

These tests serve the app on a server of their own, which they stop; the session's live server
stays up for the other tests. FIELD_SHOT_DIR=/some/dir keeps phone-size screenshots."""
import re
import threading
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from field.extensions import db
from field.visits import planning
from tests.browser.conftest import MIN_TAP, _QuietHandler, grant_geolocation, keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD, earlier_today, make_store, make_visit

pytestmark = pytest.mark.usefixtures("builtin_types")


class _Stoppable(_QuietHandler):
    def handle_one_request(self):
        # A connection the browser kept open from before the stop gets no answer either.
        if self.server.stopped:
            self.close_connection = True
            return None
        return super().handle_one_request()


@pytest.fixture
def own_server(app):
    """The app on a server of the test's own: .url, and .stop() to take it off the network."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Stoppable)
    server.stopped = False
    thread = threading.Thread(target=server.serve_forever, name="offline-day-server", daemon=True)
    thread.start()

    def stop():
        if not server.stopped:
            server.stopped = True
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", stop=stop)
    stop()


@pytest.fixture
def day(org):
    """The rep's day, in Chinese: a planned visit, a store that is due, a visit done earlier today."""
    rep = org.rep
    rep.locale = "zh_CN"
    db.session.commit()
    planned_store = make_store(rep=rep, name="虹桥超市", lat=31.2304, lng=121.4737)
    planned = make_visit(rep, planned_store, planned_for=planning.local_today(rep))
    due = make_store(rep=rep, name="静安便利店", lat=31.2330, lng=121.4600)
    done_store = make_store(rep=rep, name="徐汇门店", lat=31.2000, lng=121.4400)
    done = make_visit(rep, done_store, at=earlier_today(120), minutes=25)
    return SimpleNamespace(rep=rep, planned=planned, planned_store=planned_store, due=due, done=done)


def open_today_online(new_page, server, rep):
    page = new_page(locale="zh-CN", base_url=server.url)
    login(page, server.url, rep.login, PASSWORD)
    page.goto("/today")
    # The worker is installed and has kept the day (today.js asked it; it answers the page).
    page.wait_for_function("() => document.documentElement.dataset.offlineDay === 'ready'", timeout=30_000)
    assert page.evaluate("navigator.serviceWorker.controller !== null"), "the worker controls Today"
    return page


def cut_off(page, server):
    page.context.set_offline(True)
    server.stop()


def test_the_day_opens_offline_and_a_page_not_kept_says_so(new_page, own_server, day):
    page = open_today_online(new_page, own_server, day.rep)
    expect(page.locator(f"#stop-{day.due.id}")).to_be_visible()
    keep_shot(page, "offline-today-online")

    cut_off(page, own_server)
    page.reload()
    # Today, from the phone, with the time it was worked out standing out.
    expect(page.locator("#today")).to_be_visible()
    expect(page.locator(f"#stop-{day.due.id}")).to_be_visible()
    expect(page.locator(f"#stop-{day.planned_store.id}")).to_be_visible()
    as_of = page.locator("#today-as-of")
    expect(as_of).to_have_class("flash flash-warning as-of")
    expect(as_of).to_contain_text(":")
    assert no_horizontal_overflow(page)
    keep_shot(page, "offline-today")

    # A due store: its details, then its check-in page.
    page.locator(f"#stop-{day.due.id} h3 a").click()
    page.wait_for_url(f"**/stores/{day.due.id}")
    expect(page.locator(".store h2")).to_have_text("静安便利店")
    page.go_back()
    page.locator(f"#stop-{day.due.id} a.btn", has_text="详情").click()
    page.wait_for_url(f"**/stores/{day.due.id}/checkin")
    expect(page.locator(".visit-checkin h2").first).to_have_text("静安便利店")

    # The planned visit's page, from the Today tab.
    page.locator(".bottomnav a.tab-today").click()
    page.wait_for_url("**/today")
    page.locator(f"#stop-{day.planned_store.id} a.btn", has_text="详情").click()
    page.wait_for_url(f"**/visits/{day.planned.id}")
    expect(page.locator("#visit-head")).to_contain_text("虹桥超市")

    # A visit done today, from Today's list.
    page.locator(".bottomnav a.tab-today").click()
    page.locator("#done-today summary").click()
    page.locator(f'#done-today a[data-visit="{day.done.id}"]').click()
    page.wait_for_url(f"**/visits/{day.done.id}")
    expect(page.locator("#visit-head")).to_contain_text("徐汇门店")

    # A tab that was not kept: the app's own offline page, in Chinese, leading back to Today.
    page.locator(".bottomnav a.tab-store").click()
    page.wait_for_url("**/stores")
    offline = page.locator("#offline-page")
    expect(offline).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    back = offline.get_by_role("link", name="今日")
    expect(back).to_have_attribute("href", "/today")
    assert no_horizontal_overflow(page)
    for link in offline.locator("a.btn").all():
        assert link.bounding_box()["height"] >= MIN_TAP
    keep_shot(page, "offline-page")
    back.click()
    page.wait_for_url("**/today")
    expect(page.locator(f"#stop-{day.due.id}")).to_be_visible()


def test_with_the_server_stopped_alone_the_kept_day_still_opens(new_page, own_server, day):
    page = open_today_online(new_page, own_server, day.rep)
    own_server.stop()  # the browser still thinks it is online
    page.reload()
    expect(page.locator(f"#stop-{day.due.id}")).to_be_visible()
    page.locator(".bottomnav a.tab-activity").click()
    expect(page.locator("#offline-page")).to_be_visible()
    page.go_back()
    expect(page.locator(f"#stop-{day.planned_store.id}")).to_be_visible()


def test_today_loads_once_and_the_position_updates_the_route_in_place(page, live_server, org):
    make_store(rep=org.rep, name="Far Shop", lat=31.2304, lng=121.5200)
    make_store(rep=org.rep, name="Near Shop", lat=31.2304, lng=121.4737)
    grant_geolocation(page, 31.2300, 121.4730)  # before sign-in: a rep lands on Today, which locates at once
    login(page, live_server, org.rep.login, PASSWORD)
    documents = []
    page.on("request", lambda r: documents.append(r.url) if r.resource_type == "document" else None)
    page.goto("/today")
    page.evaluate("window.__sameDocument = true")
    summary = page.locator("#route-summary")
    expect(summary).to_contain_text("The route starts where you are")
    expect(page.locator("#route .stop").first).to_contain_text("Near Shop")
    assert page.evaluate("window.__sameDocument === true"), "the page was not reloaded"
    assert [u for u in documents if "/today" in u] == [f"{live_server}/today"], documents
    assert "lat=" not in page.url
    # The button takes the position again, in place too.
    button = page.locator("[data-today-locate] button")
    expect(button).to_be_visible()
    assert button.bounding_box()["height"] >= MIN_TAP
    button.click()
    expect(page.locator("[data-today-locate] button")).not_to_have_class(re.compile(r"\bbusy\b"))
    assert page.evaluate("window.__sameDocument === true")
    assert no_horizontal_overflow(page)


def test_today_opens_from_the_phone_at_once_then_the_day_is_asked_again_in_place(new_page, own_server, day):
    page = open_today_online(new_page, own_server, day.rep)
    make_store(rep=day.rep, name="新开门店", lat=31.2310, lng=121.4700)  # due from today: never visited
    page.goto("/")
    page.goto("/today")
    kept = "performance.getEntriesByType('navigation')[0].serverTiming.some(t => t.name === 'field-kept')"
    assert page.evaluate(kept), "Today came from the network, not from the phone"
    expect(page.locator("#today")).to_contain_text("新开门店")  # refreshed in place, no second load
    assert page.evaluate(kept), "the page was loaded again instead of refreshed in place"
