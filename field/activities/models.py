"""Promotion activities (活动): their types and evidence rules, the stores and budgets they cover,
the transitions they went through, the evidence bound to each store's check periods, and the
reviews (检核) of it."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, \
    UniqueConstraint, event, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import User
from field.core import UTCDateTime, now
from field.extensions import db
from field.stores.models import Store

if TYPE_CHECKING:  # photos sit above visits, which reach activities through sales: no import cycle at run time
    from field.photos.models import Photo


class CheckPeriod(StrEnum):
    """How often a store's evidence is checked: at each visit cycle, each week, or once."""

    EACH_VISIT = "each_visit"
    WEEKLY = "weekly"
    ONCE = "once"


class ActivityStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SECOND_APPROVAL = "second_approval"  # approved once; the amount asks for a second approver
    APPROVED = "approved"
    REJECTED = "rejected"
    RUNNING = "running"
    ENDED = "ended"


class Verdict(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class ActivityType(db.Model):
    """A kind of promotion (display rental, end-cap, tasting, …) with its evidence and payout rule."""

    __tablename__ = "activity_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    name_en: Mapped[str] = mapped_column(String(120), default="")
    check_period: Mapped[str] = mapped_column(String(20), default=CheckPeriod.WEEKLY)
    photos_per_period: Mapped[int] = mapped_column(Integer, default=1)
    checklist: Mapped[list] = mapped_column(JSON, default=list)  # items to confirm, one text each
    compliance_floor_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("60.00"))
    margin_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0.00"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    def label(self, locale: str | None) -> str:
        return self.name_en if (locale or "").startswith("en") and self.name_en else self.name

    def __repr__(self) -> str:
        return f"<ActivityType {self.name}>"


class Activity(db.Model):
    """A promotion application: a type, a period, stores with their budgets, and a status.

    `budget_total` is the sum of the stores' budgets, kept by the operations that change them;
    it can exceed one store's 32-bit cap, hence BigInteger."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    type_id: Mapped[int] = mapped_column(ForeignKey("activity_types.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ActivityStatus.DRAFT, index=True)
    period_start: Mapped[date] = mapped_column(Date, index=True)
    period_end: Mapped[date] = mapped_column(Date, index=True)
    budget_total: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units (fen)
    expected_lift_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    margin_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0.00"))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    type: Mapped[ActivityType] = relationship()
    applicant: Mapped[User] = relationship()
    stores: Mapped[list[ActivityStore]] = relationship(back_populates="activity", order_by="ActivityStore.id")
    transitions: Mapped[list[ActivityTransition]] = relationship(
        back_populates="activity", order_by="ActivityTransition.id")

    @property
    def code(self) -> str:
        return f"ACT-{self.id:05d}" if self.id else ""

    def __repr__(self) -> str:
        return f"<Activity {self.id} {self.status}>"


class ActivityStore(db.Model):
    """One store of an activity, with its budget: the unit evidence, compliance and claims attach to."""

    __tablename__ = "activity_stores"
    __table_args__ = (UniqueConstraint("activity_id", "store_id"),)
    scope_via = ("store", Store)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    budget: Mapped[int] = mapped_column(Integer)  # minor units (fen)

    activity: Mapped[Activity] = relationship(back_populates="stores")
    store: Mapped[Store] = relationship()


class ActivityTransition(db.Model):
    """One move of an activity's status, with who made it and why. Appended, never edited."""

    __tablename__ = "activity_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: moved by its dates
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    activity: Mapped[Activity] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()


class Review(db.Model):
    """A supervisor's verdict on one store's evidence for one check period.

    Keyed by (activity_store, period_index) — the index into rules.periods() for that store.
    Reviews are appended, never edited: the latest one (highest id) stands. Each names the review
    it follows (`previous_id`, 0 for the first) and the evidence it covered (`evidence_upto`, the
    highest evidence id the reviewer saw); the unique (store, period, previous) makes two reviewers
    who saw the same state collide in the database instead of one silently overwriting the other."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_activity_store_id_period_index", "activity_store_id", "period_index", "id"),
                      UniqueConstraint("activity_store_id", "period_index", "previous_id", name="uq_reviews_previous"))
    scope_via = ("activity_store", ActivityStore)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_store_id: Mapped[int] = mapped_column(ForeignKey("activity_stores.id"))
    period_index: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(40), default="")  # a pick-list code on rejection
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    previous_id: Mapped[int] = mapped_column(Integer)  # the review this one follows; 0: the first
    evidence_upto: Mapped[int] = mapped_column(Integer, default=0)  # the newest evidence id it covered

    activity_store: Mapped[ActivityStore] = relationship()
    reviewer: Mapped[User] = relationship()


@event.listens_for(Review, "before_insert")
def _follow_the_latest(_mapper, connection, review: Review) -> None:
    """A review appended without saying what it follows, follows the latest one of its period."""
    if review.previous_id is None:
        store_id = review.activity_store_id if review.activity_store_id is not None else review.activity_store.id
        review.previous_id = connection.execute(
            select(func.coalesce(func.max(Review.id), 0))
            .where(Review.activity_store_id == store_id, Review.period_index == review.period_index)).scalar_one()


class Evidence(db.Model):
    """A photo (or a checklist alone) bound to one store of an activity for one check period.

    A photo is evidence for one activity store at most (`photo_id` is unique); a row with no photo
    carries checklist answers only. `checklist` maps each item of the type's checklist, as worded
    when answered, to whether the rep confirmed it; `unconfirmed` counts the items left unticked,
    so the queue ranks such evidence without reading the JSON. Rows are never edited: a voided
    photo simply stops counting."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_activity_store_id_period_index", "activity_store_id", "period_index", "id"),)
    scope_via = ("activity_store", ActivityStore)

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id"), unique=True)
    activity_store_id: Mapped[int] = mapped_column(ForeignKey("activity_stores.id"))
    period_index: Mapped[int] = mapped_column(Integer)
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)
    unconfirmed: Mapped[int] = mapped_column(Integer, default=0)  # checklist items left unconfirmed
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    photo: Mapped[Photo | None] = relationship("Photo")
    activity_store: Mapped[ActivityStore] = relationship()
    created_by: Mapped[User] = relationship()
