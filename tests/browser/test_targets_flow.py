"""Targets on a phone (390 px): a manager sets the East's target for this month, splits it by last year's
sales, and the rep sees their part on Today; the same pages at 1366×768 with the side navigation.
Screenshots go to $FIELD_SHOT_DIR when it is set."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from field.core import company_today
from field.targets.queries import add_months, month_key, month_start
from tests.browser.conftest import MIN_TAP, keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD, make_store
from tests.web.test_targets import rows, sell

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "screen": {"width": 390, "height": 844},
             "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}, "screen": {"width": 1366, "height": 768},
          "is_mobile": False, "has_touch": False, "device_scale_factor": 1}


@pytest.fixture
def world(org):
    month = month_start(company_today())
    last_year = add_months(month, -12)
    a, b = make_store(rep=org.rep, code="E-A", name="Alpha Mart"), make_store(rep=org.rep, code="E-B", name="Beta")
    c = make_store(rep=org.teammate, code="E-C", name="Gamma")
    sell(a, last_year + timedelta(days=2), 2_000_00)
    sell(b, last_year + timedelta(days=3), 1_000_00)
    sell(c, last_year + timedelta(days=4), 1_000_00)
    sell(a, company_today(), 1_500_00)  # this month, so far
    return {"month": month_key(month)}


def test_a_manager_sets_and_splits_a_target_and_the_rep_sees_it_on_today(new_page, live_server, org, world):
    page = new_page(**PHONE_390)
    login(page, live_server, "manager", PASSWORD)
    page.goto(f"{live_server}/targets")
    expect(page.locator("#targets-month h2")).to_contain_text("No targets")
    page.fill("#t-month", world["month"])
    page.select_option("#t-region", value=str(org.east.id))
    page.fill("#t-amount", "10000")
    page.locator("#set-target button[type=submit]").click()
    page.wait_for_url(lambda url: "/targets/" in url)
    expect(page.locator(".target-figure")).to_contain_text("¥10,000.00")
    page.locator("#split-proportional").click()
    page.wait_for_load_state()
    expect(page.locator(".flash").first).to_contain_text("Split in proportion")
    expect(page.locator("#unallocated")).to_have_text("¥0.00")
    expect(page.locator(f"#part-{org.rep.id}")).to_have_value("7500.00")
    expect(page.locator(f"#part-{org.teammate.id}")).to_have_value("2500.00")
    assert no_horizontal_overflow(page)
    keep_shot(page, "targets-detail-phone")
    # By hand: the teammate down to 2,000 leaves 500 unallocated.
    page.fill(f"#part-{org.teammate.id}", "2000")
    page.locator("#split-save").click()
    page.wait_for_load_state()
    expect(page.locator("#unallocated")).to_have_text("¥500.00")
    page.goto(f"{live_server}/targets")
    line = page.locator(".target-line").first
    expect(line).to_contain_text("East")
    expect(line).to_contain_text("15.0%")
    assert line.bounding_box()["height"] >= MIN_TAP
    assert no_horizontal_overflow(page)
    keep_shot(page, "targets-index-phone")

    rep_page = new_page(**PHONE_390)
    login(rep_page, live_server, "rep", PASSWORD)
    rep_page.goto(f"{live_server}/today")
    card = rep_page.locator("#today-target")
    expect(card).to_contain_text("¥1,500.00 / ¥7,500.00")
    expect(card).to_contain_text("20.0%")
    assert card.locator("a").bounding_box()["height"] >= MIN_TAP
    assert no_horizontal_overflow(rep_page)
    keep_shot(rep_page, "targets-today-phone", full_page=False)
    card.locator("a").click()
    rep_page.wait_for_url(lambda url: "/targets/" in url)
    expect(rep_page.locator(".split-line")).to_have_count(2)   # their two stores, split by last year
    expect(rep_page.locator("#split-save")).to_have_count(0)   # read-only for the rep
    keep_shot(rep_page, "targets-rep-detail-phone")
    assert sum(t.amount for t in rows("store") if t.rep_id == org.rep.id) == 7_500_00


def test_the_targets_pages_at_laptop_size(new_page, live_server, org, world):
    page = new_page(**LAPTOP)
    login(page, live_server, "manager", PASSWORD)
    page.goto(f"{live_server}/targets")
    page.fill("#t-amount", "10000")
    page.select_option("#t-region", value=str(org.east.id))
    page.locator("#set-target button[type=submit]").click()
    page.wait_for_url(lambda url: "/targets/" in url)
    page.locator("#split-proportional").click()
    page.wait_for_load_state()
    assert no_horizontal_overflow(page)
    nav, content = page.locator("nav.bottomnav").bounding_box(), page.locator("#split").bounding_box()
    assert nav["x"] + nav["width"] <= content["x"]  # the side navigation beside, not over, the split
    keep_shot(page, "targets-detail-laptop")
    page.goto(f"{live_server}/targets")
    assert no_horizontal_overflow(page)
    keep_shot(page, "targets-index-laptop")
