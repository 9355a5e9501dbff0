"""Sessions that can be revoked.

The session cookie is signed but kept by the browser, so ending a session server-side means
raising the user's `session_version`: each session stores the version it began under, and a
request whose session is behind (or whose user was deactivated) is signed out before any view runs.
A session without a stored version counts as 0, the version every user starts at.

"Keep me signed in" (off unless ticked; REMEMBER_ME_DAYS, 0 hides it) is a second, long-lived
cookie holding the user id and the session version, signed and dated: it starts a new session when the
browser has dropped the first, until it expires or the version moves on — so logout, a new password,
a reset and "sign out on every other device" end it too.

Nothing here commits: the request does."""
from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer

from field.auth import bp
from field.auth.models import User
from field.extensions import db

KEY = "_session_version"
KEEP_ACROSS_SIGN_IN = ("lang",)  # chosen on the sign-in page, before anyone signed in
REMEMBER_COOKIE = "field_remember"


def begin(user: User, remember: bool = False) -> None:
    """Sign `user` in on a fresh session: nothing from before is carried over but the language —
    not the CSRF token, not a former user's keys. `remember`: keep them signed in on this device."""
    kept = {k: session[k] for k in KEEP_ACROSS_SIGN_IN if k in session}
    session.clear()
    session.update(kept)
    login_user(user)
    session[KEY] = user.session_version
    if remember and remember_days():
        g.remember_cookie = _signer().dumps([user.id, user.session_version or 0])


def remember_days() -> int:
    return current_app.config.get("REMEMBER_ME_DAYS", 0)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="field-remember")


def _remembered() -> User | None:
    """The user this request's remember cookie names, if it is well signed, unexpired and of their
    current session version, and they are still active."""
    raw = request.cookies.get(REMEMBER_COOKIE)
    if not raw or not remember_days():
        return None
    try:
        user_id, version = _signer().loads(raw, max_age=int(timedelta(days=remember_days()).total_seconds()))
        user = db.session.get(User, int(user_id))
    except (BadData, TypeError, ValueError):
        return None
    if user is None or not user.active or version != (user.session_version or 0):
        return None
    return user


def end_all(user: User) -> None:
    """End every session of `user` (the next request of each is signed out)."""
    user.session_version = (user.session_version or 0) + 1


def end_others(user: User) -> None:
    """End every session of `user` but this request's."""
    end_all(user)
    session[KEY] = user.session_version


def end_this(user: User) -> None:
    """Sign out here, so that no copy of this session's cookie signs in again (nor any other)."""
    end_all(user)
    logout_user()
    session.pop(KEY, None)
    g.remember_cookie = ""


def is_current(user: User) -> bool:
    return user.active and session.get(KEY, 0) == (user.session_version or 0)


@bp.before_app_request
def _sign_out_revoked():
    if request.endpoint == "static":
        return
    if "_user_id" not in session:
        if REMEMBER_COOKIE in request.cookies:
            user = _remembered()
            if user is None:
                g.remember_cookie = ""  # expired or revoked: forget it
            else:
                begin(user)
                session["_fresh"] = False  # a remembered sign-in, not a password typed just now
        return
    if current_user.is_authenticated and not is_current(current_user):
        logout_user()
        session.pop(KEY, None)
        g.remember_cookie = ""


@bp.after_app_request
def _set_remember_cookie(response):
    value = g.pop("remember_cookie", None)
    if value:
        response.set_cookie(REMEMBER_COOKIE, value, max_age=int(timedelta(days=remember_days()).total_seconds()),
                            httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    elif value == "":
        response.delete_cookie(REMEMBER_COOKIE, httponly=True, samesite="Lax",
                               secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
