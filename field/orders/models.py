"""Orders to dealers: an order taken in a visit goes to the store's dealer, who confirms and delivers it.

An Order is made from one ORDER_LINES step result (unique: saving the step again never makes a second
order). Its status moves submitted → confirmed → delivered | partly_delivered, or → cancelled; every move
is a row of `order_transitions` (append-only) and an audit event."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import User
from field.core import UTCDateTime, now
from field.dealers.models import Dealer
from field.extensions import db
from field.products.models import Product
from field.stores.models import Store


class OrderStatus(StrEnum):
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    DELIVERED = "delivered"
    PARTLY_DELIVERED = "partly_delivered"
    CANCELLED = "cancelled"


class Order(db.Model):
    __tablename__ = "orders"
    # Reps, supervisors, managers see an order through its store; a dealer's staff through dealer_id.
    scope_via = ("store", Store)
    scope_dealer_column = "dealer_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    # The step result the order came from: one order per result, whatever the number of saves.
    step_result_id: Mapped[int | None] = mapped_column(ForeignKey("step_results.id"), unique=True)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.SUBMITTED)
    total: Mapped[int] = mapped_column(Integer, default=0)  # minor units, as ordered
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    status_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    dealer: Mapped[Dealer] = relationship()
    store: Mapped[Store] = relationship()
    rep: Mapped[User | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.line_no",
                                                  cascade="all, delete-orphan")
    transitions: Mapped[list[OrderTransition]] = relationship(back_populates="order",
                                                              order_by="OrderTransition.id")

    __table_args__ = (Index("ix_orders_dealer_id_status_placed_at", "dealer_id", "status", "placed_at"),)


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)  # minor units
    delivered_quantity: Mapped[int | None] = mapped_column(Integer)  # set once, on delivery

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product | None] = relationship()

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


class OrderTransition(db.Model):
    """One move of an order's status: who, when, and what (delivered quantities, a reason). Never changed."""
    __tablename__ = "order_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    order: Mapped[Order] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()
