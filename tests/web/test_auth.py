from field.audit import AuditEvent
from field.extensions import db
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
