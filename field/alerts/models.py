"""Alert rules (thresholds a manager sets for a region) and the alerts they raise.

An alert is one condition in one period: its `key` ("missed_visits:rep:12:2026-12-03") is unique, so
evaluating again finds the alert it raised before instead of raising a second one. It lives in the
region whose evaluation raised it and, when it is about a rep, names the rep: scope.py then shows it
to the rep's supervisor and to the region's managers, like any record with a rep and a region."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import Region, User
from field.core import UTCDateTime, now
from field.extensions import db


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


# Who may move an alert where (a person); the evaluation resolves on its own (field/alerts/evaluate.py).
TRANSITIONS = {
    AlertStatus.OPEN: (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED),
    AlertStatus.ACKNOWLEDGED: (AlertStatus.RESOLVED,),
    AlertStatus.RESOLVED: (),
}
LIVE = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class AlertRule(db.Model):
    """One rule's thresholds for a region and the regions under it (unless one of them sets its own)."""

    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("region_id", "code", name="uq_alert_rules_region_code"),)
    scope_rep_column = None
    scope_region_column = "region_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    region: Mapped[Region] = relationship()
    updated_by: Mapped[User | None] = relationship()


class Alert(db.Model):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_region_id_rule_status", "region_id", "rule", "status"),)
    scope_rep_column = "rep_id"
    scope_region_column = "region_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # rule:subject:period — one alert each
    rule: Mapped[str] = mapped_column(String(40))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    period: Mapped[date] = mapped_column(Date)  # the day, or the Monday of the week, the condition held in
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # the figures behind it, and the records' ids
    status: Mapped[str] = mapped_column(String(20), default=AlertStatus.OPEN, index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None when it cleared by itself
    note: Mapped[str] = mapped_column(String(500), default="")

    region: Mapped[Region] = relationship()
    rep: Mapped[User | None] = relationship(foreign_keys=[rep_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    @property
    def cleared(self) -> bool:
        """Resolved by the evaluation: its condition no longer held."""
        return self.status == AlertStatus.RESOLVED and self.resolved_by_id is None
