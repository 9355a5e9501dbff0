"""Competitor sightings, one row per competitor product seen, derived from visits' competitor steps.

The step result (visits.StepResult) is the record the rep made; a CompetitorSighting row is a copy of one
of its sightings with what the report groups by (store, rep, region, channel, day, week) written beside it,
so the report reads one narrow table and never unpacks JSON. The admin's promotion types are a short list."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import User
from field.core import UTCDateTime, now
from field.extensions import db
from field.stores.models import Store


class CompetitorPromotionType(db.Model):
    """A kind of competitor promotion a rep can name (特价, 买赠, 堆头…): an admin keeps the list; a type
    taken off the list stays on the sightings that named it."""

    __tablename__ = "competitor_promotion_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(60), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    def label(self, locale: str | None) -> str:
        return self.name_en if (locale or "").startswith("en") and self.name_en else self.name


class CompetitorSighting(db.Model):
    """One competitor product seen on one visit's competitor step (derived; see the module's docstring).
    Scoped like the visit it came from: its rep, and the region its store was in."""

    __tablename__ = "competitor_sightings"
    scope_rep_column = "rep_id"
    scope_region_column = "region_id"
    __table_args__ = (
        # The report groups a range of weeks by week, brand, promotion and price: this index holds every column it
        # filters or groups by, in the grouping's order, so the database reads one range of it and streams the
        # groups out without sorting or touching the table (bench/channel_competitors.py).
        Index("ix_competitor_sightings_week_prices", "week", "brand", "promotion_type_id", "price", "region_id",
              "channel", "rep_id"),
        # The drill-down: newest first, a page at a time.
        Index("ix_competitor_sightings_seen_on_id", "seen_on", "id"),
        Index("ix_competitor_sightings_visit_id_step_id", "visit_id", "step_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    step_id: Mapped[int] = mapped_column(ForeignKey("visit_steps.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    channel: Mapped[str] = mapped_column(String(20), default="")
    seen_on: Mapped[date] = mapped_column(Date)   # the rep's local day
    week: Mapped[date] = mapped_column(Date)      # the Monday of seen_on's week
    brand: Mapped[str] = mapped_column(String(60))
    product: Mapped[str] = mapped_column(String(120), default="")
    price: Mapped[int] = mapped_column(Integer)   # fen
    promotion_type_id: Mapped[int | None] = mapped_column(ForeignKey("competitor_promotion_types.id"))
    display: Mapped[str] = mapped_column(String(20), default="shelf")
    facings: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    store: Mapped[Store] = relationship()
    rep: Mapped[User] = relationship()
    promotion_type: Mapped[CompetitorPromotionType | None] = relationship()
