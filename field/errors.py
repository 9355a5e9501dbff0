"""Error pages: every refusal is a clear message in the user's language, never a 500."""
from flask import jsonify, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from field.core import DomainError
from field.web import render

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


def _answer(status: int, message: str):
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify(error=message), status
    return render("errors.html", block="content", status=status, status_code=status, message=message)


def register(app):
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
        return _answer(500, MESSAGES[500]())
