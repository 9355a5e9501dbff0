"""Each role signs in on a phone and lands on its start page (a rep on Today, the others on their home),
and the home page fits the screen.

FIELD_SHOT_DIR=/some/dir ./test tests/browser keeps a phone-size screenshot of each page checked."""
import pytest

from tests.browser.conftest import MIN_TAP, keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD


@pytest.mark.parametrize("role", ["rep", "supervisor", "manager", "admin"])
def test_each_role_signs_in_on_a_phone_and_lands_on_its_home(page, live_server, org, role):
    user = getattr(org, role)

    login(page, live_server, user.login, PASSWORD)

    if role == "rep":  # a rep starts the day on Today; their home is one tab away
        assert page.url.split("?")[0] == f"{live_server}/today", f"a rep should land on Today, got {page.url}"
        page.goto(f"{live_server}/")
    else:
        assert page.url.rstrip("/") == live_server, f"{role} should land on the home page, got {page.url}"
    assert page.locator(f"#home-{role}").is_visible(), f"#home-{role} is not shown to a {role}"
    nav = page.locator("nav.bottomnav")
    assert nav.is_visible(), "bottom navigation is missing"
    assert no_horizontal_overflow(page), "the page is wider than the phone (sideways scrolling)"

    targets = nav.locator("a:visible, button:visible")
    assert targets.count() >= 3, "the bottom navigation should offer at least three tabs"
    for i in range(targets.count()):
        box = targets.nth(i).bounding_box()
        label = targets.nth(i).inner_text().strip()
        assert box is not None and box["height"] >= MIN_TAP, (
            f"tab {label!r} is {box and box['height']}px tall; tap targets need {MIN_TAP}px")
    keep_shot(page, f"home-{role}")


def test_wrong_password_says_so_and_stays_on_the_login_page(page, live_server, org):
    page.goto(f"{live_server}/login")
    keep_shot(page, "login")
    page.fill("input[name=login]", org.rep.login)
    page.fill("input[name=password]", "not-the-password")
    page.locator("#login-card button[type=submit]").click()

    message = page.get_by_role("alert")
    message.wait_for()
    assert "Wrong login or password." in message.inner_text()
    assert page.url.startswith(f"{live_server}/login")
    assert page.locator("nav.bottomnav").count() == 0, "no navigation before signing in"
    assert no_horizontal_overflow(page)
