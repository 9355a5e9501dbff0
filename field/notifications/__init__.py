"""Notifications (通知提醒): an in-app centre with an unread count on every page, and delivery to e-mail
and to WeCom / DingTalk / Feishu group robots by a worker outside the request.

    from field import notifications
    notifications.send([rep], "evidence.rejected",
                       _l("Evidence for %(store)s was rejected", store=store.name),
                       body=_l("Reason: %(reason)s", reason=label), url=notifications.path_for(...),
                       key=f"review:{review.id}")

Language. A notification is read in its recipient's language, which need not be the sender's. So a
title or body given as a lazy string (`lazy_gettext(msgid, **params)`) is stored as its message id and
params and translated when shown, in whatever language the reader has then; a plain str is stored and
shown as given (already in the recipient's language, e.g. made under `force_locale(user.locale)`).
Param values are stored as text (numbers as they are), so format money or dates before passing them.
E-mails and robot messages are rendered once, when queued, in the recipient's language (their own, else
the company's DEFAULT_LOCALE): what was sent is what the delivery row shows.

Transaction. send() stages rows in the caller's transaction and never commits: a request that fails
notifies nobody. `key` dedupes: one notification per (user, key), also when two requests race (a
savepoint around the insert, the unique key deciding). Each outside delivery is a row of its own, queued;
after the transaction commits the job queue (huey: PostgreSQL or SQLite, see queue.py) is woken to send
it, and a sweep finds any row whose wake-up was lost. Nothing queued is dropped: a refusing or silent
receiver is tried again with exponential back-off, and the row (queued, sent or failed with its last
error) is shown on the notification centre and, for admins, at /notifications/deliveries."""
from __future__ import annotations

from typing import Iterable

from flask import Blueprint, current_app, has_request_context, request, url_for
from flask_babel import force_locale, gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import IntegrityError

from field import providers
from field.auth.models import User
from field.extensions import db
from field.notifications.models import Channel, Delivery, DeliveryStatus, Notification
from field.web import safe_path

bp = Blueprint("notifications", __name__)

MAX_TEXT = 2000
MAX_URL = 500
PENDING = "notify_pending"  # session.info: delivery ids to wake once the transaction commits


def _lazy(value) -> bool:
    return isinstance(value, LazyString) and getattr(value, "_func", None) is gettext and bool(value._args)


def _param(value):
    """A param as stored: a number as it is, a lazy_gettext string (a label) as {"msgid": …} to translate
    when shown, anything else as text."""
    if _lazy(value) and not value._kwargs:
        return {"msgid": str(value._args[0])}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return str(value)


def _message(value) -> tuple[str, dict | None]:
    """(text or message id, params or None) for a str or a lazy_gettext string."""
    if _lazy(value):
        return str(value._args[0])[:MAX_TEXT], {k: _param(v) for k, v in value._kwargs.items()}
    return str(value or "")[:MAX_TEXT], None


# gettext under another name: what it translates is a msgid stored earlier, already in the catalog, and
# pybabel must not take the variable's name for a message.
_stored_label = gettext


def text(message: str, params: dict | None) -> str:
    """A stored title or body in the language in force (a plain text as it is)."""
    if params is None:
        return message
    shown = {k: _stored_label(v["msgid"]) if isinstance(v, dict) and "msgid" in v else v for k, v in params.items()}
    try:
        return gettext(message, **shown) if shown else gettext(message)
    except (KeyError, ValueError, TypeError):  # a translation that lost a placeholder: the source text
        try:
            return message % shown if shown else message
        except (KeyError, ValueError, TypeError):
            return message


def title_of(note: Notification) -> str:
    return text(note.title, note.title_params)


def body_of(note: Notification) -> str:
    return text(note.body, note.body_params)


def path_for(endpoint: str, **values) -> str:
    """The path of a page, inside a request or not (a command, a job)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def current_settings():
    return current_app.extensions["notifications"]


def absolute(path: str | None) -> str:
    if not path:
        return ""
    base = current_settings().base_url or (request.host_url.rstrip("/") if has_request_context() else "")
    return base + path


def _deliveries(note: Notification, user: User) -> list[Delivery]:
    """The outside deliveries of one notification, rendered now in the recipient's language."""
    conf = current_settings()
    channels = [(Channel(c), "") for c in conf.webhooks]
    if conf.email and user.email:
        channels.insert(0, (Channel.EMAIL, user.email))
    if not channels:
        return []
    with force_locale(user.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")):
        title, body = title_of(note), body_of(note)
        link = absolute(note.url)
        mail = "\n\n".join(part for part in (body, link) if part)
        group = "\n".join(part for part in (f"{user.name}: {title}", body, link) if part)
    return [Delivery(notification=note, channel=channel, target=target, subject=title,
                     text=mail if channel == Channel.EMAIL else group, status=DeliveryStatus.QUEUED)
            for channel, target in channels]


def send(users: Iterable[User], kind: str, title, body="", url: str | None = None,
         key: str | None = None) -> list[Notification]:
    """Notify each user (once per (user, key) when a key is given) and queue the outside deliveries.
    Stages rows in the current transaction; never commits. Returns the notifications made now."""
    return send_batch([dict(users=users, kind=kind, title=title, body=body, url=url, key=key)])


def send_batch(messages: list[dict]) -> list[Notification]:
    """send() for several messages at once (the keyword arguments of send() each): one lookup of the
    (user, key) pairs already notified and one savepoint for all, so an evaluation that opens thirty
    alerts does not pay thirty round trips of each."""
    planned: list[tuple[User, dict]] = []
    keys: set[str] = set()
    for message in messages:
        title_text, title_params = _message(message["title"])
        body_text, body_params = _message(message.get("body", ""))
        url = message.get("url")
        url = safe_path(url)[:MAX_URL] if url and safe_path(url) else None
        key = message.get("key")
        key = key[:200] if key else None
        row = dict(kind=message["kind"][:40], title=title_text, title_params=title_params, body=body_text,
                   body_params=body_params, url=url, key=key)
        seen: set[int] = set()
        for user in message["users"]:
            if user is not None and user.id is not None and user.active and user.id not in seen:
                seen.add(user.id)
                planned.append((user, row))
        if key is not None:
            keys.add(key)
    if keys and planned:
        had = set(tuple(row) for row in db.session.execute(select(Notification.user_id, Notification.key).where(
            Notification.key.in_(sorted(keys)),
            Notification.user_id.in_(sorted({user.id for user, _row in planned})))).all())
        planned = [(user, row) for user, row in planned if (user.id, row["key"]) not in had]
    if not planned:
        return []

    def stage(user: User, row: dict) -> tuple[Notification, list[Delivery]]:
        note = Notification(user_id=user.id, **row)
        db.session.add(note)
        deliveries = _deliveries(note, user)
        db.session.add_all(deliveries)
        return note, deliveries

    # All in one savepoint (the notifications as one INSERT … RETURNING, their deliveries in one flush);
    # when the (user, key) unique key says another transaction notified one of them a moment ago, one
    # savepoint each, so the rest land.
    try:
        with db.session.begin_nested():
            notes = db.session.scalars(insert(Notification).returning(Notification, sort_by_parameter_order=True),
                                       [dict(user_id=user.id, **row) for user, row in planned]).all()
            staged = []
            for note, (user, _row) in zip(notes, planned):
                deliveries = _deliveries(note, user)
                db.session.add_all(deliveries)
                staged.append((note, deliveries))
            db.session.flush()
    except IntegrityError:
        staged = []
        for user, row in planned:
            try:
                with db.session.begin_nested():
                    one = stage(user, row)
                    db.session.flush()
            except IntegrityError:
                continue
            staged.append(one)
    for _note, deliveries in staged:
        db.session.info.setdefault(PENDING, []).extend(d.id for d in deliveries)
    return [note for note, _deliveries in staged]


def unread_count(user) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def _from_alert(*, users, kind="alert", title, body="", url=None, key=None, **_ignored):
    """The alerts helper's `providers.notify("alert.opened", ...)`: the same arguments as send()."""
    send(users, kind, title, body=body, url=url, key=key)


def _from_alerts(messages: list[dict]) -> None:
    """`providers.notify("alerts.opened", messages)`: an evaluation's new alerts, send()'s arguments each."""
    send_batch(messages)


def _wake_after_commit(session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending:
        from field.notifications import queue
        queue.wake(pending)


def install(app) -> None:
    """Check the settings (a bad one stops the start), wire the unread count and the events."""
    from field.notifications import queue
    from field.notifications import settings as conf
    app.extensions["notifications"] = conf.from_environment(app.config["SQLALCHEMY_DATABASE_URI"])
    queue.install(app)
    app.jinja_env.globals["unread_notifications"] = lambda: unread_count(current_user)
    app.jinja_env.globals["notification_title"] = title_of
    app.jinja_env.globals["notification_body"] = body_of
    providers.listen("alert.opened", _from_alert)
    providers.listen("alerts.opened", _from_alerts)
    if not event.contains(db.session, "after_commit", _wake_after_commit):
        event.listen(db.session, "after_commit", _wake_after_commit)


from field.notifications import views  # noqa: E402,F401  (the routes on bp)
