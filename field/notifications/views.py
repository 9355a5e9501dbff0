"""The notification centre: a user's own notifications, newest first; opening one marks it read and
goes where it points; the delivery queue for admins."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from field import permissions, scope
from field.core import now
from field.extensions import db
from field.notifications import bp
from field.notifications.models import Delivery, DeliveryStatus, Notification
from field.web import me, page_arg, paginate, render, safe_path, see_other

CHANNEL_LABELS = {"email": _l("E-mail"), "wecom": _l("WeCom"), "dingtalk": _l("DingTalk"), "feishu": _l("Feishu")}
STATUS_LABELS = {DeliveryStatus.QUEUED: _l("waiting"), DeliveryStatus.SENT: _l("sent"),
                 DeliveryStatus.FAILED: _l("not delivered")}


def channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))


def status_label(delivery: Delivery) -> str:
    if delivery.status == DeliveryStatus.QUEUED and delivery.attempts:
        return _("retrying (%(n)s tries)", n=delivery.attempts)
    return str(STATUS_LABELS.get(DeliveryStatus(delivery.status), delivery.status))


@bp.app_context_processor
def _labels():
    return {"delivery_way": channel_label, "delivery_status": status_label}


@bp.route("/notifications")
@login_required
def index():
    stmt = (scope.notifications().options(selectinload(Notification.deliveries))
            .order_by(Notification.id.desc()))
    page = paginate(stmt, page_arg(), current_app.config["PAGE_SIZE"])
    return render("notifications/index.html", block="list", page=page)


@bp.route("/notifications/<int:note_id>/open", methods=["POST"])
@login_required
def open_one(note_id: int):
    note = scope.get_or_404(scope.notifications(), note_id)
    if note.read_at is None:
        note.read_at = now()
    return see_other(safe_path(note.url) or url_for("notifications.index"))


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    user = me()
    marked = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now()).execution_options(synchronize_session=False)).rowcount
    if marked:
        flash(_("Marked %(num)s as read.", num=marked))
    return see_other(url_for("notifications.index"))


@bp.route("/notifications/deliveries")
@login_required
def deliveries():
    permissions.require(permissions.may_watch_deliveries(me()))
    status = request.args.get("status", "")
    stmt = select(Delivery).options(selectinload(Delivery.notification).selectinload(Notification.user))
    if status in set(DeliveryStatus):
        stmt = stmt.where(Delivery.status == status)
    page = paginate(stmt.order_by(Delivery.id.desc()), page_arg(), current_app.config["PAGE_SIZE"])
    return render("notifications/deliveries.html", block="list", page=page, status_filter=status,
                  statuses=list(DeliveryStatus), status_names=STATUS_LABELS)


@bp.route("/notifications/deliveries/<int:delivery_id>/retry", methods=["POST"])
@login_required
def retry(delivery_id: int):
    """Send a given-up (or waiting) delivery again now, with a fresh set of tries."""
    permissions.require(permissions.may_watch_deliveries(me()))
    delivery = scope.get_or_404(select(Delivery), delivery_id)  # an admin's: every delivery
    if delivery.status != DeliveryStatus.SENT:
        delivery.status, delivery.attempts = DeliveryStatus.QUEUED, 0
        delivery.next_attempt_at, delivery.locked_until = now() - timedelta(seconds=1), None
        from field.notifications import PENDING
        db.session.info.setdefault(PENDING, []).append(delivery.id)
        flash(_("Queued to be sent again."))
    return see_other(url_for("notifications.deliveries", status=request.args.get("status") or None))
