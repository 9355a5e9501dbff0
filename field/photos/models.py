"""Photo: the evidence unit. Its bytes never change and it is never deleted, only voided."""
from __future__ import annotations

import sqlite3
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field.auth.models import User
from field.core import UTCDateTime, now
from field.extensions import db
from field.geo import Point
from field.photos.phash import BANDS, WINDOW_BANDS, bands, window_bands
from field.stores.models import Store

if TYPE_CHECKING:
    # Not imported at run time: field.visits pulls in half the app, and several domains import
    # this module while it loads. The relationships below name their classes instead.
    from field.visits.models import Visit, VisitStep


class Source(StrEnum):
    CAMERA = "camera"
    ALBUM = "album"


class StoredPicture:
    """The stored files of a picture: the original as sent, the watermarked display copy and the
    thumbnail (keys in the photo storage), and what the original is."""
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)    # as shown, after the EXIF orientation
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    original_key: Mapped[str] = mapped_column(String(200))
    display_key: Mapped[str] = mapped_column(String(200))
    thumb_key: Mapped[str] = mapped_column(String(200))


class Photo(StoredPicture, db.Model):
    """One photo taken for a visit step.

    `client_id` is the UUID the phone made before the first try: the idempotency key.
    The original is stored under its SHA-256; display copy (watermarked) and thumbnail
    under keys of their own. `band0…` are the perceptual hash cut in pieces, each indexed,
    so near copies are found by exact band lookups (field/photos/phash.py)."""

    __tablename__ = "photos"
    scope_rep_column = "rep_id"
    scope_region_column = None
    scope_region_via = ("store", Store)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("visit_steps.id"))
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    source: Mapped[str] = mapped_column(String(10), default=Source.CAMERA)

    sha256: Mapped[str] = mapped_column(String(64), index=True)
    phash: Mapped[int] = mapped_column(BigInteger)
    band0: Mapped[int] = mapped_column(Integer)
    band1: Mapped[int] = mapped_column(Integer)
    band2: Mapped[int] = mapped_column(Integer)
    band3: Mapped[int] = mapped_column(Integer)

    # What the file says (EXIF, XMP). A time with no offset anywhere was read in the rep's time zone.
    exif_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exif_utc_offset_min: Mapped[int | None] = mapped_column(Integer)
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lng: Mapped[float | None] = mapped_column(Float)
    exif_distance_m: Mapped[float | None] = mapped_column(Float)
    # What the phone said when the photo was taken (WGS-84).
    phone_lat: Mapped[float | None] = mapped_column(Float)
    phone_lng: Mapped[float | None] = mapped_column(Float)
    phone_accuracy_m: Mapped[float | None] = mapped_column(Float)
    phone_captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone_distance_m: Mapped[float | None] = mapped_column(Float)
    # Where the capture time's offset came from (field.photos.exif.TimeSource: exif_offset, gps, xmp,
    # zone; NULL: no capture time). exif_utc_offset_min is then the photo's own offset, from the
    # file, its GPS clock or its XMP; NULL when the time was read in the rep's zone.
    taken_at_source: Mapped[str | None] = mapped_column(String(12))

    flags: Mapped[list] = mapped_column(JSON, default=list)  # [{"code": …, …detail}]
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)

    visit: Mapped[Visit] = relationship("Visit")
    step: Mapped[VisitStep | None] = relationship("VisitStep")
    rep: Mapped[User] = relationship(foreign_keys=[rep_id])
    store: Mapped[Store] = relationship()
    voided_by: Mapped[User | None] = relationship(foreign_keys=[voided_by_id])

    def set_phash(self, value: int) -> None:
        self.phash = value
        for i, band in enumerate(bands(value)):
            setattr(self, f"band{i}", band)

    @property
    def exif_point(self) -> Point | None:
        return Point(self.exif_lat, self.exif_lng) if self.exif_lat is not None else None

    @property
    def phone_point(self) -> Point | None:
        return Point(self.phone_lat, self.phone_lng) if self.phone_lat is not None else None

    @property
    def flag_codes(self) -> list[str]:
        return [f["code"] for f in self.flags or []]

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


@event.listens_for(Engine, "connect")
def _sqlite_hamming(dbapi_connection, _record):
    """hamming64(a, b) in SQL on SQLite, so a near-copy lookup compares bits inside the database
    (PostgreSQL has bit_count). Registered on every new SQLite connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("hamming64", 2, _hamming, deterministic=True)


_MASK64 = (1 << 64) - 1


def _hamming(a, b) -> int | None:
    # Called once per candidate row from inside SQLite: kept to one expression.
    return ((a ^ b) & _MASK64).bit_count() if a is not None and b is not None else None


# One index per band, covering what a near-copy lookup reads (hash, visit, id), so the lookup
# is index probes only: no scan, and on PostgreSQL no heap visit.
for _i in range(BANDS):
    Index(f"ix_photos_band{_i}", getattr(Photo, f"band{_i}"), Photo.phash, Photo.visit_id, Photo.id)


# --- window hashes: crops up to 10 % a side (field/photos/phash.py, "Windows") ----------------------

class PhotoWindow(db.Model):
    """One window hash of a photo: 16 a photo, written with it, never changed. `band0…2` cut the
    hash as WINDOW_BANDS says, each indexed with what a lookup reads, so finding a cropped copy
    is exact index probes only. Photos stored before these existed have none: they are still
    found by their whole-image hash (photos.phash), not as crops."""

    __tablename__ = "photo_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id"))
    visit_id: Mapped[int] = mapped_column(Integer)  # the photo's, so a lookup skips its own visit unread
    hash: Mapped[int] = mapped_column(BigInteger)
    band0: Mapped[int] = mapped_column(Integer)
    band1: Mapped[int] = mapped_column(Integer)
    band2: Mapped[int] = mapped_column(Integer)

    @classmethod
    def of(cls, photo: Photo, value: int) -> PhotoWindow:
        return cls(photo_id=photo.id, visit_id=photo.visit_id, hash=value,
                   **{f"band{i}": b for i, b in enumerate(window_bands(value))})


Index("ix_photo_windows_photo", PhotoWindow.photo_id)
for _i in range(len(WINDOW_BANDS)):
    Index(f"ix_photo_windows_band{_i}", getattr(PhotoWindow, f"band{_i}"), PhotoWindow.hash, PhotoWindow.visit_id,
          PhotoWindow.photo_id)


# --- a rep's own photos: of no store (issue 16) ------------------------------------------------------

class OwnPurpose(StrEnum):
    RECEIPT = "receipt"   # a travel receipt (parking, toll, transit): field/claims ExpenseReceipt
    SELFIE = "selfie"     # at the start or the end of the working day: field/workday Workday


class OwnPhoto(StoredPicture, db.Model):
    """A photo a rep takes of something that is no store: a travel receipt, a selfie at the start or the end of
    the day. It comes in the way a visit's photo does (field/photos/own.py: the phone's client id, the same
    limits, durable before acknowledged, a bad file refused with nothing stored) but has no visit, store or
    near-copy hashes. Its bytes never change and it is never deleted; what it is for says how it goes out of
    play (a receipt is voided on its receipt row). Scoped by its rep: the rep, their supervisor, the managers
    of their supervisor's regions."""

    __tablename__ = "own_photos"
    scope_rep_column = "rep_id"
    scope_region_column = None

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10), default=Source.CAMERA)

    sha256: Mapped[str] = mapped_column(String(64), index=True)
    exif_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone_lat: Mapped[float | None] = mapped_column(Float)
    phone_lng: Mapped[float | None] = mapped_column(Float)
    phone_accuracy_m: Mapped[float | None] = mapped_column(Float)
    phone_captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flags: Mapped[list] = mapped_column(JSON, default=list)  # [{"code": …}]: trailing data
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    rep: Mapped[User] = relationship()

    @property
    def flag_codes(self) -> list[str]:
        return [f["code"] for f in self.flags or []]
