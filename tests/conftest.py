"""Fixtures that read like the app: an app on a migrated database, a client that
carries its CSRF token like a browser, and one user of each role.

The database is migrated once per run (SQLite file by default, PostgreSQL when
TEST_DATABASE_URL is set) and emptied before every test."""
import os
import secrets

import pytest
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from field import create_app
from field.extensions import db, limiter
from tests import factories


_REQUEST_CACHE = ("_login_user", "babel_locale", "babel_tzinfo", "babel_translations")


class Client(FlaskClient):
    """A test client that sends the CSRF token with every POST, as a page would.

    Pass csrf=False to send a request without it."""

    def open(self, *args, csrf=True, **kwargs):
        # Tests run inside one app context, which every request reuses; forget what the
        # last request cached there (its user, locale, time zone) as a new request would.
        for cached in _REQUEST_CACHE:
            g.pop(cached, None)
        # Tests are written in English; a request that says nothing about language asks for it,
        # as the factories' users do (the app's own default is Chinese).
        if not args or isinstance(args[0], str):  # not a redirect's ready-made request
            kwargs["headers"] = dict(kwargs.get("headers") or {})
            kwargs["headers"].setdefault("Accept-Language", "en")
        method = kwargs.get("method", "GET").upper()
        if csrf and method in ("POST", "PUT", "PATCH", "DELETE"):
            kwargs["headers"] = dict(kwargs.get("headers") or {})
            kwargs["headers"].setdefault("X-CSRFToken", self.csrf_token())
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        app = self.application
        with self.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                raw = sess["csrf_token"] = secrets.token_hex(20)
        return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)

    def login_as(self, user):
        with self.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True
        return self


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
        "SECRET_KEY": "test-secret",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "SERVER_NAME": None,
    })
    app.test_client_class = Client
    with app.app_context():
        if url.startswith("postgresql"):
            # A fresh schema each run, whatever an earlier run left behind.
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
    return app


def _empty_all_tables():
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(t.delete())
            conn.execute(text("DELETE FROM sqlite_sequence")) if conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() else None


@pytest.fixture(autouse=True)
def ctx(app):
    """Every test runs inside an app context on empty tables."""
    with app.app_context():
        _empty_all_tables()
        limiter.reset()
        yield
        db.session.remove()


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def org():
    """A small company: two areas under one country, a supervisor and two reps in the east,
    a rep and supervisor in the west, a manager for the east, an admin."""
    return factories.make_org()


@pytest.fixture
def rep(org):
    return org.rep


@pytest.fixture
def supervisor(org):
    return org.supervisor


@pytest.fixture
def manager(org):
    return org.manager


@pytest.fixture
def admin(org):
    return org.admin


@pytest.fixture
def as_rep(client, rep):
    return client.login_as(rep)


@pytest.fixture
def as_supervisor(client, supervisor):
    return client.login_as(supervisor)


@pytest.fixture
def as_manager(client, manager):
    return client.login_as(manager)


@pytest.fixture
def as_admin(client, admin):
    return client.login_as(admin)
