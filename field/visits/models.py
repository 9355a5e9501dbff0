"""Visits (PDCA), their templates, step results, objectives, follow-ups and co-visits."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import User
from field.core import UTCDateTime, now
from field.extensions import db
from field.geo import Point
from field.stores.models import Store


class Phase(StrEnum):
    PLAN = "plan"
    DO = "do"
    CHECK = "check"
    ACT = "act"


class StepKind(StrEnum):
    CHECKLIST = "checklist"        # config: {"items": ["price tag visible", …]}
    NUMBER = "number"              # config: {"min": 0, "max": 100000, "unit": "…"}
    STOCK_COUNT = "stock_count"    # config: {"products": [sku…] (empty: all), "floor": {sku: n}}
    SHELF_SHARE = "shelf_share"    # value: {"ours": n, "total": n}
    ORDER_LINES = "order_lines"    # value: {"lines": [{"sku", "quantity", "unit_price"}]}
    CHOICE = "choice"              # config: {"choices": […]}
    MULTI_CHOICE = "multi_choice"  # config: {"choices": […]}
    TEXT = "text"
    PHOTO = "photo"                # config: {"min_photos": 1, "allow_album": false}
    SIGNATURE = "signature"
    SCORECARD = "scorecard"        # co-visit: config: {"items": [{"label", "max"}]}
    COMPETITOR = "competitor"      # value: {"sightings": [{"brand", "product", "price", "promotion", …}]}


class VisitStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class VisitType(db.Model):
    """A template of steps. Built-in types are seeded and as editable as any other."""

    __tablename__ = "visit_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    goals: Mapped[list] = mapped_column(JSON, default=list)  # standing goals, one line each
    min_dwell_minutes: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    steps: Mapped[list[VisitStep]] = relationship(
        back_populates="visit_type", order_by="VisitStep.position",
        primaryjoin="and_(VisitType.id == VisitStep.visit_type_id, VisitStep.removed == False)",
        viewonly=True)

    def label(self, locale: str | None) -> str:
        return self.name_en if (locale or "").startswith("en") and self.name_en else self.name


class VisitStep(db.Model):
    """One step of a visit type. Removing it hides it from new visits; results keep pointing at it."""

    __tablename__ = "visit_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_type_id: Mapped[int] = mapped_column(ForeignKey("visit_types.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    phase: Mapped[str] = mapped_column(String(10), default=Phase.DO)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)

    visit_type: Mapped[VisitType] = relationship(back_populates="steps")

    def label(self, locale: str | None) -> str:
        return self.title_en if (locale or "").startswith("en") and self.title_en else self.title


class Visit(db.Model):
    __tablename__ = "visits"
    scope_rep_column = "rep_id"
    scope_region_column = None
    scope_region_via = ("store", Store)
    __table_args__ = (
        # A rep has at most one visit in progress; the database enforces it against double taps.
        Index("uq_visits_one_in_progress", "rep_id", unique=True,
              sqlite_where=text("status = 'in_progress'"), postgresql_where=text("status = 'in_progress'")),
        # Today reads each store's last completed visit and the rep's visits of today: index
        # probes, however long the history (migration 0008, field/visits/planning.py).
        Index("ix_visits_store_id_status_checkout_at", "store_id", "status", "checkout_at"),
        Index("ix_visits_rep_id_status_checkout_at", "rep_id", "status", "checkout_at"),
        # The dashboards read these as index ranges, every column they need in the index (migration
        # 0016, field/home/dashboards.py): visits per rep per day, stores' last visits of a month.
        Index("ix_visits_status_checkin_at_rep_id_store_id_checkout_at", "status", "checkin_at", "rep_id", "store_id",
              "checkout_at"),
        Index("ix_visits_status_checkout_at_store_id", "status", "checkout_at", "store_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    visit_type_id: Mapped[int] = mapped_column(ForeignKey("visit_types.id"))
    planned_for: Mapped[date | None] = mapped_column(Date, index=True)
    planned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default=VisitStatus.PLANNED, index=True)
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    checkin_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    checkin_lat: Mapped[float | None] = mapped_column(Float)
    checkin_lng: Mapped[float | None] = mapped_column(Float)
    checkin_accuracy_m: Mapped[float | None] = mapped_column(Float)
    checkin_position_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkin_distance_m: Mapped[float | None] = mapped_column(Float)
    checkin_reason: Mapped[str] = mapped_column(Text, default="")
    # checkin_at/checkout_at are when the rep tapped (the phone's time, for a write sent from its outbox);
    # *_received_at when the server got it (migration 0009).
    checkin_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    checkout_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkout_lat: Mapped[float | None] = mapped_column(Float)
    checkout_lng: Mapped[float | None] = mapped_column(Float)
    checkout_accuracy_m: Mapped[float | None] = mapped_column(Float)
    checkout_distance_m: Mapped[float | None] = mapped_column(Float)
    checkout_reason: Mapped[str] = mapped_column(Text, default="")
    checkout_position_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkout_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    flags: Mapped[list] = mapped_column(JSON, default=list)  # [{"code": …, "detail": …}]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    rep: Mapped[User] = relationship(foreign_keys=[rep_id])
    planned_by: Mapped[User | None] = relationship(foreign_keys=[planned_by_id])
    store: Mapped[Store] = relationship()
    visit_type: Mapped[VisitType] = relationship()
    results: Mapped[list[StepResult]] = relationship(back_populates="visit", order_by="StepResult.id")
    objectives: Mapped[list[Objective]] = relationship(back_populates="visit", order_by="Objective.id")

    @property
    def checkin_point(self) -> Point | None:
        return Point(self.checkin_lat, self.checkin_lng) if self.checkin_lat is not None else None

    @property
    def dwell_minutes(self) -> float | None:
        if self.checkin_at and self.checkout_at:
            return (self.checkout_at - self.checkin_at).total_seconds() / 60
        return None

    @property
    def flag_codes(self) -> list[str]:
        return [f["code"] for f in self.flags or []]


class StepResult(db.Model):
    """What the rep recorded for one step, saved on its own (re-saving replaces it while in progress)."""

    __tablename__ = "step_results"
    __table_args__ = (UniqueConstraint("visit_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("visit_steps.id"))
    status: Mapped[str] = mapped_column(String(10), default="done")  # done | skipped
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    skip_reason: Mapped[str] = mapped_column(Text, default="")
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    visit: Mapped[Visit] = relationship(back_populates="results")
    step: Mapped[VisitStep] = relationship()


class FollowUp(db.Model):
    """An Act item: open follow-ups become objectives of the next visit to the store, by anyone."""

    __tablename__ = "follow_ups"
    scope_rep_column = "owner_id"
    scope_region_column = None
    scope_region_via = ("store", Store)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)  # open | done
    closed_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    store: Mapped[Store] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    visit: Mapped[Visit | None] = relationship(foreign_keys=[visit_id])


class Objective(db.Model):
    """Plan: what this visit set out to do; Check: whether it was met."""

    __tablename__ = "objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # follow_up | goal | activity
    text: Mapped[str] = mapped_column(Text)
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id"))
    met: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")

    visit: Mapped[Visit] = relationship(back_populates="objectives")
    follow_up: Mapped[FollowUp | None] = relationship()


class CoVisit(db.Model):
    """A supervisor's scorecard for a rep's visit; the rep sees it and may answer."""

    __tablename__ = "co_visits"
    __table_args__ = (UniqueConstraint("visit_id", "supervisor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # {item label: score}
    total: Mapped[int] = mapped_column(Integer, default=0)
    max_total: Mapped[int] = mapped_column(Integer, default=0)
    comment: Mapped[str] = mapped_column(Text, default="")
    rep_comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    visit: Mapped[Visit] = relationship()
    supervisor: Mapped[User] = relationship()


class WriteKind(StrEnum):
    CHECK_IN = "check_in"
    STEP = "step"
    STEP_SKIP = "step_skip"
    OBJECTIVE = "objective"
    FOLLOW_UP = "follow_up"
    CHECK_OUT = "check_out"
    PHOTO = "photo"


class ClientWrite(db.Model):
    """One write a rep's phone made, named by the phone's client id: a replay of it acts no more.

    `record_id` is what the write made or changed (the visit, step result, objective, follow-up or
    photo, by `kind`); `phone_at` when the rep tapped, `received_at` when the server got it."""

    __tablename__ = "client_writes"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    record_id: Mapped[int | None] = mapped_column(Integer)
    phone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
