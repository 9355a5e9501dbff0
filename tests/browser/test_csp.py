"""Under the Content-Security-Policy (field/security.py: no inline script, no eval) the pages a rep
and a manager open run their scripts: no violation is reported, in the console or as an event."""
import pytest

from field.visits import planning
from tests.browser.conftest import grant_geolocation, login
from tests.factories import PASSWORD, make_store, make_visit
from tests.fixtures import photos as samples

pytestmark = pytest.mark.usefixtures("builtin_types")

WATCH = ("document.addEventListener('securitypolicyviolation', e => "
         "(window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));")


def watched(page):
    seen = []
    page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: seen.append(str(exc)))
    page.add_init_script(WATCH)
    return seen


def violations(page, seen):
    return seen + (page.evaluate("window.__csp || []"))


def test_today_a_visit_and_home_run_without_a_csp_violation(new_page, live_server, org):
    store = make_store(rep=org.rep, lat=samples.SHOP[0], lng=samples.SHOP[1])
    visit = make_visit(org.rep, store, planned_for=planning.local_today(org.rep))
    page = new_page()
    seen = watched(page)
    grant_geolocation(page, *samples.SHOP, accuracy=9)
    login(page, live_server, org.rep.login, PASSWORD)
    page.goto("/today")
    page.wait_for_function("() => document.documentElement.dataset.offlineDay === 'ready'", timeout=30_000)
    assert page.evaluate("navigator.serviceWorker.getRegistration().then(r => !!r)")  # worker.js registered it
    assert violations(page, seen) == []
    page.goto(f"/visits/{visit.id}")
    page.wait_for_function("() => window.fieldOutbox !== undefined")
    assert violations(page, seen) == []
    page.goto("/")
    assert violations(page, seen) == []

    manager = new_page()
    seen = watched(manager)
    login(manager, live_server, org.manager.login, PASSWORD)
    for url in ("/", "/stores", "/activities", "/roi"):
        manager.goto(url)
        manager.wait_for_load_state("networkidle")
        assert violations(manager, seen) == [], url
