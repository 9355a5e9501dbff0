"""Security headers on every kind of answer: page, fragment, error, JSON, export, worker, static."""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from field import create_app, security
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def assert_secured(response):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.headers)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'" and directives["form-action"] == "'self'"
    assert directives["img-src"] == "'self' data: blob:"
    assert "Strict-Transport-Security" not in response.headers  # not in development


@pytest.mark.parametrize("url, status, headers", [
    ("/login", 200, {}),                                    # a page, signed out
    ("/today", 200, {}),                                     # a page, signed in
    ("/today", 200, {"HX-Request": "true"}),                 # a fragment
    ("/no-such-page", 404, {}),                              # an error page
    ("/no-such-page", 404, {"HX-Request": "true"}),          # an error fragment
    ("/today/offline.json", 200, {}),                        # JSON
    ("/stores/export.csv", None, {}),                        # an export (or its refusal)
    ("/sw.js", 200, {}),                                     # the service worker
    ("/manifest.webmanifest", 200, {}),
])
def test_every_kind_of_answer_carries_the_headers(client, org, url, status, headers):
    if url != "/login":
        login(client, org.rep)
    response = client.get(url, headers=headers)
    if status is not None:
        assert response.status_code == status
    assert_secured(response)


def test_exports_carry_the_headers(client, org):
    login(client, org.manager)
    for url in ("/stores/export.csv", "/stores/export.xlsx", "/products/export.csv", "/sales/template.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_secured(response)


def test_a_refused_post_carries_the_headers(client, org):
    login(client, org.rep)
    assert_secured(client.post("/logout", csrf=False))


def test_static_files_served_by_whitenoise_carry_them(client):
    html = client.get("/login").get_data(as_text=True)
    for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+)"', html):
        response = client.get(src)
        assert response.status_code == 200, src
        assert_secured(response)


def test_pages_have_no_inline_script(client, org):
    for who in (None, org.rep, org.supervisor, org.manager, org.admin):
        if who is not None:
            login(client, who)
        html = client.get("/login" if who is None else "/").get_data(as_text=True)
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts and all(" src=" in tag for tag in scripts), scripts
        assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
        assert "hx-on" not in html  # htmx would compile these with Function: blocked without 'unsafe-eval'


def test_hsts_only_in_production(monkeypatch):
    assert dict(security.headers(False)).get("Strict-Transport-Security") is None
    monkeypatch.setenv("FIELD_ENV", "production")
    assert dict(security.headers(True))["Strict-Transport-Security"].startswith("max-age=31536000")


def test_hsts_sent_in_production(app):
    prod = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY")}, "HSTS": True,
                       "TESTING": True})
    response = prod.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == security.HSTS


# --- production is served by gunicorn, never by the development server ---------------------------

def _production_env(tmp_path) -> dict:
    env = dict(os.environ, FIELD_ENV="production", SECRET_KEY="x" * 32,
               DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite'}", STATIC_BUILD_DIR=str(tmp_path / "static"))
    env.pop("FLASK_RUN_FROM_CLI", None)
    return env


def test_flask_run_refuses_to_serve_in_production(tmp_path):
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", "0"], cwd=ROOT,
                          env=_production_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "served by gunicorn" in done.stderr and "Running on" not in done.stderr + done.stdout


def test_production_under_gunicorn_names_no_server_version(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                              cwd=ROOT, env=_production_env(tmp_path), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            try:
                answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer")
        assert answer.status == 200
        assert answer.headers["Server"] == "gunicorn"  # no version, no Werkzeug, no Python
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Secure" in answer.headers["Set-Cookie"]
    finally:
        server.terminate()
        server.wait(timeout=30)
