"""A rep's working day: one row per rep and local day, started with a position and ended (by the rep, or
closed by `flask workday-close` and flagged). A start or an end carries the phone's client id, so the
outbox may send it again without a second start."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import User
from field.core import UTCDateTime, now
from field.extensions import db
from field.geo import Point
from field.photos.models import OwnPhoto


class Workday(db.Model):
    __tablename__ = "workdays"
    __table_args__ = (UniqueConstraint("rep_id", "day", name="uq_workdays_rep_id_day"),)
    scope_rep_column = "rep_id"
    scope_region_column = None

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date] = mapped_column(Date, index=True)  # the rep's local day of the start

    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    start_lat: Mapped[float | None] = mapped_column(Float)
    start_lng: Mapped[float | None] = mapped_column(Float)
    start_accuracy_m: Mapped[float | None] = mapped_column(Float)
    start_received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    start_client_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_lat: Mapped[float | None] = mapped_column(Float)
    end_lng: Mapped[float | None] = mapped_column(Float)
    end_accuracy_m: Mapped[float | None] = mapped_column(Float)
    end_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    auto_closed: Mapped[bool] = mapped_column(Boolean, default=False)

    flags: Mapped[list] = mapped_column(JSON, default=list)  # codes: late_start, early_end, no_end
    # The optional selfies at the start and the end (field/photos OwnPhoto, purpose selfie).
    start_photo_id: Mapped[int | None] = mapped_column(ForeignKey("own_photos.id"))
    end_photo_id: Mapped[int | None] = mapped_column(ForeignKey("own_photos.id"))

    rep: Mapped[User] = relationship()
    start_photo: Mapped[OwnPhoto | None] = relationship(foreign_keys=[start_photo_id])
    end_photo: Mapped[OwnPhoto | None] = relationship(foreign_keys=[end_photo_id])

    @property
    def start_point(self) -> Point | None:
        return Point(self.start_lat, self.start_lng) if self.start_lat is not None else None

    @property
    def end_point(self) -> Point | None:
        return Point(self.end_lat, self.end_lng) if self.end_lat is not None else None

    def __repr__(self) -> str:
        return f"<Workday {self.rep_id} {self.day}>"
