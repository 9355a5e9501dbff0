"""Sessions that can be revoked: signing out, a new password, an administrator's reset or deactivation
and "sign out on every other device" end sessions — a copy of an old cookie signs in no more.
Signing in starts a fresh session (and a fresh CSRF token)."""

import itsdangerous.timed
import pytest
from itsdangerous import URLSafeTimedSerializer

from field.auth.models import User
from field.extensions import db
from tests.factories import PASSWORD
from tests.web.test_users import new_rep_form

pytestmark = pytest.mark.usefixtures("cheap_hashes")


def sign_in(app, user, password=PASSWORD):
    c = app.test_client()
    r = c.post("/login", data={"login": user.login, "password": password})
    assert r.status_code == 302, r.get_data(as_text=True)
    return c


def signed_in(c) -> bool:
    return c.get("/profile").status_code == 200


def cookie(c) -> str:
    return c.get_cookie("session").value


def test_an_old_copy_of_the_cookie_is_signed_out_after_logout(app, org):
    c = sign_in(app, org.rep)
    stolen = cookie(c)
    assert c.post("/logout").status_code == 302
    c.set_cookie("session", stolen)
    assert not signed_in(c)


def test_logout_ends_the_user_s_other_sessions_too(app, org):
    phone, desk = sign_in(app, org.rep), sign_in(app, org.rep)
    desk.post("/logout")
    assert not signed_in(phone)


def test_a_password_change_signs_out_the_other_sessions_and_keeps_this_one(app, org):
    phone, desk = sign_in(app, org.rep), sign_in(app, org.rep)
    stolen = cookie(desk)
    r = desk.post("/profile/password", data={"password-current": PASSWORD, "password-new": "a-new-password",
                                             "password-confirm": "a-new-password"})
    assert r.status_code == 302
    assert signed_in(desk)
    assert not signed_in(phone)
    copy = app.test_client()
    copy.set_cookie("session", stolen)  # the cookie as it was before the change
    assert not signed_in(copy)


def test_sign_out_on_every_other_device(app, org):
    phone, desk = sign_in(app, org.rep), sign_in(app, org.rep)
    assert "Sign out on every other device" in desk.get("/profile").get_data(as_text=True)
    r = desk.post("/profile/sign-out-everywhere")
    assert r.status_code == 302 and r.headers["Location"] == "/profile"
    assert "Signed out on every other device." in desk.get("/profile").get_data(as_text=True)
    assert signed_in(desk) and not signed_in(phone)


def test_sign_out_everywhere_needs_a_csrf_token(app, org):
    phone, desk = sign_in(app, org.rep), sign_in(app, org.rep)
    assert desk.post("/profile/sign-out-everywhere", csrf=False).status_code == 400
    assert signed_in(phone)


def test_an_admin_password_reset_signs_the_user_out(app, org):
    phone = sign_in(app, org.rep)
    admin = sign_in(app, org.admin)
    data = new_rep_form(org, login="rep", name=org.rep.name, password="brand-new-pass", phone="", locale="en")
    assert admin.post(f"/users/{org.rep.id}/edit", data=data).status_code == 302
    assert not signed_in(phone)
    assert signed_in(admin)


def test_an_edit_without_a_new_password_keeps_the_user_signed_in(app, org):
    phone = sign_in(app, org.rep)
    admin = sign_in(app, org.admin)
    data = new_rep_form(org, login="rep", name="Renamed", password="", phone="", locale="en")
    assert admin.post(f"/users/{org.rep.id}/edit", data=data).status_code == 302
    assert signed_in(phone)


def test_an_admin_resetting_their_own_password_stays_signed_in_here(app, org):
    admin, other = sign_in(app, org.admin), sign_in(app, org.admin)
    data = new_rep_form(org, login="admin", name=org.admin.name, role="admin", password="brand-new-pass",
                        supervisor="", phone="", locale="en")
    assert admin.post(f"/users/{org.admin.id}/edit", data=data).status_code == 302
    assert signed_in(admin) and not signed_in(other)


def test_deactivation_signs_the_user_out_and_reactivation_does_not_bring_the_session_back(app, org):
    phone = sign_in(app, org.west_rep)
    stolen = cookie(phone)
    admin = sign_in(app, org.admin)
    assert admin.post(f"/users/{org.west_rep.id}/deactivate").status_code == 302
    assert not signed_in(phone)
    assert admin.post(f"/users/{org.west_rep.id}/activate").status_code == 302
    copy = app.test_client()
    copy.set_cookie("session", stolen)
    assert not signed_in(copy)


def test_signing_in_starts_a_fresh_session_and_csrf_token(app, org):
    c = app.test_client()
    c.get("/login")
    with c.session_transaction() as s:
        s["csrf_token"] = "planted-by-someone-else"
        s["planted"] = "x"
        s["lang"] = "en"
    c.post("/login", data={"login": org.rep.login, "password": PASSWORD},
           headers={"X-CSRFToken": c.csrf_token()})
    with c.session_transaction() as s:
        assert s.get("csrf_token") != "planted-by-someone-else"
        assert "planted" not in s
        assert s.get("lang") == "en"  # the language picked on the sign-in page stays


def test_a_session_from_before_versions_still_works_until_something_ends_it(app, org):
    c = app.test_client().login_as(org.rep)  # a cookie with only the user id, as before this change
    assert signed_in(c)
    db.session.get(User, org.rep.id).session_version += 1
    db.session.commit()
    assert not signed_in(c)


# --- "keep me signed in" --------------------------------------------------------------------------

def remembered(app, user, password=PASSWORD):
    """Sign in with the box ticked; return the long-lived cookie's value."""
    c = app.test_client()
    r = c.post("/login", data={"login": user.login, "password": password, "remember": "y"})
    assert r.status_code == 302
    kept = c.get_cookie("field_remember")
    assert kept is not None
    return kept


def browser_reopened(app, kept_value):
    """A browser that dropped its session cookie but kept the remember cookie."""
    c = app.test_client()
    c.set_cookie("field_remember", kept_value)
    return c


def test_keep_me_signed_in_is_offered_unticked_and_off_unless_ticked(app, org):
    page = app.test_client().get("/login").get_data(as_text=True)
    assert 'name="remember"' in page and "for 30 days" in page
    assert 'name="remember" value="y" checked' not in page
    c = sign_in(app, org.rep)
    assert c.get_cookie("field_remember") is None


def test_a_remembered_device_signs_in_again_after_the_browser_drops_the_session(app, org):
    kept = remembered(app, org.rep)
    assert kept.max_age == 30 * 24 * 3600 and kept.http_only
    c = browser_reopened(app, kept.value)
    assert signed_in(c)
    assert c.get_cookie("session") is not None  # a new session began


def test_logout_forgets_the_device_and_ends_every_copy_of_the_remember_cookie(app, org):
    kept = remembered(app, org.rep)
    c = browser_reopened(app, kept.value)
    assert signed_in(c)
    c.post("/logout")
    assert c.get_cookie("field_remember") is None
    assert not signed_in(browser_reopened(app, kept.value))


def test_a_password_change_or_deactivation_ends_remembered_devices(app, org):
    kept = remembered(app, org.rep)
    org.rep.session_version += 1  # what a new password and an admin reset do (tested above)
    db.session.commit()
    assert not signed_in(browser_reopened(app, kept.value))
    kept = remembered(app, org.rep)
    org.rep.active = False
    db.session.commit()
    assert not signed_in(browser_reopened(app, kept.value))


def test_an_expired_or_forged_remember_cookie_signs_no_one_in(app, org, monkeypatch):
    kept = remembered(app, org.rep)
    later = itsdangerous.timed.time.time() + 31 * 24 * 3600
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    assert not signed_in(browser_reopened(app, kept.value))
    monkeypatch.undo()
    assert signed_in(browser_reopened(app, kept.value))
    assert not signed_in(browser_reopened(app, kept.value[:-2] + "xx"))
    forged = URLSafeTimedSerializer("not the app's secret", salt="field-remember").dumps([org.admin.id, 0])
    assert not signed_in(browser_reopened(app, forged))


def test_not_offered_when_the_setting_is_zero(app, org, monkeypatch):
    monkeypatch.setitem(app.config, "REMEMBER_ME_DAYS", 0)
    assert 'name="remember"' not in app.test_client().get("/login").get_data(as_text=True)
    c = app.test_client()
    c.post("/login", data={"login": org.rep.login, "password": PASSWORD, "remember": "y"})
    assert c.get_cookie("field_remember") is None
