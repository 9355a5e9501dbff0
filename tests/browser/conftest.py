"""Browser tests: Debian's Chromium at phone size, driven by Playwright, against a live server.

The live server runs in a thread and serves the session `app` from tests/conftest.py, so it
sees the same database: data a test makes with the factories is committed and the pages show
it; the autouse `ctx` fixture empties the tables before every test.

Chromium must be at /usr/bin/chromium (we never download browsers). Without it these tests
skip and say why; FIELD_REQUIRE_BROWSER=1 (set by .ci/run) turns that skip into an error.
A failing test leaves a screenshot of every page it opened; the path is in the report."""
import os
import re
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.browser.servers import _QuietHandler  # noqa: F401 (also imported from here)

HERE = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("FIELD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# A Pixel 7-like phone, used when Playwright's device list has no "Pixel 7".
PHONE = {
    "viewport": {"width": 412, "height": 839},
    "screen": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 "
                   "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"),
}
SHOT_DIR = Path(os.environ.get("FIELD_SCREENSHOT_DIR", Path(tempfile.gettempdir()) / "field-browser-failures"))
_PAGES = pytest.StashKey[list]()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    pages = item.stash.get(_PAGES, [])
    if not pages:
        return
    SHOT_DIR.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", item.nodeid.split("::", 1)[-1])[:120]
    lines = []
    for n, page in enumerate(pages):
        path = SHOT_DIR / f"{stem}-{n}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            lines.append(f"{path}  ({page.url})")
        except Exception as exc:  # the page may have crashed or closed; the report matters more
            lines.append(f"no screenshot of page {n}: {exc}")
    report.sections.append(("browser screenshots", "\n".join(lines)))


def _require_browser() -> bool:
    return os.environ.get("FIELD_REQUIRE_BROWSER", "") not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over HTTP in a thread; the value is its base URL (no trailing slash)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def playwright_driver():
    if not CHROMIUM.exists():
        message = (f"Chromium not found at {CHROMIUM}; install with "
                   "apt-get install -y chromium fonts-noto-cjk")
        if _require_browser():
            pytest.fail(message + " (FIELD_REQUIRE_BROWSER is set, so this is an error)", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def phone(playwright_driver) -> dict:
    """Context options for a Pixel 7 (412×839 CSS px viewport on a 412×915 screen, touch, mobile)."""
    device = dict(playwright_driver.devices.get("Pixel 7") or PHONE)
    device.pop("default_browser_type", None)
    device.update(is_mobile=True, has_touch=True)
    return device


@pytest.fixture
def browser_locale() -> str:
    """The browser's language (Accept-Language and navigator.language). Override per test with
    @pytest.mark.parametrize("browser_locale", ["zh-CN"])."""
    return "en-US"


@pytest.fixture
def new_page(request, browser, phone, live_server, browser_locale):
    """Open a page in a fresh phone context: new_page(locale="zh-CN", **context_options).

    Each call is a separate browser (own cookies), closed after the test."""
    contexts = []
    pages = request.node.stash.setdefault(_PAGES, [])

    def open_page(locale: str | None = None, **options):
        opts = {**phone, "locale": locale or browser_locale, "base_url": live_server, **options}
        context = browser.new_context(**opts)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A phone-size page in the test's locale (browser_locale, default en-US)."""
    return new_page()


def grant_geolocation(page, latitude: float, longitude: float, accuracy: float = 10.0):
    """Let the page read the device position and put the phone at (latitude, longitude), WGS-84."""
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": latitude, "longitude": longitude, "accuracy": accuracy})
    return page


def login(page, live_server: str, user_login: str, password: str):
    """Sign in through the real login form and wait until the browser has left /login."""
    page.goto(f"{live_server}/login")
    page.fill("input[name=login]", user_login)
    page.fill("input[name=password]", password)
    page.locator("#login-card button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def no_horizontal_overflow(page) -> bool:
    """True when nothing makes the page wider than the phone (no sideways scrolling)."""
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


MIN_TAP = 44  # CSS px; the smallest comfortable thumb target


def keep_shot(page, name: str, full_page: bool = True):
    """Save a screenshot as FIELD_SHOT_DIR/<name>.png when FIELD_SHOT_DIR is set (for looking at pages by eye)."""
    shot_dir = os.environ.get("FIELD_SHOT_DIR")
    if shot_dir:
        Path(shot_dir).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shot_dir) / f"{name}.png"), full_page=full_page)
