"""Faults the app rides out: a database connection dropped between two requests costs no request."""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from field.extensions import db


def test_the_engine_checks_a_pooled_connection_before_using_it(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    assert db.engine.pool._pre_ping


def test_a_dropped_database_connection_costs_no_request(app, as_rep):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite has no server connection to drop")
    assert as_rep.get("/today").status_code == 200
    db.session.remove()  # every connection of the app back in its pool, as between two requests
    outsider = create_engine(db.engine.url, poolclass=NullPool)
    with outsider.begin() as conn:  # what a database restart or an idle timeout does to the pool
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    outsider.dispose()
    assert killed >= 1
    assert as_rep.get("/today").status_code == 200


@pytest.mark.parametrize("bad", [{"lat": "\uff13\uff11.230400"}, {"accuracy": "\uff18"}])
def test_a_photo_whose_position_has_full_width_digits_is_refused(client, org, bad):
    from tests.conftest import login
    from tests.web.test_photos import good_jpeg, photo_count, post, visit_in_progress
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    r = post(client, visit, good_jpeg(seed=6), **bad)
    assert r.status_code == 422 and r.get_json()["error"] and photo_count() == 0


# --- a connection lost mid-request: the error page still answers (bench/faults.py found it) --------------

def _needs_postgresql():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite has no server connection to drop")


def _terminate_this_requests_connection():
    """pg_terminate_backend on the connection the request is using, from outside, as a database restart
    or an operator would: the request's next statement fails and its transaction is left unusable."""
    pid = db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()  # no autoflush
    outsider = create_engine(db.engine.url, poolclass=NullPool)
    with outsider.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    outsider.dispose()


def _as_in_production(client, method: str, path: str, headers=None, **kwargs):
    """The request run on a thread of its own, so it gets its own app context and session as under
    gunicorn (a test's requests share the test's, which hides what a broken session does)."""
    import threading

    from flask.testing import FlaskClient
    headers = {"Accept-Language": "en", **(headers or {})}
    if method == "POST":
        headers.setdefault("X-CSRFToken", client.csrf_token())
    out = {}
    thread = threading.Thread(target=lambda: out.update(
        r=FlaskClient.open(client, path, method=method, headers=headers, **kwargs)))
    thread.start()
    thread.join()
    return out["r"]


def test_a_connection_lost_while_loading_the_user_answers_the_apps_500_not_a_bare_server_error(
        app, as_rep, monkeypatch):
    """Found by bench/faults.py: the connection dropped at the request's first query (the signed-in user).
    The error handler asks for the user again (the page's language is the user's), on the same broken
    transaction, and raised in turn: gunicorn answered its own bare "Internal Server Error" (English, no
    JSON for the outbox, not the app's "nothing was saved")."""
    _needs_postgresql()
    from field.extensions import login_manager
    real, dropped = login_manager._user_callback, []

    def load_user(user_id):
        if not dropped:
            dropped.append(user_id)
            _terminate_this_requests_connection()
        return real(user_id)

    monkeypatch.setattr(login_manager, "_user_callback", load_user)
    monkeypatch.setattr(app, "testing", False)  # answer as in production instead of raising into the test
    r = _as_in_production(as_rep, "GET", "/today", headers={"X-Field-Replay": "1"})
    assert dropped and r.status_code == 500
    assert r.get_json()["error"] == "Something went wrong on our side. Nothing was saved."
    dropped.clear()
    r = _as_in_production(as_rep, "GET", "/today")
    assert r.status_code == 500 and 'data-status="500"' in r.get_data(as_text=True)
    monkeypatch.setattr(login_manager, "_user_callback", real)
    assert _as_in_production(as_rep, "GET", "/today").status_code == 200  # the next request is served as usual


def test_a_connection_lost_mid_request_answers_the_apps_500_not_a_bare_server_error(app, as_rep, monkeypatch):
    """The error page reads the user and the menu: with the broken transaction still open its handler
    raised too, and gunicorn answered its own bare "Internal Server Error" (English, no JSON for the
    outbox, no "nothing was saved")."""
    _needs_postgresql()
    from field.visits import planning
    real = planning.today_for

    def dropped(*args, **kwargs):
        _terminate_this_requests_connection()
        return real(*args, **kwargs)

    monkeypatch.setattr(planning, "today_for", dropped)
    monkeypatch.setattr(app, "testing", False)  # answer as in production instead of raising into the test
    r = _as_in_production(as_rep, "GET", "/today")
    assert r.status_code == 500 and 'data-status="500"' in r.get_data(as_text=True)
    r = _as_in_production(as_rep, "GET", "/today", headers={"X-Field-Replay": "1"})
    assert r.status_code == 500 and r.get_json()["error"]
    monkeypatch.setattr(planning, "today_for", real)
    assert _as_in_production(as_rep, "GET", "/today").status_code == 200  # the next one is served as usual


def test_a_commit_that_loses_its_connection_answers_the_apps_500_and_writes_nothing(app, as_rep, rep, monkeypatch):
    """The request's one commit (field/transaction.py) failing: the app's 500 (JSON for the outbox, which
    sends it again), not a bare one; the check-in is not half-made, and its retry goes through."""
    _needs_postgresql()
    from tests.web.test_visit import planned, position
    visit = planned(rep)
    real = db.session.commit

    def commit():
        _terminate_this_requests_connection()
        real()

    monkeypatch.setattr(db.session, "commit", commit)
    monkeypatch.setattr(app, "testing", False)
    form = {**position(), "client_key": "6f1c1a52-8d0e-4d36-9a55-3f7c2b6f7d10"}
    r = _as_in_production(as_rep, "POST", f"/visits/{visit.id}/checkin", data=form, headers={"X-Field-Replay": "1"})
    assert r.status_code == 500 and r.get_json()["error"]
    monkeypatch.setattr(db.session, "commit", real)
    db.session.expire_all()
    assert db.session.get(type(visit), visit.id).status == "planned"
    assert _as_in_production(as_rep, "POST", f"/visits/{visit.id}/checkin", data=form,
                             headers={"X-Field-Replay": "1"}).status_code == 302


def test_a_sign_in_whose_commit_fails_keeps_nothing_so_the_same_form_signs_in_when_sent_again(
        app, client, rep, monkeypatch):
    """Found by bench/faults.py: the sign-in's commit lost its connection; the 500 said "nothing was saved"
    but its cookie signed the rep in with a new session (and CSRF token), so the sign-in form sent again
    was refused 400 ("your form expired"). A 5xx keeps nothing, the session cookie included."""
    _needs_postgresql()
    from tests.factories import PASSWORD
    real = db.session.commit

    def commit():
        _terminate_this_requests_connection()
        real()

    token = {"X-CSRFToken": client.csrf_token()}  # the sign-in page's, as the browser holds it
    form = {"login": rep.login, "password": PASSWORD}
    monkeypatch.setattr(db.session, "commit", commit)
    monkeypatch.setattr(app, "testing", False)
    r = _as_in_production(client, "POST", "/login", data=form, headers=token)
    assert r.status_code == 500 and 'data-status="500"' in r.get_data(as_text=True)
    assert "Set-Cookie" not in r.headers  # the rep is not signed in by an answer that saved nothing
    monkeypatch.setattr(db.session, "commit", real)
    r = _as_in_production(client, "POST", "/login", data=form, headers=token)
    assert r.status_code == 302 and "/login" not in r.headers["Location"]
