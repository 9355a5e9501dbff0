"""A notification for one user, and each outside delivery of it (e-mail, a group robot)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import User
from field.core import UTCDateTime, now
from field.extensions import db


class Notification(db.Model):
    """What one user is told. `title` and `body` are message ids translated when shown (their params
    beside them), or plain text when the params are None; `key` makes a repeat of the same news one row."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_notifications_user_key"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_user_newest", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    title_params: Mapped[dict | None] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text, default="")
    body_params: Mapped[dict | None] = mapped_column(JSON)
    url: Mapped[str | None] = mapped_column(String(500))
    key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    deliveries: Mapped[list[Delivery]] = relationship(back_populates="notification", order_by="Delivery.id")

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


class Channel(StrEnum):
    EMAIL = "email"
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"     # waiting for its first try or its next one (next_attempt_at)
    SENT = "sent"
    FAILED = "failed"     # gave up after the last try; kept, and an admin may send it again


class Delivery(db.Model):
    """One notification sent one way, rendered when it was queued (in the recipient's language) so the
    worker needs nothing but this row. Its row is the durable queue entry: the job queue only wakes
    the worker; a row still queued is tried again, whatever happened to the job."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(254), default="")  # the e-mail address; "" for a group robot
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a worker is sending it until then
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notification: Mapped[Notification] = relationship(back_populates="deliveries")

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.channel} {self.status}>"
