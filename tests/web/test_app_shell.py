"""The installable app by request: the manifest in both languages, the service worker's headers and
scope, static files under versioned URLs (cached a year) and plain ones (revalidated), compressed
answers, Vary, the day's list of pages to keep offline (a rep's own, nobody else's), the offline
and outbox pages, and Today's day block for the position."""
import gzip
import json
import re

import brotli
import pytest
from flask import current_app

from field.app_shell.assets import VERSIONED, build, static_names, versioned_name
from field.core import now
from field.visits import planning
from field.visits.models import VisitStatus
from tests.conftest import login
from tests.factories import earlier_today, make_store, make_visit

pytestmark = pytest.mark.usefixtures("builtin_types")

FOREVER = "public, max-age=31536000, immutable"


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


def static_url(name: str) -> str:
    return "/static/" + static_names(current_app)[name]


# --- the manifest ----------------------------------------------------------------------------------

def test_the_manifest_in_english_starts_a_rep_on_today(client, org):
    login(client, org.rep)
    response = client.get("/manifest.webmanifest", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    data = response.get_json(force=True)
    assert data["name"] == data["short_name"] == "field"
    assert data["lang"] == "en"
    assert data["start_url"] == "/today"
    assert data["scope"] == "/" and data["id"] == "/"
    assert data["display"] == "standalone"
    assert data["theme_color"] == "#0b6e4f"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in data["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")}
    for icon in data["icons"]:
        assert VERSIONED.search(icon["src"]), icon["src"]
        got = client.get(icon["src"])
        assert got.status_code == 200 and got.mimetype == "image/png"
        assert got.headers["Cache-Control"] == FOREVER
    assert "private" in response.headers["Cache-Control"]
    assert {"cookie", "accept-language"} <= vary(response)


def test_the_manifest_in_chinese_and_for_others_than_reps(client, org):
    login(client, org.rep)
    org.rep.locale = "zh_CN"
    data = client.get("/manifest.webmanifest").get_json(force=True)
    assert data["lang"] == "zh-CN"
    assert data["short_name"] == "外勤"
    login(client, org.supervisor)
    assert client.get("/manifest.webmanifest").get_json(force=True)["start_url"] == "/"
    client.get("/logout")


def test_signed_out_the_manifest_follows_the_browser(client):
    data = client.get("/manifest.webmanifest", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_json(force=True)
    assert data["lang"] == "zh-CN" and data["start_url"] == "/"


def test_pages_link_the_manifest_icons_and_the_worker(client, org):
    login(client, org.rep)
    html = client.get("/today").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest"' in html
    assert re.search(r'<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon\.[0-9a-f]{12}\.png"', html)
    assert re.search(r'<link rel="icon" href="/static/favicon\.[0-9a-f]{12}\.ico"', html)
    # Registered by static/js/worker.js (no inline script under the CSP), told the worker's URL.
    assert re.search(r'<script src="/static/js/worker\.[0-9a-f]{12}\.js" data-worker="/sw\.js" defer></script>', html)
    assert '<a id="outbox-status" class="outbox-status" href="/outbox" hidden></a>' in html
    assert re.search(r'<script src="/static/js/outbox[.\w]*\.js" defer></script>', html)


def test_the_favicon_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file


# --- the service worker -----------------------------------------------------------------------------

def test_the_service_worker_is_served_at_the_root_for_the_whole_site(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    settings = json.loads(re.match(r"self\.FIELD_SHELL = (\{.*?\});\n", body).group(1))
    assert settings["pages"] == ["/offline", "/outbox"]
    assert settings["offline"] == "/offline" and settings["dayList"] == "/today/offline.json"
    assert settings["static"]["css/app.css"] == static_url("css/app.css")
    assert "sw.js" not in settings["static"]
    assert re.fullmatch(r"[0-9a-f]{12}", settings["version"])
    # What the worker promises: versioned caches, never a POST nor a fragment, the outbox's sync message.
    assert '"field-static-" + SHELL.version' in body
    assert 'request.method !== "GET"' in body and 'request.headers.get("HX-Request")' in body
    assert '"field-outbox"' in body and '{type: "outbox-sync"}' in body
    assert "indexedDB" not in body


def test_the_browser_s_check_for_a_new_worker_costs_a_few_bytes_when_nothing_changed(client):
    first = client.get("/sw.js")
    again = client.get("/sw.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get("/sw.js", headers={"If-None-Match": '"an-older-version"'}).status_code == 200


def test_the_worker_s_version_follows_the_static_files(app, tmp_path):
    source = tmp_path / "static"
    (source / "css").mkdir(parents=True)
    (source / "css" / "a.css").write_text("body { color: red }\n" * 50)
    (source / "sw.js").write_text("// not published under /static/")
    first = build(source, tmp_path / "out")
    assert list(first) == ["css/a.css"]
    assert (tmp_path / "out" / first["css/a.css"]).read_text() == (source / "css" / "a.css").read_text()
    assert (tmp_path / "out" / (first["css/a.css"] + ".br")).exists()
    assert (tmp_path / "out" / (first["css/a.css"] + ".gz")).exists()
    (source / "css" / "a.css").write_text("body { color: blue }\n" * 50)
    second = build(source, tmp_path / "out")
    assert second["css/a.css"] != first["css/a.css"]
    assert (tmp_path / "out" / first["css/a.css"]).exists(), "an older page may still ask for the older file"
    assert (tmp_path / "out" / "css" / "a.css").read_text().startswith("body { color: blue }")


def test_versioned_names():
    assert re.fullmatch(r"css/app\.[0-9a-f]{12}\.css", versioned_name("css/app.css", b"x"))
    assert versioned_name("css/app.css", b"x") != versioned_name("css/app.css", b"y")
    assert VERSIONED.search(versioned_name("vendor/htmx-4.0.1.min.js", b"x"))


# --- static files: versioned and plain, compressed ---------------------------------------------------

def test_a_versioned_static_url_is_cached_for_a_year(client):
    response = client.get(static_url("css/app.css"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == FOREVER
    assert response.mimetype == "text/css"


def test_a_plain_static_url_is_revalidated(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    etag = response.headers["ETag"]
    assert client.get("/static/css/app.css", headers={"If-None-Match": etag}).status_code == 304


def test_pages_name_static_files_by_their_versioned_urls(client, org):
    login(client, org.rep)
    html = client.get("/today").get_data(as_text=True)
    for name in ("css/app.css", "vendor/htmx-4.0.1.min.js", "js/app.js", "js/today.js"):
        assert static_url(name) in html
    assert 'href="/static/css/app.css"' not in html


@pytest.mark.parametrize("encoding, decode", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_static_files_come_compressed_when_asked(client, encoding, decode):
    plain = client.get(static_url("vendor/htmx-4.0.1.min.js")).data
    response = client.get(static_url("vendor/htmx-4.0.1.min.js"), headers={"Accept-Encoding": encoding})
    assert response.headers["Content-Encoding"] == encoding
    assert len(response.data) < len(plain) / 2
    assert decode(response.data) == plain
    assert "accept-encoding" in vary(response)
    assert response.headers["Cache-Control"] == FOREVER


def test_static_files_are_not_compressed_unasked(client):
    response = client.get(static_url("css/app.css"))
    assert "Content-Encoding" not in response.headers


@pytest.mark.parametrize("encoding, decode", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_pages_come_compressed_when_asked_and_vary_on_it(client, org, encoding, decode):
    login(client, org.rep)
    make_store(rep=org.rep, name="Hongqiao Mart")
    plain = client.get("/today")
    response = client.get("/today", headers={"Accept-Encoding": f"{encoding}, identity;q=0.5"})
    assert response.headers["Content-Encoding"] == encoding
    assert "Hongqiao Mart" in decode(response.data).decode()
    assert len(response.data) < len(plain.data) / 2
    assert {"hx-request", "accept-encoding"} <= vary(response)
    assert {"hx-request", "accept-encoding"} <= vary(plain)
    assert "Content-Encoding" not in plain.headers


def test_fragments_vary_on_hx_request_too(client, org):
    login(client, org.rep)
    response = client.get("/today?lat=31.23&lng=121.47&acc=10",
                          headers={"HX-Request": "true", "Accept-Encoding": "gzip"})
    assert {"hx-request", "accept-encoding"} <= vary(response)


# --- the day offline -------------------------------------------------------------------------------

def test_the_day_list_names_the_rep_s_pages_and_no_one_else_s(client, org):
    here = make_store(rep=org.rep, name="Here")
    planned_store = make_store(rep=org.rep, name="Planned")
    plan = make_visit(org.rep, planned_store, planned_for=planning.local_today(org.rep))
    in_store = make_store(rep=org.rep, name="In progress")
    busy = make_visit(org.rep, in_store, at=earlier_today(10))
    done_store = make_store(rep=org.rep, name="Done")
    done = make_visit(org.rep, done_store, at=earlier_today(90), minutes=20)
    theirs = make_store(rep=org.teammate, name="Teammate's")
    their_plan = make_visit(org.teammate, make_store(rep=org.teammate),
                            planned_for=planning.local_today(org.teammate))
    assert busy.status == VisitStatus.IN_PROGRESS and done.status == VisitStatus.COMPLETED

    login(client, org.rep)
    response = client.get("/today/offline.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    data = response.get_json()
    pages = data["pages"]
    assert pages[0] == "/today"
    assert f"/visits/{busy.id}" in pages
    assert f"/visits/{plan.id}" in pages and f"/stores/{planned_store.id}" in pages
    assert f"/stores/{here.id}/checkin" in pages and f"/stores/{here.id}" in pages
    assert f"/visits/{done.id}" in pages
    assert pages[-2:] == ["/offline", "/outbox"]
    assert len(pages) == len(set(pages))
    assert f"/stores/{theirs.id}" not in pages and f"/visits/{their_plan.id}" not in pages
    assert not any(p.startswith(f"/stores/{theirs.id}/") for p in pages)
    assert static_url("css/app.css") in data["static"]
    assert data["urls"] == pages + data["static"]
    assert data["as_of"][:16] <= now().isoformat()[:16]
    # Every page of the list opens for the rep.
    for url in pages:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["supervisor", "manager", "admin"])
def test_the_day_list_is_a_rep_s(client, org, who):
    login(client, getattr(org, who))
    response = client.get("/today/offline.json", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert "error" in response.get_json()


def test_the_day_list_needs_a_sign_in(client):
    assert client.get("/today/offline.json").status_code in (302, 401)


def test_a_page_fetched_to_keep_leaves_the_flash_to_the_page_opened(client, org):
    login(client, org.rep)
    with client.session_transaction() as sess:
        sess["_flashes"] = [("success", "Checked in at Hongqiao Mart.")]
    kept = client.get("/today", headers={"X-Field-Prefetch": "1"}).get_data(as_text=True)
    assert "Checked in at Hongqiao Mart." not in kept
    assert "Checked in at Hongqiao Mart." in client.get("/today").get_data(as_text=True)


# --- the offline and outbox pages --------------------------------------------------------------------

def test_the_offline_page_in_the_rep_s_language(client, org):
    login(client, org.rep)
    html = client.get("/offline").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "This page is not available offline" in html
    assert '<a class="btn btn-primary grow" href="/today">Today</a>' in html
    org.rep.locale = "zh_CN"
    html = client.get("/offline").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert '<a class="btn btn-primary grow" href="/today">今日</a>' in html


def test_the_offline_page_for_others_leads_home(client, org):
    login(client, org.supervisor)
    html = client.get("/offline").get_data(as_text=True)
    assert 'href="/today"' not in html.split('id="offline-page"', 1)[1]
    assert '<a class="btn btn-primary grow" href="/">' in html


def test_the_outbox_page_is_a_shell_for_outbox_js(client, org):
    login(client, org.rep)
    response = client.get("/outbox")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<div id="outbox-list"[^>]*data-msg-empty="Nothing is waiting to be sent."', html)
    assert 'data-msg-kind-checkout="Check out"' in html
    org.rep.locale = "zh_CN"
    html = client.get("/outbox").get_data(as_text=True)
    assert 'data-msg-kind-checkout="签退"' in html


def test_the_outbox_page_needs_a_sign_in(client):
    assert client.get("/outbox").status_code == 302


# --- Today: once, with the position in place ---------------------------------------------------------

def test_today_says_when_it_was_worked_out(client, org):
    login(client, org.rep)
    make_store(rep=org.rep)
    html = client.get("/today").get_data(as_text=True)
    match = re.search(r'<p class="muted as-of" id="today-as-of"><time datetime="([^"]+)">As of (\d\d:\d\d)</time>', html)
    assert match, "Today shows its computation time"
    assert re.search(r'<div class="today" id="today" data-as-of="[^"]+">', html)


def test_the_position_updates_the_day_block_alone(client, org):
    login(client, org.rep)
    make_store(rep=org.rep, name="Near", lat=31.2304, lng=121.4737)
    response = client.get("/today?lat=31.2300&lng=121.4700&acc=12",
                          headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div class="today" id="today"')
    assert "<html" not in html and "bottomnav" not in html
    assert "The route starts where you are" in html
    assert "Near" in html and 'id="today-as-of"' in html


def test_the_position_still_works_as_a_plain_get(client, org):
    login(client, org.rep)
    make_store(rep=org.rep, name="Near", lat=31.2304, lng=121.4737)
    html = client.get("/today?lat=31.2300&lng=121.4700&acc=12").get_data(as_text=True)
    assert "<html" in html and "The route starts where you are" in html
