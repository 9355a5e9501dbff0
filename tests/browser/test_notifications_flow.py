"""At phone size (390 px): a supervisor rejects a rep's evidence in the queue; the rep sees the bell's
count in the top bar, opens the centre and the notification, lands on the activity, and the count is gone.
The top bar keeps the bell and the outbox counter on one line without overflow at 390 px and at 1366×768.

FIELD_SHOT_DIR=/some/dir keeps a screenshot of each page walked."""
from playwright.sync_api import expect

from tests.browser.conftest import MIN_TAP, keep_shot, login, no_horizontal_overflow
from tests.browser.test_activity_flow import card, running_activity, shoot
from tests.factories import PASSWORD, make_store
from tests.fixtures import photos as samples

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
             "has_touch": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}, "is_mobile": False, "has_touch": False,
          "device_scale_factor": 1}


def show_outbox_counter(page, n=3):
    """The outbox counter as outbox.js shows it with writes waiting (the widest the top bar gets)."""
    page.evaluate("""(n) => { const a = document.getElementById('outbox-status'); a.hidden = false;
        a.innerHTML = '<span class="outbox-word">Waiting to send</span>'
                      + '<span class="outbox-count">' + n + '</span>'; }""",
                  n)


def topbar_fits(page) -> bool:
    return page.evaluate("""() => { const bar = document.querySelector('.topbar');
        const edge = bar.getBoundingClientRect().right + 0.5;
        return [...bar.children].every(el => el.hidden || el.getBoundingClientRect().right <= edge)
               && document.scrollingElement.scrollWidth <= window.innerWidth; }""")


def test_a_rejection_reaches_the_reps_bell_and_opens_where_it_points(app, new_page, live_server, org):
    shop = make_store(rep=org.rep, name="Hongqiao Mart", lat=samples.SHOP[0], lng=samples.SHOP[1])
    line = running_activity(org, [shop]).stores[0]
    shoot(app, org.rep, line, seed=51)

    boss = login(new_page(**PHONE_390), live_server, org.supervisor.login, PASSWORD)
    boss.goto(f"{live_server}/activities/queue")
    rejecting = card(boss, "Hongqiao Mart")
    rejecting.locator("summary", has_text="Reject").click()
    rejecting.locator("select[name=reason]").select_option("unclear")
    rejecting.locator("textarea[name=note]").fill("太暗，请补拍")
    rejecting.locator("form button", has_text="Reject").click()
    expect(card(boss, "Hongqiao Mart").locator(".queue-verdict")).to_contain_text("Rejected")

    rep = login(new_page(**PHONE_390), live_server, org.rep.login, PASSWORD)
    bell = rep.locator("#bell")
    expect(bell.locator(".bell-count")).to_have_text("1")
    box = bell.bounding_box()
    assert box["width"] >= MIN_TAP and box["height"] >= MIN_TAP
    show_outbox_counter(rep)
    assert topbar_fits(rep), "the top bar overflows at 390 px with the bell and the outbox counter"
    keep_shot(rep, "notifications-bell-phone", full_page=False)

    bell.click()
    rep.wait_for_url("**/notifications")
    note = rep.locator("li.note").first
    expect(note).to_have_class("note note-unread")
    expect(note).to_contain_text("Evidence rejected: Hongqiao Mart, 春节堆头陈列")
    expect(note).to_contain_text("Reason: Photo unclear or too dark. 太暗，请补拍")
    assert no_horizontal_overflow(rep)
    keep_shot(rep, "notifications-centre-phone")

    note.locator("button.note-open").click()
    rep.wait_for_url(f"**/activities/{line.activity_id}")
    expect(rep.locator("#bell .bell-count")).to_have_count(0)
    rep.goto(f"{live_server}/notifications")
    expect(rep.locator("li.note").first).to_have_class("note")


def test_the_bell_sits_in_the_top_bar_at_laptop_size_with_the_side_navigation(app, new_page, live_server, org):
    from field import notifications
    from field.extensions import db
    for i in range(12):
        notifications.send([org.supervisor], "test", f"Alert {i}: visits missed in the east", url="/")
    db.session.commit()
    boss = login(new_page(**LAPTOP), live_server, org.supervisor.login, PASSWORD)
    expect(boss.locator("#bell .bell-count")).to_have_text("12")
    show_outbox_counter(boss)
    assert topbar_fits(boss)
    boss.locator("#bell").click()
    boss.wait_for_url("**/notifications")
    expect(boss.locator("li.note")).to_have_count(12)
    assert no_horizontal_overflow(boss)
    keep_shot(boss, "notifications-centre-laptop", full_page=False)
    boss.get_by_role("button", name="Mark all read").click()
    expect(boss.locator("li.note-unread")).to_have_count(0)
    expect(boss.locator("#bell .bell-count")).to_have_count(0)
