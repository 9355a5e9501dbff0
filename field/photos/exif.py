"""What a photo file says about itself: capture time (with its offset), GPS, orientation.

Every field is read on its own and a malformed one is ignored, never fatal: a photo
with a broken GPS block is still evidence, it just carries no EXIF position."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from PIL import Image

from field.geo import Point, valid_lat_lng

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
ORIENTATION = 0x0112
DATETIME_ORIGINAL, DATETIME_DIGITIZED = 0x9003, 0x9004
OFFSET_TIME_ORIGINAL, OFFSET_TIME = 0x9011, 0x9010
GPS_LAT_REF, GPS_LAT, GPS_LNG_REF, GPS_LNG = 1, 2, 3, 4

# ImageOps.exif_transpose's table: orientation → the transpose that shows the picture upright.
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


@dataclass(frozen=True)
class Capture:
    taken_at: datetime | None = None       # UTC
    utc_offset_min: int | None = None      # as written in the file; None: read in the rep's zone
    point: Point | None = None             # WGS-84, as GPS receivers give it
    orientation: int = 1

    @property
    def swaps_sides(self) -> bool:
        return self.orientation in (5, 6, 7, 8)

    @property
    def empty(self) -> bool:
        return self.taken_at is None and self.point is None


def read(image: Image.Image, zone: str) -> Capture:
    """The capture data of an opened (not necessarily loaded) image; `zone` reads a time without offset."""
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 — a broken EXIF block means "no EXIF", whatever Pillow raised
        return Capture()
    taken_at, offset = _taken_at(_ifd(exif, EXIF_IFD), zone)
    return Capture(taken_at=taken_at, utc_offset_min=offset, point=_gps(_ifd(exif, GPS_IFD)),
                   orientation=_orientation(exif))


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """The pixels turned as the orientation tag says (once: the tag is not read again)."""
    method = TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image


def _ifd(exif, tag) -> dict:
    try:
        return dict(exif.get_ifd(tag))
    except Exception:  # noqa: BLE001
        return {}


def _orientation(exif) -> int:
    try:
        value = int(exif.get(ORIENTATION, 1))
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    return str(value or "").strip().strip("\x00").strip()


def parse_offset(text) -> int | None:
    match = _OFFSET.match(_text(text))
    if not match:
        return None
    sign, hours, minutes = match.groups()
    total = int(hours) * 60 + int(minutes)
    if total > 14 * 60 or int(minutes) >= 60:
        return None
    return -total if sign == "-" else total


def parse_datetime(text) -> datetime | None:
    """'2026:11:23 09:41:07' (EXIF's form; dashes tolerated) → a naive datetime, or None."""
    text = _text(text)[:19]
    if len(text) != 19:
        return None
    text = text[:10].replace("-", ":") + text[10:]
    try:
        return datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _taken_at(ifd: dict, zone: str) -> tuple[datetime | None, int | None]:
    local = parse_datetime(ifd.get(DATETIME_ORIGINAL)) or parse_datetime(ifd.get(DATETIME_DIGITIZED))
    if local is None or local.year < 1990:
        return None, None
    offset = parse_offset(ifd.get(OFFSET_TIME_ORIGINAL))
    if offset is None:
        offset = parse_offset(ifd.get(OFFSET_TIME))
    if offset is not None:
        return local.replace(tzinfo=timezone(timedelta(minutes=offset))).astimezone(timezone.utc), offset
    try:
        tz = ZoneInfo(zone)
    except Exception:  # noqa: BLE001 — an unknown zone name reads the time as UTC
        tz = timezone.utc
    return local.replace(tzinfo=tz).astimezone(timezone.utc), None


def _degrees(value) -> float | None:
    try:
        parts = [float(v) for v in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts or len(parts) > 3 or not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    parts += [0.0] * (3 - len(parts))
    if parts[1] >= 60 or parts[2] >= 60:
        return None
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def _gps(ifd: dict) -> Point | None:
    lat, lng = _degrees(ifd.get(GPS_LAT)), _degrees(ifd.get(GPS_LNG))
    if lat is None or lng is None:
        return None
    lat_ref, lng_ref = _text(ifd.get(GPS_LAT_REF)).upper(), _text(ifd.get(GPS_LNG_REF)).upper()
    if lat_ref not in ("N", "S") or lng_ref not in ("E", "W"):
        return None
    lat, lng = (-lat if lat_ref == "S" else lat), (-lng if lng_ref == "W" else lng)
    if not valid_lat_lng(lat, lng) or (lat == 0 and lng == 0):
        return None  # 0,0 is a receiver with no fix, not a place
    return Point(lat, lng)
