"""Error pages: every refusal is a clear message in the user's language, never a 500.

A write replayed from the phone's outbox (header `X-Field-Replay: 1`) or a JSON client gets its
refusal as `{"error": message}` with the 4xx, never a page: the outbox shows the message to the rep
and keeps the item. Views that answer a refused form in place ask replay_refusal() first."""
from flask import flash, jsonify, redirect, request
from flask_babel import gettext as _
from flask_login import current_user, login_url
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from field.core import DomainError
from field.extensions import db, login_manager
from field.web import render

REPLAY_HEADER = "X-Field-Replay"

MESSAGES = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("You are not allowed to do that."),
    404: lambda: _("Not found, or not yours to see."),
    405: lambda: _("That action is not possible here."),
    409: lambda: _("Someone changed this in the meantime. Reload and try again."),
    413: lambda: _("The file is too large."),
    422: lambda: _("Please check what you entered."),
    429: lambda: _("Too many attempts. Wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Nothing was saved."),
}


def is_replay() -> bool:
    """Whether the phone's outbox sent this request (its first send included)."""
    return request.headers.get(REPLAY_HEADER) == "1"


def wants_json() -> bool:
    """Refusals answer JSON: for the outbox, and for a client that asks for JSON."""
    return is_replay() or request.accept_mimetypes.best == "application/json" or request.is_json


def replay_refusal(refused=None, *, message: str | None = None, status: int = 422):
    """A refused write as `({"error": message}, status)` when the outbox (or a JSON client) sent it;
    None otherwise, and the view answers its page. Takes what web.refusal() caught, or a message
    (a form that did not validate: 422)."""
    if not wants_json():
        return None
    if refused is not None:
        message, status = refused.message, refused.status
    return jsonify(error=message or MESSAGES[422]()), status


def _answer(status: int, message: str):
    if wants_json():
        return jsonify(error=message), status
    return render("errors.html", block="content", status=status, status_code=status, message=message)


def _signed_out():
    """Not signed in (or no longer: a deactivated account's session stops loading). A page goes to the
    sign-in page as Flask-Login would; the outbox gets a 401/403 it can show, never the sign-in page
    (a redirect would count as done)."""
    if wants_json():
        if current_user and not current_user.is_anonymous and not current_user.is_active:
            return jsonify(error=_("This account has been deactivated. Ask your administrator.")), 403
        return jsonify(error=_("You are signed out. Sign in again: what is waiting on the phone stays there.")), 401
    flash(str(login_manager.login_message), login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=request.url))


def register(app):
    login_manager.unauthorized_handler(_signed_out)

    # Each answer here is 4xx/5xx, so field/transaction.py rolls the request back.
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return _answer(exc.status, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _answer(400, _("Your form expired or was sent from elsewhere. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = MESSAGES.get(exc.code, lambda: exc.description)()
        return _answer(exc.code or 500, message)

    @app.errorhandler(Exception)
    def unexpected(exc):
        if app.testing:
            raise exc
        app.logger.exception("unhandled error")
        # A refusal leaves the rolling back to field/transaction.py; an unexpected error may have left
        # the session unusable (a database connection dropped mid-request: "can't reconnect until the
        # invalid transaction is rolled back"), and this answer still reads (the user, for the language
        # and the menu). End it now, or the handler fails too and the server answers a bare 500.
        db.session.rollback()
        return _answer(500, MESSAGES[500]())
