"""What every view uses: render() — the whole page, or just the block an htmx request asks for;
see_other() after a POST; import_page(); the signed-in user (me) and the ?page= of a list.

htmx 4 sends `HX-Request: true` and `HX-Request-Type: partial` when it will swap
part of the page (and `full` when it targets <body>). Deciding here keeps a
change of htmx version to this one function."""
import uuid
from typing import Callable

from flask import Response, current_app, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import Template


def me():
    """The signed-in user as the model object (not Flask-Login's proxy): what operations take."""
    return current_user._get_current_object()


def page_arg() -> int:
    """The ?page= of a paged list: 1 when absent or not a number."""
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def wants_fragment() -> bool:
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-Request-Type", "partial") == "partial")


def render(template_name: str, block: str = "content", status: int = 200, **context):
    """Render a page; for an htmx partial request render only `block` of it."""
    if wants_fragment():
        env = current_app.jinja_env
        template: Template = env.get_or_select_template(template_name)
        current_app.update_template_context(context)
        ctx = template.new_context(context)
        body = "".join(template.blocks[block](ctx))
        return body, status
    return render_template(template_name, **context), status


MAX_ERRORS_SHOWN = 500


def import_page(form, run: Callable, done: Callable, template: str, **context):
    """An import page: a good file is imported whole, `done(result)` gives the message to flash and
    where to go; a bad one imports nothing and the page lists its errors (the first 500) with 422.

    `run(data, filename)` returns an import result (ok, errors, created, updated, unchanged)."""
    errors, status = [], 200
    if form.validate_on_submit():
        upload = form.file.data
        result = run(upload.read(), upload.filename or "")
        if result.ok:
            message, url = done(result)
            flash(message)
            return redirect(url)
        errors, status = result.errors, 422
    elif form.is_submitted():
        status = 422
    return render(template, form=form, errors=errors[:MAX_ERRORS_SHOWN],
                  more_errors=max(0, len(errors) - MAX_ERRORS_SHOWN), status=status, **context)


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
