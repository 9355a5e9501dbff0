from urllib.parse import unquote

import pytest

from field.audit import AuditEvent
from field.extensions import db
from field.web import safe_path
from tests.factories import PASSWORD


def test_login_lands_a_rep_on_today_and_is_audited(client, rep):
    r = client.post("/login", data={"login": "rep", "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] == "/today"
    assert client.get("/today").status_code == 200
    assert client.get("/login").headers["Location"] == "/today"  # signed in already: the same landing
    assert db.session.query(AuditEvent).filter_by(action="login", actor_id=rep.id).count() == 1


def test_login_lands_other_roles_on_their_home(client, supervisor):
    r = client.post("/login", data={"login": supervisor.login, "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_still_follows_next(client, rep):
    r = client.post("/login?next=/stores", data={"login": "rep", "password": PASSWORD})
    assert r.headers["Location"] == "/stores"


def test_wrong_password_is_refused_with_message(client, rep):
    r = client.post("/login", data={"login": "rep", "password": "nope"})
    assert r.status_code == 422
    assert b"Wrong login or password" in r.data


def test_login_without_csrf_token_is_refused(client, rep):
    r = client.post("/login", data={"login": "rep", "password": PASSWORD}, csrf=False)
    assert r.status_code == 400
    assert client.get("/").status_code == 302  # still signed out


# --- next: only same-site paths, read as a browser reads them --------------------------------

OFF_SITE = ["//evil.example", "/%09/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example",
            "/%5cevil.example", "%5c%5cevil.example", "/%5c/evil.example", "%20//evil.example",
            "%09//evil.example", "/%00/evil.example", "https://evil.example/", "javascript:alert(1)",
            "https:evil.example", "/%7f/evil.example"]


@pytest.mark.parametrize("next_", OFF_SITE)
def test_sign_in_never_redirects_off_site(client, rep, next_):
    r = client.post(f"/login?next={next_}", data={"login": "rep", "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] == "/today"  # the landing, not the target


@pytest.mark.parametrize("next_", OFF_SITE)
def test_the_language_switch_never_redirects_off_site(client, next_):
    r = client.post("/language", data={"lang": "en", "next": unquote(next_)})
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_a_same_site_next_with_a_query_is_kept(client, rep):
    r = client.post("/login?next=/stores%3Fq%3D//x", data={"login": "rep", "password": PASSWORD})
    assert r.headers["Location"] == "/stores?q=//x"
    r = client.post("/language", data={"lang": "en", "next": "/login?next=/stores"})
    assert r.headers["Location"] == "/login?next=/stores"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\\evil.example", " //evil.example", "\n/\n/evil.example",
                                    "/\x00/evil.example", "\\\\evil.example", "http://evil.example", ""])
def test_safe_path_refuses_what_a_browser_reads_as_another_site(target):
    assert safe_path(target) is None


def test_safe_path_keeps_a_plain_path():
    assert safe_path("/visits/3?tab=photos#p2") == "/visits/3?tab=photos#p2"
