"""What ROI reads fast: sales per store per day, and the index the control-store lookup needs.

SalesDaily holds one row per store and day with the sum of that day's sales lines. It is kept by
the database itself — triggers on `sales` (see migrations/versions/0005_claims.py) add, change and
take back each line as it is inserted, updated or deleted — so sales from visit orders and from
imports are both in it, in the same transaction, whoever writes them. ROI sums windows of days
per store: reading one row per store-day instead of one per sales line (a store orders several
SKUs a day) is what keeps the manager's page inside its time budget (bench/roi.py)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, cast, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.extensions import db
from field.stores.models import Store


class SalesDaily(db.Model):
    __tablename__ = "sales_daily"
    # Clustered by (store, day) on SQLite: a store's window of days is one contiguous read.
    __table_args__ = {"sqlite_with_rowid": False}
    scope_via = ("store", Store)

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)

    store: Mapped[Store] = relationship()


# Control stores are looked up by (region, tier, channel) for every activity on the ROI page.
Index("ix_stores_region_id_tier_channel", Store.region_id, Store.tier, Store.channel)


def group_key(store=Store):
    """The key of a store's group, spelled as the triggers spell it: '<region id or 0>:<tier>:<channel>'."""
    return func.coalesce(cast(store.region_id, Text), "0") + ":" + store.tier + ":" + store.channel


class RoiGeneration(db.Model):
    """How often the inputs of one group of stores' ROI figures have changed.

    A group is the stores sharing a region (area), tier and channel: the stores a line's control
    stores are drawn from, and the line's own store. Triggers (migrations/versions/0007_roi_figures.py)
    add one to a group's counter whenever something its figures read changes: a store-day of sales,
    a review or a ledger line of one of its activity stores, an activity's state, period or margin,
    the stores of an activity, a store's region, tier, channel or visit frequency."""

    __tablename__ = "roi_generations"

    group_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


class RoiFigure(db.Model):
    """One activity store's ROI figures as measured through `stop`, and the generation of its group
    they were measured at: current while both still hold (field/roi/figures.py)."""

    __tablename__ = "roi_figures"

    line_id: Mapped[int] = mapped_column(ForeignKey("activity_stores.id", ondelete="CASCADE"), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(80))
    generation: Mapped[int] = mapped_column(BigInteger)
    stop: Mapped[date] = mapped_column(Date)
    actual: Mapped[int] = mapped_column(BigInteger)
    baseline: Mapped[int | None] = mapped_column(BigInteger)  # None: no pre-period day left
    incremental: Mapped[int | None] = mapped_column(BigInteger)
    incremental_gp: Mapped[int | None] = mapped_column(BigInteger)
    controls: Mapped[int] = mapped_column(Integer)
    written_off: Mapped[int] = mapped_column(BigInteger)
    settled: Mapped[bool] = mapped_column(Boolean)
    verified: Mapped[int] = mapped_column(Integer)
    required: Mapped[int] = mapped_column(Integer)
