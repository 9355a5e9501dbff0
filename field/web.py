"""What every view uses: render() — the whole page, or the block(s) an htmx request asks for;
refusal() around an operation whose DomainError the page shows in place; see_other() after a POST;
import_page(); the signed-in user (me); paginate() and the ?page= of a list.

htmx 4 sends `HX-Request: true` and `HX-Request-Type: partial` when it will swap
part of the page (and `full` when it targets <body>). Deciding here keeps a
change of htmx version to this one function."""
import math
import re
from datetime import date
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import Template
from sqlalchemy import func, select

from field.core import MAX_ID, DomainError, FieldError
from field.extensions import db


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_path(target: str | None) -> str | None:
    """`target` as a same-site path to redirect to, or None when it is not one.

    Read as a browser reads a Location: tabs, newlines and other control characters dropped,
    spaces around trimmed, backslashes taken as slashes. What is left must start with one slash
    and name neither a scheme nor a host: '/<tab>/evil.example' and '/<backslash>evil.example' are
    '//evil.example' to a browser."""
    if not target:
        return None
    path = _CONTROL.sub("", target).strip().replace("\\", "/")
    if not path.startswith("/") or path.startswith("//"):
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return None
    return path


def me():
    """The signed-in user as the model object (not Flask-Login's proxy): what operations take."""
    return current_user._get_current_object()


def page_arg() -> int:
    """The ?page= of a paged list: 1 when absent or not a number."""
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def id_arg(name: str) -> int | None:
    """A record id of the query string, None when absent or not one."""
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if 0 < value <= MAX_ID else None


def date_arg(name: str) -> date | None:
    """A date of the query string (YYYY-MM-DD), None when absent or not a date."""
    try:
        return date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


def wants_fragment() -> bool:
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-Request-Type", "partial") == "partial")


def _block(template: Template, name: str, context: dict) -> str:
    return "".join(template.blocks[name](template.new_context(context)))


def render(template_name: str, block: str | None = "content", status: int = 200,
           also: Iterable[str | tuple[str, dict]] = (), **context):
    """Render a page; for an htmx partial request render only `block` of it (None: no main block),
    followed by the `also` blocks — names, or (name, extra context) — that htmx swaps in place by id.
    Those render with `oob=True` so the template marks them hx-swap-oob."""
    if wants_fragment():
        template: Template = current_app.jinja_env.get_or_select_template(template_name)
        current_app.update_template_context(context)
        body = _block(template, block, context) if block else ""
        for item in also:
            name, extra = item if isinstance(item, tuple) else (item, {})
            body += _block(template, name, {**context, **extra, "oob": True})
        return body, status
    return render_template(template_name, **context), status


class Refused:
    """What refusal() caught: falsy while the operation went through."""
    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str:
        return self.error.message if self.error else ""

    @property
    def status(self) -> int:
        return self.error.status if self.error else 200


@contextmanager
def refusal():
    """Run operations whose refusal the page shows in place:

        with refusal() as refused:
            ops.submit(activity, me())
        if refused:
            return page(error=refused.message, status=refused.status)

    A DomainError undoes what the request staged (so the page shows the records as they are) and
    is kept; the request then answers 4xx, which rolls back in the one place that commits."""
    refused = Refused()
    try:
        yield refused
    except DomainError as exc:
        db.session.rollback()
        refused.error = exc


def submit_form(form, operation):
    """Run `operation` for a valid form: its result, or None with the refused field's message beside
    that field (the view answers the form again, 422). Any other refusal goes to the error page."""
    with refusal() as refused:
        return operation()
    if not isinstance(refused.error, FieldError):
        raise refused.error
    getattr(form, refused.error.field).errors.append(refused.message)
    return None


def saved_form(form, operation, message: Callable, to):
    """A valid form runs `operation` (as submit_form does): done, flash `message(result)` and go to
    `to` — an endpoint, or `to(result)` for a URL; otherwise None, and the view answers the form
    again (a refused field carries its message)."""
    if not form.validate_on_submit():
        return None
    result = submit_form(form, operation)
    if result is None:
        return None
    flash(message(result))
    return redirect(to(result) if callable(to) else url_for(to))


@dataclass
class Page:
    """One page of a list: its items, which page, how many per page and in all."""
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def count(stmt) -> int:
    """How many rows a select returns (its order dropped)."""
    return db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()


def paginate(stmt, page: int, per_page: int, unique: bool = False) -> Page:
    """Page `page` (clamped to what exists) of `stmt`'s entities."""
    total = count(stmt)
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    result = db.session.execute(stmt.offset((page - 1) * per_page).limit(per_page))
    return Page(list((result.unique() if unique else result).scalars()), page, per_page, total)


MAX_ERRORS_SHOWN = 500


def import_page(form, run: Callable, done: Callable, template: str, **context):
    """An import page: a good file is imported whole, `done(result)` gives the message to flash and
    where to go; a bad one imports nothing and the page lists its errors (the first 500) with 422.

    `run(data, filename)` returns an import result (ok, errors, created, updated, unchanged, skipped). A file that
    went in with rows left out on purpose (`skipped`: the sales import's order deliveries) answers the page
    itself, the message on top and those rows listed, instead of going on."""
    errors, skipped, status = [], [], 200
    if form.validate_on_submit():
        upload = form.file.data
        result = run(upload.read(), upload.filename or "")
        if result.ok:
            message, url = done(result)
            flash(message)
            skipped = list(getattr(result, "skipped", None) or [])
            if not skipped:
                return redirect(url)
        else:
            errors, status = result.errors, 422
    elif form.is_submitted():
        status = 422
    return render(template, form=form, errors=errors[:MAX_ERRORS_SHOWN],
                  more_errors=max(0, len(errors) - MAX_ERRORS_SHOWN), skipped=skipped[:MAX_ERRORS_SHOWN],
                  more_skipped=max(0, len(skipped) - MAX_ERRORS_SHOWN), status=status, **context)


def see_other(url: str) -> Response:
    """After a POST, go to `url` as a whole page. htmx sends forms with fetch, which follows a
    303 itself and would swap the next page into the form's place; for htmx the answer is
    HX-Redirect instead, and the browser loads `url` (with the flashed message) as a page."""
    if request.headers.get("HX-Request") == "true":
        return Response(status=200, headers={"HX-Redirect": url})
    return redirect(url, 303)


def form_errors(form) -> str:
    """All of a form's messages in one line, for flash and JSON answers."""
    return "; ".join(f"{getattr(form, name).label.text}: {', '.join(errs)}"
                     for name, errs in form.errors.items() if hasattr(form, name)) or _("Please check the form.")


def new_client_id() -> str:
    """An idempotency key for a form (a template global): the same page sent twice acts once."""
    return str(uuid.uuid4())
