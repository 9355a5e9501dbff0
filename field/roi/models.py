"""What ROI reads fast: sales per store per day, and the index the control-store lookup needs.

SalesDaily holds one row per store and day with the sum of that day's sales lines. It is kept by
the database itself — triggers on `sales` (see migrations/versions/0005_claims.py) add, change and
take back each line as it is inserted, updated or deleted — so sales from visit orders and from
imports are both in it, in the same transaction, whoever writes them. ROI sums windows of days
per store: reading one row per store-day instead of one per sales line (a store orders several
SKUs a day) is what keeps the manager's page inside its time budget (bench/roi.py)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer
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
