"""Dealer tiers (渠道分级): named tiers a manager orders and gives criteria, the monthly figures each
dealer is judged on, and the upgrade/downgrade proposals a manager confirms or rejects.

DealerMonth is a kept figure (recomputed by `flask dealers-recompute`, replaced on each run); a
TierProposal is kept for good once decided: the dealer's tier changes only when one is confirmed."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import User
from field.core import UTCDateTime, now
from field.dealers.models import Dealer
from field.extensions import db


class Metric(StrEnum):
    SALES_MONTH = "sales_month"      # the month's sales, minor units
    SALES_3M = "sales_3m"            # the trailing three months' sales, minor units
    GROWTH_YOY = "growth_yoy"        # % vs the same month a year before (同比)
    GROWTH_MOM = "growth_mom"        # % vs the month before (环比)
    COVERAGE = "coverage"            # % of the dealer's active stores visited on their frequency
    COMPLIANCE = "compliance"        # % of their stores' reviewed evidence periods approved
    PUNCTUALITY = "punctuality"      # % of the last 3 months' recorded payments that were on time


MONEY_METRICS = (Metric.SALES_MONTH, Metric.SALES_3M)


class ProposalStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a later month's proposal replaced it before anyone decided


class Tier(db.Model):
    __tablename__ = "dealer_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    rank: Mapped[int] = mapped_column(Integer)  # higher is better; a dealer gets the best tier it meets
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    criteria: Mapped[list[TierCriterion]] = relationship(back_populates="tier", order_by="TierCriterion.metric",
                                                         cascade="all, delete-orphan")


class TierCriterion(db.Model):
    """One threshold of a tier: the metric must reach it (money in minor units, the rest in %)."""
    __tablename__ = "dealer_tier_criteria"
    __table_args__ = (UniqueConstraint("tier_id", "metric", name="uq_dealer_tier_criteria_metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("dealer_tiers.id"), index=True)
    metric: Mapped[str] = mapped_column(String(20))
    threshold: Mapped[Decimal] = mapped_column(Numeric(16, 2))

    tier: Mapped[Tier] = relationship(back_populates="criteria")


class DealerMonth(db.Model):
    """A dealer's figures for one month (its first day), as the last recompute found them."""
    __tablename__ = "dealer_months"
    __table_args__ = (UniqueConstraint("dealer_id", "month", name="uq_dealer_months_month"),)
    scope_via = ("dealer", Dealer)

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"), index=True)
    month: Mapped[date] = mapped_column(Date)
    sales: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units
    stores: Mapped[int] = mapped_column(Integer, default=0)  # active stores at the month's end
    on_schedule: Mapped[int] = mapped_column(Integer, default=0)  # of them, visited within their frequency
    periods: Mapped[int] = mapped_column(Integer, default=0)  # evidence periods reviewed in the month
    approved: Mapped[int] = mapped_column(Integer, default=0)  # of them, approved (the latest review)
    payments: Mapped[int] = mapped_column(Integer, default=0)  # 1 when the month's payment was recorded
    on_time: Mapped[int] = mapped_column(Integer, default=0)  # 1 when it was on time
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    dealer: Mapped[Dealer] = relationship()


class DealerPayment(db.Model):
    """A manager's record that a dealer paid a month's account on time or late (no payment data is
    imported: this is the whole of it). Appended, never changed: the latest record of a month stands."""
    __tablename__ = "dealer_payments"
    scope_via = ("dealer", Dealer)

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"), index=True)
    month: Mapped[date] = mapped_column(Date)
    on_time: Mapped[bool] = mapped_column(Boolean)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    recorded_by: Mapped[User] = relationship()


class TierProposal(db.Model):
    __tablename__ = "dealer_tier_proposals"
    __table_args__ = (UniqueConstraint("dealer_id", "month", name="uq_dealer_tier_proposals_month"),)
    scope_via = ("dealer", Dealer)

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"), index=True)
    month: Mapped[date] = mapped_column(Date)
    from_tier: Mapped[str] = mapped_column(String(40), default="")
    to_tier: Mapped[str] = mapped_column(String(40), default="")
    figures: Mapped[dict] = mapped_column(JSON, default=dict)  # metric → value shown, as judged
    status: Mapped[str] = mapped_column(String(12), default=ProposalStatus.OPEN, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    dealer: Mapped[Dealer] = relationship()
    decided_by: Mapped[User | None] = relationship()
