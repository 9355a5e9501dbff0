"""The audit log: record() is the only way to write it."""
from __future__ import annotations

import json
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import ForeignKey, Integer, String, Text, insert
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.core import UTCDateTime, now
from field.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")

    actor = relationship("User")

    @property
    def details(self) -> dict:
        return json.loads(self.detail) if self.detail else {}


def _actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


SYSTEM = "system"  # pass as actor= for what the calendar or a job does, not the signed-in user


def record(action: str, obj=None, actor=None, **detail) -> AuditEvent:
    """Add an audit event for `action` on `obj` by `actor` (default: the signed-in user;
    audit.SYSTEM for no person).

    It joins the caller's transaction, so the event commits or rolls back with the change."""
    actor = None if actor == SYSTEM else (actor or _actor())
    if obj is not None and getattr(obj, "id", None) is None:
        db.session.flush()
    event = AuditEvent(
        at=now(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=obj.__tablename__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        # The client as TRUSTED_PROXIES lets ProxyFix see it: a forwarded header is believed only
        # from a proxy the operator put there, never as a client sends it.
        ip=(request.remote_addr or "") if has_request_context() else "",
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "",
    )
    db.session.add(event)
    return event


def record_all(action: str, items: list[tuple[object, dict]], actor=None) -> None:
    """record() for many objects at once, as one INSERT (an evaluation that opens a hundred alerts):
    `items` are (object, detail) pairs; the objects are flushed already (they have their ids)."""
    if not items:
        return
    actor = None if actor == SYSTEM else (actor or _actor())
    at = now()
    ip = (request.remote_addr or "") if has_request_context() else ""
    db.session.execute(insert(AuditEvent), [
        {"at": at, "actor_id": actor.id if actor is not None else None, "action": action,
         "object_type": obj.__tablename__, "object_id": obj.id, "ip": ip,
         "detail": json.dumps(detail, ensure_ascii=False, default=str) if detail else ""}
        for obj, detail in items])


def set_active(obj, active: bool, kind: str, actor=None, **detail) -> bool:
    """(De)activate a record that keeps its history (a user, store, product), audited as
    `<kind>.activate` / `<kind>.deactivate`; False, and nothing recorded, when it already was."""
    if obj.active == active:
        return False
    obj.active = active
    record(f"{kind}.activate" if active else f"{kind}.deactivate", obj, actor=actor, **detail)
    return True
