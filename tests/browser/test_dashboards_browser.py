"""The supervisor's and the manager's dashboards in Chromium at laptop size (1366×768, side navigation)
and phone size (390 wide), in Chinese: nothing scrolls sideways, the charts' columns and bars are named
links, a figure leads to what it counts."""
from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.conftest import keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD, make_store, make_visit

LAPTOP = {"viewport": {"width": 1366, "height": 768}, "screen": {"width": 1366, "height": 768},
          "is_mobile": False, "has_touch": False, "device_scale_factor": 1}
PHONE = {"viewport": {"width": 390, "height": 844}, "screen": {"width": 390, "height": 844}}
SIZES = {"laptop": LAPTOP, "phone": PHONE}


@pytest.fixture
def day(org):
    stores = [make_store(rep=rep, tier=tier, channel=channel, name=f"门店{rep.login}{tier}")
              for rep in (org.rep, org.teammate) for tier, channel in (("A", "ka"), ("B", "supermarket"),
                                                                       ("C", "convenience"))]
    now = datetime.now(timezone.utc)
    for n, store in enumerate(stores[:4]):
        make_visit(store.owner_rep, store, at=now - timedelta(hours=3 - n * 0.5), minutes=15 + n * 6)
    make_visit(org.rep, stores[2], at=now - timedelta(minutes=10))  # in a store now
    make_visit(org.teammate, stores[5], planned_for=now.date())
    return stores


@pytest.mark.parametrize("browser_locale", ["zh-CN"])
@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_the_managers_dashboard(new_page, live_server, org, day, size):
    page = new_page(**SIZES[size])
    login(page, live_server, org.manager.login, PASSWORD)
    page.click("#dashboard-link")
    page.wait_for_url("**/dashboard")
    assert page.locator("[data-kpi=coverage] .kpi-value").inner_text().endswith("%")
    assert "覆盖" in page.content() or "Coverage" in page.content()
    assert no_horizontal_overflow(page), "nothing scrolls sideways"
    # Charts with links are groups of named links.
    group = page.locator("#visits-per-day svg[role=group]")
    assert group.count() == 1 and group.locator("a[aria-label]").count() >= 5
    assert page.locator("#visits-per-day .anchor-line").count() == 1
    assert page.locator("#time-in-store .anchor-band").count() == 1
    if size == "laptop":
        assert page.locator("nav.bottomnav").bounding_box()["x"] == 0
        lefts = {round(page.locator(f"#{i}").bounding_box()["x"]) for i in ("coverage-tier", "coverage-channel")}
        assert len(lefts) == 2, "charts side by side"
    keep_shot(page, f"dashboard-manager-{size}")
    # A figure leads to the stores it counts.
    page.locator("#coverage-tier a").first.click()
    page.wait_for_url("**/dashboard/stores**")
    assert no_horizontal_overflow(page)
    keep_shot(page, f"dashboard-stores-{size}")


@pytest.mark.parametrize("browser_locale", ["zh-CN"])
@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_the_supervisors_dashboard(new_page, live_server, org, day, size):
    page = new_page(**SIZES[size])
    login(page, live_server, org.supervisor.login, PASSWORD)
    page.click("#team-dashboard-link")
    page.wait_for_url("**/dashboard/team")
    assert page.locator(f'#team-live [data-rep="{org.rep.login}"]').count() == 1
    assert page.locator("#team-week table").count() == 1
    assert page.locator("[data-kpi=in-store] .kpi-value").inner_text() == "1"
    assert no_horizontal_overflow(page), "nothing scrolls sideways (the week's table scrolls in its box)"
    keep_shot(page, f"dashboard-team-{size}")
