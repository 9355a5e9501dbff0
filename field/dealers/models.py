"""Dealers: a record per distributor, in a region of the tree, supplying stores.

A store names its dealer by `stores.dealer_id`; a dealer's staff sign in as users with the
dealer role and `users.dealer_id` set (field.scope limits them to that dealer)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import Region
from field.core import UTCDateTime, now
from field.extensions import db


class Dealer(db.Model):
    __tablename__ = "dealers"
    # Scope: a dealer lies in a region (and so in every region above it); no rep owns one.
    scope_rep_column = None
    scope_region_column = "region_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    # The tier's name as last confirmed by a manager ("" until the first one).
    tier: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    region: Mapped[Region | None] = relationship()

    def __repr__(self) -> str:
        return f"<Dealer {self.code}>"
