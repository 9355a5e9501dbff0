"""Who the client is: forwarded headers are believed only from the proxies the operator declares
(TRUSTED_PROXIES), for the audit log and the sign-in limits; sign-in is limited per address and per
account; an unknown login costs the same password check as a known one."""
import pytest
from sqlalchemy import select

from field import create_app
from field.audit import AuditEvent
from field.auth import views as auth_views
from field.extensions import db, limiter
from tests.factories import PASSWORD


def sign_in(client, login, password=PASSWORD, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post("/login", data={"login": login, "password": password}, headers=headers)


def last_login_ip() -> str:
    db.session.expire_all()
    return db.session.execute(select(AuditEvent.ip).where(AuditEvent.action == "login")
                              .order_by(AuditEvent.id.desc())).scalars().first()


@pytest.fixture
def behind_proxy(app):
    """The same app and database, configured as deployed behind one proxy (nginx) that sets the headers."""
    def make(**config):
        proxied = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "SECRET_KEY")},
                              "TESTING": True, "TRUSTED_PROXIES": 1, "LOGIN_RATE_LIMIT": "1000 per minute",
                              "LOGIN_ACCOUNT_RATE_LIMIT": "1000 per minute", **config})
        proxied.test_client_class = app.test_client_class
        return proxied.test_client()
    return make


def test_a_forged_forwarded_address_is_not_believed_without_a_proxy_setting(client, rep):
    assert sign_in(client, rep.login, forwarded="203.0.113.9").status_code == 302
    assert last_login_ip() == "127.0.0.1"  # the connection's own peer, not what the client claims


def test_behind_the_declared_proxy_the_forwarded_client_is_recorded(behind_proxy, rep):
    client = behind_proxy()
    assert sign_in(client, rep.login, forwarded="198.51.100.7").status_code == 302
    assert last_login_ip() == "198.51.100.7"


def test_the_address_limit_counts_each_real_client_on_its_own(behind_proxy, rep):
    client = behind_proxy(LOGIN_RATE_LIMIT="3 per minute")
    for _ in range(3):
        assert sign_in(client, rep.login, "wrong", forwarded="198.51.100.7").status_code == 422
    assert sign_in(client, rep.login, "wrong", forwarded="198.51.100.7").status_code == 429
    # Another rep behind the same proxy is not locked out by the first one's tries.
    assert sign_in(client, rep.login, forwarded="198.51.100.8").status_code == 302
    limiter.reset()


def test_forging_addresses_does_not_escape_the_address_limit(app, client, rep, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    for n in range(3):
        assert sign_in(client, rep.login, "wrong", forwarded=f"192.0.2.{n}").status_code == 422
    assert sign_in(client, rep.login, "wrong", forwarded="192.0.2.99").status_code == 429


def test_one_account_guessed_from_many_addresses_is_limited_too(behind_proxy, org):
    client = behind_proxy(LOGIN_ACCOUNT_RATE_LIMIT="3 per minute")
    for n in range(3):
        assert sign_in(client, org.rep.login, "wrong", forwarded=f"198.51.100.{n}").status_code == 422
    assert sign_in(client, org.rep.login, "wrong", forwarded="198.51.100.50").status_code == 429
    # Other accounts sign in as usual.
    assert sign_in(client, org.teammate.login, forwarded="198.51.100.50").status_code == 302
    limiter.reset()


def test_an_unknown_login_costs_the_same_password_check_as_a_known_one(client, rep, monkeypatch):
    checks = []
    real = auth_views.check_password_hash
    monkeypatch.setattr(auth_views, "check_password_hash", lambda h, p: checks.append(h) or real(h, p))
    assert sign_in(client, "nobody-by-this-name", "whatever").status_code == 422
    assert checks == [auth_views._UNKNOWN_LOGIN_HASH]
