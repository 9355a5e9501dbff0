"""Chinese and English: switching on the login page, in the profile, and from the browser's language."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
# The Chinese catalog is compiled by the set-up commands once the lead has written it. Until then
# pages in "Chinese" still show English text, so only the lang attribute can tell the languages apart.
ZH_CATALOGS = list((ROOT / "field" / "translations").glob("zh*/LC_MESSAGES/messages.mo"))


def html_lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def sign_in_button(page):
    return page.locator("#login-card button[type=submit]")


def test_login_page_switches_between_chinese_and_english(page, live_server):
    page.goto(f"{live_server}/login")
    assert html_lang(page) == "en"  # the browser asks for en-US
    english = sign_in_button(page).inner_text().strip()

    page.get_by_role("button", name="中文", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert page.url.startswith(f"{live_server}/login")
    chinese = sign_in_button(page).inner_text().strip()
    if ZH_CATALOGS:
        assert chinese != english, "the sign-in button should be in Chinese"
    # else: no compiled zh_CN catalog yet; the lang attribute alone shows the switch.

    page.get_by_role("button", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert sign_in_button(page).inner_text().strip() == english


def test_signed_in_user_switches_to_chinese_in_the_profile(page, live_server, rep):
    login(page, live_server, rep.login, PASSWORD)
    page.goto(f"{live_server}/profile")
    assert html_lang(page) == "en"

    page.locator("select[name=profile-locale]").select_option(label="中文（简体）")
    page.locator("#preferences button[type=submit]").click()

    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert page.url.startswith(f"{live_server}/profile")
    page.goto(f"{live_server}/")  # the choice follows the user to every page
    assert html_lang(page) == "zh-CN"


@pytest.mark.parametrize("browser_locale", ["zh-CN"])
def test_a_chinese_phone_gets_chinese_by_default(page, live_server, browser_locale):
    page.goto(f"{live_server}/login")
    assert html_lang(page) == "zh-CN"


def test_an_english_phone_gets_english_by_default(new_page, live_server):
    page = new_page(locale="en-GB")
    page.goto(f"{live_server}/login")
    assert html_lang(page) == "en"
