"""At laptop size (1366×768) supervisors, managers and admins get a side navigation beside wider,
multi-column pages — nothing floats over the content — while a rep keeps the phone layout; a table
wider than its box says that it scrolls sideways."""
import pytest

from tests.browser.conftest import MIN_TAP, keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD

LAPTOP = {"viewport": {"width": 1366, "height": 768}, "screen": {"width": 1366, "height": 768},
          "is_mobile": False, "has_touch": False, "device_scale_factor": 1}


def boxes_overlap(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.parametrize("role", ["supervisor", "manager", "admin"])
def test_at_laptop_size_the_tabs_become_a_side_navigation_beside_the_page(new_page, live_server, org, role):
    page = new_page(**LAPTOP)
    login(page, live_server, getattr(org, role).login, PASSWORD)
    nav, main = page.locator("nav.bottomnav"), page.locator("#main")
    nav_box, main_box = nav.bounding_box(), main.bounding_box()
    assert nav_box["x"] == 0 and nav_box["width"] < 300, nav_box
    assert nav_box["height"] > 600, "the side navigation runs down the left edge"
    assert not boxes_overlap(nav_box, main_box), "the navigation covers the page"
    assert main_box["width"] > 900, "the page uses the width of the screen"
    tabs = nav.locator("a")
    tops = [tabs.nth(i).bounding_box()["y"] for i in range(tabs.count())]
    assert tops == sorted(tops) and len(set(tops)) == len(tops), "tabs are stacked, one per line"
    assert all(tabs.nth(i).bounding_box()["height"] >= MIN_TAP for i in range(tabs.count()))
    assert no_horizontal_overflow(page)
    # Home sections sit side by side.
    sections = page.locator("#home-admin .list-item" if role == "admin" else f"#home-{role} > :not(.desk-wide)")
    lefts = {round(sections.nth(i).bounding_box()["x"]) for i in range(sections.count())}
    assert len(lefts) >= 2, "sections (an admin's links) in columns"
    keep_shot(page, f"desk-home-{role}")


def test_a_rep_keeps_the_phone_layout_on_a_wide_screen(new_page, live_server, org):
    page = new_page(**LAPTOP)
    login(page, live_server, org.rep.login, PASSWORD)
    nav_box = page.locator("nav.bottomnav").bounding_box()
    assert nav_box["y"] + nav_box["height"] == pytest.approx(768, abs=1), "the tab bar sits at the bottom"
    assert nav_box["height"] < 100


def test_a_table_wider_than_its_box_says_it_scrolls(page, live_server, org):
    login(page, live_server, org.manager.login, PASSWORD)
    hint = page.locator("#main .scroll-hint")
    assert hint.count() == 0, "the region table fits a phone: no hint"
    page.evaluate("""() => {
        const wrap = document.querySelector("#main .table-wrap");
        const row = wrap.querySelector("tr");
        for (let i = 0; i < 12; i++) row.insertAdjacentHTML("beforeend", "<td>a wide column of figures</td>");
        window.dispatchEvent(new Event("resize"));
    }""")
    hint.wait_for()
    assert "Scroll sideways" in hint.inner_text()
    assert page.locator("#main .table-wrap[data-scrolls]").count() == 1
    assert no_horizontal_overflow(page), "the table scrolls inside its box, not the page"
