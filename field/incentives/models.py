"""Incentives (激励): tasks worth points, the append-only points ledger, levels with their rewards, and the
rewards handed out.

- A task (IncentiveTask) is a manager's offer for a region and a period: a kind of verified outcome
  (rules.KINDS) and the points it is worth. Editing a task never changes what was granted: each ledger row
  carries its own points.
- The points ledger (PointsEntry) is append-only: a grant (positive points) for one outcome of one task and
  rep, and at most one reversal (its negative) when that outcome stops being verified (a review approved at
  first submission, rejected later). The database holds the rules that must survive a race or a bug:
  one grant and one reversal per (task, rep, outcome) (a unique key), a reversal points at the grant it
  undoes (unique), signs match kinds (a check), and UPDATE is refused by a trigger (DELETE too on
  PostgreSQL; see migration 0019).
- Levels (IncentiveLevel) are company-wide: names, thresholds (strictly increasing) and the rewards each
  opens, written by a manager.
- A redemption (Redemption) records a reward handed to a rep, by a supervisor or manager; appended, never
  edited, and not tied to payroll."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, \
    UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import Region, User
from field.core import UTCDateTime, now
from field.extensions import db


class EntryKind(StrEnum):
    GRANT = "grant"
    REVERSAL = "reversal"


class IncentiveTask(db.Model):
    """A manager's task: `kind` of verified outcome in `region`, between two dates, worth `points`.
    `target` is the N of 'complete the route on N days' (1 for the other kinds)."""

    __tablename__ = "incentive_tasks"
    __table_args__ = (CheckConstraint("points > 0 AND points <= 10000", name="ck_incentive_tasks_points"),
                      CheckConstraint("target > 0", name="ck_incentive_tasks_target"),
                      CheckConstraint("period_end >= period_start", name="ck_incentive_tasks_period"))
    scope_rep_column = None
    scope_region_column = "region_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))
    points: Mapped[int] = mapped_column(Integer)
    target: Mapped[int] = mapped_column(Integer, default=1)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    region: Mapped[Region] = relationship()
    created_by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<IncentiveTask {self.id} {self.kind} {self.points}>"


class PointsEntry(db.Model):
    """One line of the points ledger: a grant for one outcome, or the reversal of a grant."""

    __tablename__ = "points_ledger"
    __table_args__ = (
        UniqueConstraint("task_id", "rep_id", "outcome", "kind", name="uq_points_ledger_outcome"),
        CheckConstraint("(kind = 'grant' AND points > 0 AND reverses_id IS NULL) OR "
                        "(kind = 'reversal' AND points < 0 AND reverses_id IS NOT NULL)",
                        name="ck_points_ledger_kind"),
        Index("ix_points_ledger_earned_on_rep", "earned_on", "rep_id", "points"),
        Index("ix_points_ledger_rep_day", "rep_id", "earned_on", "points"),
    )
    scope_rep_column = "rep_id"
    scope_region_column = None

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("incentive_tasks.id"))
    outcome: Mapped[str] = mapped_column(String(80))  # what was verified: "review:12", "days:3", …
    kind: Mapped[str] = mapped_column(String(10))
    points: Mapped[int] = mapped_column(Integer)
    earned_on: Mapped[date] = mapped_column(Date)  # the company day the line counts for (leaderboards)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("points_ledger.id"), unique=True)
    task_name: Mapped[str] = mapped_column(String(120))  # as it was named when the line was written
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: granted by the rules
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    rep: Mapped[User] = relationship(foreign_keys=[rep_id])
    task: Mapped[IncentiveTask] = relationship()


class IncentiveLevel(db.Model):
    """A level: reached at `threshold` points in all; `rewards` are the rights it opens, one text each."""

    __tablename__ = "incentive_levels"
    __table_args__ = (CheckConstraint("threshold >= 0", name="ck_incentive_levels_threshold"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    threshold: Mapped[int] = mapped_column(Integer, unique=True)
    rewards: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Redemption(db.Model):
    """A reward handed to a rep (as worded then, with the level that opened it). Appended, never edited."""

    __tablename__ = "points_redemptions"
    scope_rep_column = "rep_id"
    scope_region_column = None

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    level_name: Mapped[str] = mapped_column(String(60))
    reward: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    rep: Mapped[User] = relationship(foreign_keys=[rep_id])
    actor: Mapped[User] = relationship(foreign_keys=[actor_id])
