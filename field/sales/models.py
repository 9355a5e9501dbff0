"""A Sale line: what a store bought or sold, by day and product, in minor units."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.core import UTCDateTime, now
from field.extensions import db
from field.products.models import Product
from field.stores.models import Store


class Sale(db.Model):
    __tablename__ = "sales"
    scope_via = ("store", Store)  # whoever may see the store may see its sales
    # One line per source record: an order line of a visit, or a row of an import (by its natural key).
    __table_args__ = (UniqueConstraint("source", "source_key", name="uq_sales_source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    sold_on: Mapped[date] = mapped_column(Date, index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    category: Mapped[str] = mapped_column(String(100), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(Integer, default=0)  # minor units
    source: Mapped[str] = mapped_column(String(20))  # visit | import
    source_key: Mapped[str] = mapped_column(String(200))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    store: Mapped[Store] = relationship()
    product: Mapped[Product | None] = relationship()
