"""Fixtures that read like the app: an app on a migrated database, a client that
carries its CSRF token like a browser, and one user of each role.

The database is migrated once per run (SQLite file by default, PostgreSQL when
TEST_DATABASE_URL is set) and emptied before every test.

Opt-in fixtures a module turns on with `pytestmark = pytest.mark.usefixtures(...)`:
- `request_ctx`: the test runs inside a request (in English; `@pytest.mark.language(None)` for a
  request that names no language, so the app's default applies), for translated messages;
- `builtin_types`: the built-in visit types exist before the test starts;
- `cheap_hashes`: passwords the app itself hashes (admin pages, profile) get one cheap round.

`login(client, user)` signs a test client in (the same as `client.login_as(user)`)."""
import os
import secrets
import time
from functools import partial

import pytest
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.security import generate_password_hash

from field import create_app
from field.extensions import db, limiter
from field.visits.builtin import ensure_builtin_types
from tests import factories


# What a request caches on g: Flask-Login's user; Flask-Babel 4's locale, zone and translations (in g._flask_babel;
# the babel_* names are where older Flask-Babel kept them).
_REQUEST_CACHE = ("_login_user", "_flask_babel", "babel_locale", "babel_tzinfo", "babel_translations")


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
        """Sign in as `user`. The test shares the app context with its requests, so forget who was signed in."""
        g.pop("_login_user", None)
        with self.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True
        return self


def login(client: Client, user) -> Client:
    """The client signed in as `user`."""
    return client.login_as(user)


def pytest_configure(config):
    config.addinivalue_line("markers", "language(code): the Accept-Language of the request_ctx fixture's "
                                       "request ('en' unless marked; None for none)")


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
        "LOGIN_ACCOUNT_RATE_LIMIT": "1000 per minute",
        "SERVER_NAME": None,
    })
    app.test_client_class = Client
    with app.app_context():
        if url.startswith("postgresql"):
            # A fresh schema each run, whatever an earlier run left behind.
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                # A test's commit need not wait for its WAL to reach the disk: a crash loses only a test
                # database that the next run drops anyway. New connections take it from the database.
                conn.execute(text(f'ALTER DATABASE "{conn.engine.url.database}" SET synchronous_commit = off'))
            db.engine.dispose()
        upgrade()
    return app


def _empty_all_tables():
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        _empty_postgres(tables)
        return
    with db.engine.begin() as conn:
        for t in tables:
            conn.execute(t.delete())
        conn.execute(text("DELETE FROM sqlite_sequence")) if conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() else None


def _empty_postgres(tables):
    """DELETE the few rows a test leaves and restart every sequence: ~10 ms, where a TRUNCATE of every
    table costs 100–300 ms (a new file per table and index). As a superuser, `session_replication_role
    = replica` turns off the triggers for the cleaning only: the foreign keys (so the order does not
    matter) and the append-only ledgers' refusals. Without superuser rights, TRUNCATE, which needs neither.

    A browser test's live server may still be answering the closed page's last request, holding a
    table the cleaning needs while waiting for one the cleaning holds: PostgreSQL then ends one of
    the two as a deadlock. Wait for it to finish and empty the tables again."""
    for attempt in range(5):
        try:
            with db.engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                if conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
                    conn.execute(text("SET LOCAL session_replication_role = replica"))
                    for t in tables:
                        conn.execute(text(f'DELETE FROM "{t.name}"'))
                    conn.execute(text(
                        "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relkind = 'S' AND n.nspname = current_schema()"))
                else:
                    names = ", ".join(f'"{t.name}"' for t in tables)
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.5)


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


@pytest.fixture
def request_ctx(app, request):
    """Opt-in: the test runs inside a request, because translated messages need one to know their
    language. English, unless the test or module is marked `@pytest.mark.language(code)` (None: the
    request names no language and the app's default applies)."""
    marker = request.node.get_closest_marker("language")
    language = marker.args[0] if marker else "en"
    headers = {"Accept-Language": language} if language else {}
    with app.test_request_context(headers=headers):
        yield


@pytest.fixture
def builtin_types():
    """Opt-in: the built-in visit types exist before the test starts."""
    ensure_builtin_types()
    db.session.commit()


@pytest.fixture
def cheap_hashes(monkeypatch):
    """Opt-in: passwords the app hashes itself (admin pages, profile, made-up users) get one cheap round;
    the real hash costs ~50 ms, which hundreds of tests cannot afford."""
    monkeypatch.setattr("field.auth.models.generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1"))
