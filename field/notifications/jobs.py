"""The worker's units of work: send one delivery, find the overdue ones. Each ends with
transaction.commit(), like a command: the claim is committed before the network call (so no database
transaction waits on a slow receiver) and the outcome after it.

A delivery is sent at least once and, in practice, once: a worker claims the row with a guarded UPDATE
(queued, due, not held by another worker) for a lease longer than any send may take; a second worker
or a duplicate wake-up finds nothing to claim. Only a worker killed between the receiver's answer and
the commit of the outcome makes a second send, after the lease."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from field import transaction
from field.core import now
from field.extensions import db
from field.notifications import channels
from field.notifications.models import Channel, Delivery, DeliveryStatus

BACKOFF_CAP = 3600.0  # seconds: after the delays double up to an hour, every hour
SWEEP_GRACE = timedelta(seconds=30)
SWEEP_LIMIT = 500


def backoff(attempts: int, base: float) -> float:
    """Seconds to wait after the `attempts`-th failed try: base, 2·base, 4·base … at most an hour."""
    return min(BACKOFF_CAP, base * 2 ** max(0, attempts - 1))


def _claim(delivery_id: int, lease: timedelta) -> Delivery | None:
    moment = now()
    claimed = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.QUEUED,
               Delivery.next_attempt_at <= moment,
               or_(Delivery.locked_until.is_(None), Delivery.locked_until < moment))
        .values(locked_until=moment + lease)
        .execution_options(synchronize_session=False)).rowcount
    transaction.commit()
    return db.session.get(Delivery, delivery_id) if claimed == 1 else None


def _send(delivery: Delivery, conf) -> None:
    if delivery.channel == Channel.EMAIL:
        if not conf.email:
            raise channels.DeliveryError("SMTP_HOST is not set")
        channels.send_email(conf, delivery.target, delivery.subject, delivery.text)
        return
    url = conf.webhooks.get(delivery.channel)
    if not url:
        raise channels.DeliveryError(f"NOTIFY_{delivery.channel.upper()}_WEBHOOK is not set")
    channels.post_webhook(delivery.channel, url, delivery.text, conf.secrets.get(delivery.channel, ""), conf.timeout)


def deliver(delivery_id: int) -> float | None:
    """Send one due delivery. None when it was sent, given up or not this worker's to send; else the
    seconds until its next try (the row says when, too)."""
    conf = current_app.extensions["notifications"]
    delivery = _claim(delivery_id, timedelta(seconds=conf.timeout * 4 + 30))
    if delivery is None:
        return None
    try:
        _send(delivery, conf)
        error = None
    except channels.DeliveryError as exc:
        error = str(exc) or "failed"
    except Exception as exc:  # noqa: BLE001 — anything else the sending raised: keep the row, try again
        error = f"{type(exc).__name__}: {exc}"
    delivery.attempts += 1
    delivery.locked_until = None
    delay = None
    if error is None:
        delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, now(), ""
    else:
        delivery.last_error = error[:500]
        if delivery.attempts >= conf.max_attempts:
            delivery.status = DeliveryStatus.FAILED
        else:
            delay = backoff(delivery.attempts, conf.retry_seconds)
            delivery.next_attempt_at = now() + timedelta(seconds=delay)
    transaction.commit()
    return delay


def overdue(grace: timedelta = SWEEP_GRACE) -> list[int]:
    """Deliveries still queued `grace` after their time and held by no worker: their wake-up was lost."""
    moment = now()
    ids = list(db.session.scalars(
        select(Delivery.id).where(Delivery.status == DeliveryStatus.QUEUED,
                                  Delivery.next_attempt_at <= moment - grace,
                                  or_(Delivery.locked_until.is_(None), Delivery.locked_until < moment))
        .order_by(Delivery.next_attempt_at).limit(SWEEP_LIMIT)))
    transaction.commit()  # read only: end the transaction, so the next look sees what was committed since
    return ids
