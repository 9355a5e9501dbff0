"""Sessions that can be revoked.

The session cookie is signed but kept by the browser, so ending a session server-side means
raising the user's `session_version`: each session stores the version it began under, and a
request whose session is behind (or whose user was deactivated) is signed out before any view runs.
A session without a stored version counts as 0, the version every user starts at.

Nothing here commits: the request does."""
from flask import request, session
from flask_login import current_user, login_user, logout_user

from field.auth import bp
from field.auth.models import User

KEY = "_session_version"
KEEP_ACROSS_SIGN_IN = ("lang",)  # chosen on the sign-in page, before anyone signed in


def begin(user: User) -> None:
    """Sign `user` in on a fresh session: nothing from before is carried over but the language —
    not the CSRF token, not a former user's keys."""
    kept = {k: session[k] for k in KEEP_ACROSS_SIGN_IN if k in session}
    session.clear()
    session.update(kept)
    login_user(user)
    session[KEY] = user.session_version


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


def is_current(user: User) -> bool:
    return user.active and session.get(KEY, 0) == (user.session_version or 0)


@bp.before_app_request
def _sign_out_revoked():
    if request.endpoint == "static" or "_user_id" not in session:
        return
    if current_user.is_authenticated and not is_current(current_user):
        logout_user()
        session.pop(KEY, None)
