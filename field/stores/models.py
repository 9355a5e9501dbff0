"""Stores (outlets): where reps go and where evidence is taken."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import Region, User
from field.core import UTCDateTime, now
from field.dealers.models import Dealer
from field.extensions import db
from field.geo import Point

TIERS = ("A", "B", "C", "D")
# Days between visits a tier asks for, unless the store overrides it.
TIER_FREQUENCY_DAYS = {"A": 7, "B": 14, "C": 30, "D": 90}


class Channel(StrEnum):
    KA = "ka"
    SUPERMARKET = "supermarket"
    CONVENIENCE = "convenience"
    TRADITIONAL = "traditional"
    CATERING = "catering"
    WHOLESALE = "wholesale"


def frequency_days(tier: str | None, every: int | None) -> int:
    """Days between visits to a store: its own setting, else its tier's (the one home of this rule;
    queries that read only these two columns apply it to their rows)."""
    return every or TIER_FREQUENCY_DAYS.get(tier, 30)


class Store(db.Model):
    __tablename__ = "stores"
    # Scope: who owns a store, and where it is.
    scope_rep_column = "owner_rep_id"
    scope_region_column = "region_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str] = mapped_column(String(400), default="")
    # Always WGS-84; `datum` records what the position was given in.
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    datum: Mapped[str] = mapped_column(String(8), default="wgs84")
    geofence_m: Mapped[int] = mapped_column(Integer, default=200)
    tier: Mapped[str] = mapped_column(String(1), default="C")
    channel: Mapped[str] = mapped_column(String(20), default=Channel.TRADITIONAL)
    dealer: Mapped[str] = mapped_column(String(200), default="")  # as imported; dealer_id is the record
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"), index=True)
    owner_rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    visit_every_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    owner_rep: Mapped[User | None] = relationship()
    region: Mapped[Region | None] = relationship()
    dealer_record: Mapped[Dealer | None] = relationship()

    @property
    def point(self) -> Point | None:
        return Point(self.lat, self.lng) if self.lat is not None and self.lng is not None else None

    @property
    def frequency_days(self) -> int:
        return frequency_days(self.tier, self.visit_every_days)

    def __repr__(self) -> str:
        return f"<Store {self.code}>"
