"""Monthly sales targets (销售指标): a region's target for a month, split to reps and each rep's to stores.

One table, one row per (month, level, subject): level "region" (subject: the region), "rep" (the rep; its
parent is the region's row) or "store" (the store; its parent is its rep's row). Every row names the region
whose target it splits (`region_id`), so scope sees a split where it sees the region, and a rep sees their
own rows (`rep_id`). Amounts in minor units (fen)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import Region, User
from field.core import UTCDateTime, now
from field.extensions import db
from field.sales.models import Sale
from field.stores.models import Store

LEVELS = ("region", "rep", "store")
CHILD_LEVEL = {"region": "rep", "rep": "store"}


class Target(db.Model):
    __tablename__ = "sales_targets"
    scope_rep_column = "rep_id"
    scope_region_column = "region_id"
    __table_args__ = (
        UniqueConstraint("month", "level", "subject_id", name="uq_sales_targets_subject"),
        CheckConstraint("amount >= 0", name="ck_sales_targets_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)  # the first day of the month
    level: Mapped[str] = mapped_column(String(10))  # region | rep | store
    subject_id: Mapped[int] = mapped_column(Integer)  # the region's, rep's or store's id
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sales_targets.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    basis: Mapped[str] = mapped_column(String(20), default="manual")  # manual | proportional | even | import
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    region: Mapped[Region] = relationship()
    rep: Mapped[User | None] = relationship(foreign_keys=[rep_id])
    store: Mapped[Store | None] = relationship()
    parent: Mapped[Target | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Target {self.month:%Y-%m} {self.level} {self.subject_id} {self.amount}>"


# What a target is measured against is summed per store and month (a rep's stores on Today, a region's in
# the summaries): an index of sales by store and day that carries the amount answers it from the index alone.
Index("ix_sales_store_day_amount", Sale.store_id, Sale.sold_on, Sale.amount)
