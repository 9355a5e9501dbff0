"""The profile page: language and time zone follow the user; a new password needs the current one."""

import re

import pytest
from sqlalchemy import select

from field.audit import AuditEvent
from field.auth.models import User
from field.extensions import db
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("cheap_hashes")


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def html_lang(html: str) -> str:
    return html.split('<html lang="')[1].split('"')[0]


def test_signed_out_visitors_go_to_sign_in(client):
    r = client.get("/profile")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_profile_shows_who_i_am(as_rep, org):
    html = as_rep.get("/profile").get_data(as_text=True)
    assert org.rep.name in html and org.supervisor.name in html and "East" in html
    assert html_lang(html) == "en"


def test_switching_to_chinese_is_saved_and_audited(as_rep, org):
    r = as_rep.post("/profile", data={"profile-locale": "zh_CN", "profile-timezone": "Asia/Urumqi"})
    assert r.status_code == 302 and r.headers["Location"] == "/profile"
    rep = reload(org.rep)
    assert rep.locale == "zh_CN" and rep.timezone == "Asia/Urumqi"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "profile.update")).scalar_one()
    assert event.actor_id == rep.id and event.details["locale"] == "zh_CN"
    html = as_rep.get("/profile").get_data(as_text=True)
    assert '<option selected value="zh_CN">' in html or 'value="zh_CN" selected' in html


# Babel ≥ 2.15 parses "zh_CN" as zh_Hans_CN, so base.html's `(get_locale()|string) == 'zh_CN'` never
# matches. Fix (templates/base.html, the lead's file): `'zh-CN' if get_locale().language == 'zh' else 'en'`,
# then delete this marker.

def test_after_switching_to_chinese_every_page_says_zh_cn(as_rep, org):
    as_rep.post("/profile", data={"profile-locale": "zh_CN", "profile-timezone": "Asia/Shanghai"})
    assert html_lang(as_rep.get("/").get_data(as_text=True)) == "zh-CN"
    assert html_lang(as_rep.get("/stores").get_data(as_text=True)) == "zh-CN"


def test_switching_back_to_english(client, org):
    org.rep.locale = "zh_CN"
    db.session.commit()
    client.login_as(org.rep)
    assert html_lang(client.get("/").get_data(as_text=True)) == "zh-CN"
    client.post("/profile", data={"profile-locale": "en", "profile-timezone": "Asia/Shanghai"})
    assert html_lang(client.get("/").get_data(as_text=True)) == "en"


def test_an_unknown_language_or_time_zone_is_refused(as_rep, org):
    r = as_rep.post("/profile", data={"profile-locale": "xx", "profile-timezone": "Asia/Shanghai"})
    assert r.status_code == 422
    r = as_rep.post("/profile", data={"profile-locale": "zh_CN", "profile-timezone": "Mars/Olympus"})
    assert r.status_code == 422
    assert reload(org.rep).locale == "en"


def test_preferences_without_a_csrf_token_are_refused(as_rep, org):
    r = as_rep.post("/profile", data={"profile-locale": "zh_CN", "profile-timezone": "Asia/Shanghai"}, csrf=False)
    assert r.status_code == 400 and reload(org.rep).locale == "en"


def test_the_local_time_zone_shows_in_times(as_admin, org):
    """The audit page shows times in the reader's zone: change the zone, the same event reads differently."""
    from datetime import datetime, timezone
    db.session.add(AuditEvent(at=datetime(2024, 5, 1, 23, 30, tzinfo=timezone.utc), action="x",
                              actor_id=org.admin.id, object_type="users", object_id=org.rep.id))
    db.session.commit()
    assert "7:30" in as_admin.get("/audit").get_data(as_text=True)  # Asia/Shanghai by default
    as_admin.post("/profile", data={"profile-locale": "en", "profile-timezone": "Europe/London"})
    assert "12:30" in as_admin.get("/audit").get_data(as_text=True)  # BST, 1 h ahead of UTC


def password_form(current, new, confirm=None) -> dict:
    return {"password-current": current, "password-new": new, "password-confirm": confirm or new}


def test_password_change_needs_the_current_password(as_rep, org):
    r = as_rep.post("/profile/password", data=password_form("not-my-password", "a-new-password"))
    assert r.status_code == 422
    assert "That is not your current password." in r.get_data(as_text=True)
    assert reload(org.rep).check_password(PASSWORD)


def test_password_change_with_the_current_password_works_and_is_audited(as_rep, org, client):
    r = as_rep.post("/profile/password", data=password_form(PASSWORD, "a-new-password"))
    assert r.status_code == 302
    assert reload(org.rep).check_password("a-new-password")
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "password.change")).scalar_one()
    client.post("/logout")
    assert client.post("/login", data={"login": "rep", "password": PASSWORD}).status_code == 422
    assert client.post("/login", data={"login": "rep", "password": "a-new-password"}).status_code == 302


def test_a_short_or_mistyped_new_password_is_refused(as_rep, org):
    assert as_rep.post("/profile/password", data=password_form(PASSWORD, "short")).status_code == 422
    r = as_rep.post("/profile/password", data=password_form(PASSWORD, "a-new-password", "a-new-passw0rd"))
    assert r.status_code == 422 and "The two passwords differ." in r.get_data(as_text=True)
    assert reload(org.rep).check_password(PASSWORD)


def test_password_change_without_a_csrf_token_is_refused(as_rep, org):
    r = as_rep.post("/profile/password", data=password_form(PASSWORD, "a-new-password"), csrf=False)
    assert r.status_code == 400 and reload(org.rep).check_password(PASSWORD)


def test_time_zones_are_named_in_the_reader_s_language_with_their_offset(client, org):
    org.rep.locale = "zh_CN"
    db.session.commit()
    page = client.login_as(org.rep).get("/profile").get_data(as_text=True)
    assert re.search(r'<option [^>]*value="Asia/Shanghai"[^>]*>中国（上海）时间 · UTC\+08:00</option>', page)
    assert ">Asia/Shanghai<" not in page
    org.rep.locale = "en"
    db.session.commit()
    page = client.get("/profile").get_data(as_text=True)
    assert "China (Shanghai) Time · UTC+08:00" in page and "India Time · UTC+05:30" in page


def test_an_e_mail_for_notifications_is_saved_and_a_mistyped_one_refused(as_rep, org):
    form = {"profile-locale": "en", "profile-timezone": "Asia/Shanghai"}
    r = as_rep.post("/profile", data={**form, "profile-email": "zhang san@example"})
    assert r.status_code == 422 and "name@example.com" in r.get_data(as_text=True)
    assert reload(org.rep).email is None
    r = as_rep.post("/profile", data={**form, "profile-email": " Zhang.San@Example.com "})
    assert r.status_code == 302 and reload(org.rep).email == "zhang.san@example.com"
    assert 'value="zhang.san@example.com"' in as_rep.get("/profile").get_data(as_text=True)
    as_rep.post("/profile", data={**form, "profile-email": ""})
    assert reload(org.rep).email is None  # emptied: no more mail
