"""One transaction per request: the one place that commits.

Operations stage changes (add, flush, guarded updates) and raise DomainError when a rule refuses;
they never commit. A request that answers below 400 commits here once, after the view; any other
answer (a refusal, a 404, an error page) rolls back, so nothing is ever half-written. CLI
commands and jobs call commit() at their own end."""
from flask import Flask, Response, session

from field.extensions import db


def commit() -> None:
    """Make the unit of work durable (a command's or job's end; the request does it below)."""
    db.session.commit()


def register(app: Flask) -> None:
    @app.after_request
    def finish(response: Response) -> Response:
        if response.status_code < 400:
            try:
                db.session.commit()
            except Exception:
                # The commit failed (the database connection dropped, say): nothing was kept. The answer
                # becomes the 500 page, which reads (the user, the menu): leave no broken transaction
                # behind for it, or it fails too and the server answers a bare 500.
                db.session.rollback()
                raise
        else:
            db.session.rollback()
            if response.status_code >= 500:
                # "Nothing was saved" holds for the cookie too: a sign-in, a sign-out or a new CSRF token
                # of a request that failed is not kept, so the same form sent again does what it meant to.
                session.modified = False
        # Answers differ for htmx (a fragment) and for a page load: no cache may swap them.
        response.vary.add("HX-Request")
        return response
