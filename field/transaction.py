"""One transaction per request: the one place that commits.

Operations stage changes (add, flush, guarded updates) and raise DomainError when a rule refuses;
they never commit. A request that answers below 400 commits here once, after the view; any other
answer (a refusal, a 404, an error page) rolls back, so nothing is ever half-written. CLI
commands and jobs call commit() at their own end."""
from flask import Flask, Response

from field.extensions import db


def commit() -> None:
    """Make the unit of work durable (a command's or job's end; the request does it below)."""
    db.session.commit()


def register(app: Flask) -> None:
    @app.after_request
    def finish(response: Response) -> Response:
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        # Answers differ for htmx (a fragment) and for a page load: no cache may swap them.
        response.vary.add("HX-Request")
        return response
