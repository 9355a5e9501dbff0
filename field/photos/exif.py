"""What a photo file says about itself: capture time (with its offset), GPS, orientation.

Every field is read on its own and a malformed one is ignored, never fatal: a photo
with a broken GPS block is still evidence, it just carries no EXIF position.

The capture time and where its UTC offset came from (TimeSource), first match wins:
1. EXIF DateTimeOriginal with the file's own offset (OffsetTimeOriginal, else OffsetTime);
2. an XMP date with its own offset (exif:DateTimeOriginal, photoshop:DateCreated, xmp:CreateDate),
   when there is no EXIF time or it names the same local time;
3. a local time (EXIF, else XMP) without an offset, the offset derived from the photo's GPS clock:
   GPSDateStamp + GPSTimeStamp are UTC, so local − UTC, rounded to 15 min, is the offset;
4. a local time with no offset anywhere, read in the rep's zone (the least sure);
5. none."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from zoneinfo import ZoneInfo

from PIL import Image

from field.geo import Point, valid_lat_lng

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
ORIENTATION = 0x0112
DATETIME_ORIGINAL, DATETIME_DIGITIZED = 0x9003, 0x9004
OFFSET_TIME_ORIGINAL, OFFSET_TIME = 0x9011, 0x9010
GPS_LAT_REF, GPS_LAT, GPS_LNG_REF, GPS_LNG = 1, 2, 3, 4
GPS_TIME, GPS_DATE = 7, 29
MAX_XMP = 512 * 1024  # characters of an XMP packet searched for dates

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
# An XMP date property, as an attribute (name="…") or an element (<name>…</name>).
_XMP_DATE = r"""(?:{name}\s*=\s*["']([^"'<>]{{4,40}})["']|<{name}>\s*([^<>]{{4,40}}?)\s*</{name}>)"""
XMP_DATES = [re.compile(_XMP_DATE.format(name=re.escape(name)))
             for name in ("exif:DateTimeOriginal", "photoshop:DateCreated", "xmp:CreateDate")]
_XMP_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
OFFSET_STEP_MIN = 15
MIN_OFFSET_MIN, MAX_OFFSET_MIN = -12 * 60, 14 * 60


class TimeSource(StrEnum):
    """Where a capture time's UTC offset came from (the time itself is the file's)."""
    EXIF_OFFSET = "exif_offset"  # EXIF time with the offset the file writes beside it
    GPS = "gps"                  # the file's local time; offset derived from its GPS clock (UTC)
    XMP = "xmp"                  # an XMP date carrying its own offset
    ZONE = "zone"                # the file's local time, no offset anywhere: read in the rep's zone


@dataclass(frozen=True)
class Capture:
    taken_at: datetime | None = None       # UTC
    utc_offset_min: int | None = None      # the photo's own offset (file, GPS or XMP); None: read in the rep's zone
    point: Point | None = None             # WGS-84, as GPS receivers give it
    orientation: int = 1
    time_source: TimeSource | None = None  # None: no capture time

    @property
    def swaps_sides(self) -> bool:
        return self.orientation in (5, 6, 7, 8)

    @property
    def empty(self) -> bool:
        return self.taken_at is None and self.point is None


def read(image: Image.Image, zone: str, orientation: int | None = None) -> Capture:
    """The capture data of an opened (not necessarily loaded) image; `zone` reads a time without offset.
    `orientation`, when given, replaces the EXIF one (a HEIF's container decides: images.heif_orientation)."""
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 — a broken EXIF block means "no EXIF", whatever Pillow raised
        exif = Image.Exif()
    gps = _ifd(exif, GPS_IFD)
    taken_at, offset, source = capture_time(_ifd(exif, EXIF_IFD), gps, xmp_text(image), zone)
    return Capture(taken_at=taken_at, utc_offset_min=offset, point=_gps(gps),
                   orientation=orientation if orientation is not None else _orientation(exif), time_source=source)


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


def _at(local: datetime, offset: int) -> datetime:
    return local.replace(tzinfo=timezone(timedelta(minutes=offset))).astimezone(timezone.utc)


def capture_time(ifd: dict, gps: dict, xmp: str, zone: str) -> tuple[datetime | None, int | None, TimeSource | None]:
    """(UTC time, the photo's own offset, its source) by the rules in this module's docstring."""
    local = parse_datetime(ifd.get(DATETIME_ORIGINAL)) or parse_datetime(ifd.get(DATETIME_DIGITIZED))
    if local is not None and local.year < 1990:
        local = None
    if local is not None:
        offset = parse_offset(ifd.get(OFFSET_TIME_ORIGINAL))
        if offset is None:
            offset = parse_offset(ifd.get(OFFSET_TIME))
        if offset is not None:
            return _at(local, offset), offset, TimeSource.EXIF_OFFSET
    xmp_local, xmp_offset = xmp_date(xmp)
    # The XMP date's offset also serves an EXIF time without one when both name the same moment.
    if xmp_local is not None and xmp_offset is not None and (local is None or local == xmp_local):
        return _at(xmp_local, xmp_offset), xmp_offset, TimeSource.XMP
    local = local or xmp_local
    if local is None:
        return None, None, None
    offset = gps_offset(local, gps)
    if offset is not None:
        return _at(local, offset), offset, TimeSource.GPS
    try:
        tz = ZoneInfo(zone)
    except Exception:  # noqa: BLE001 — an unknown zone name reads the time as UTC
        tz = timezone.utc
    return local.replace(tzinfo=tz).astimezone(timezone.utc), None, TimeSource.ZONE


def gps_utc(gps: dict) -> datetime | None:
    """The GPS clock's UTC moment (GPSDateStamp 'YYYY:MM:DD' + GPSTimeStamp h, m, s), or None."""
    date = _text(gps.get(GPS_DATE))
    stamp = gps.get(GPS_TIME)
    try:
        day = datetime.strptime(date[:10].replace("-", ":"), "%Y:%m:%d")
        hours, minutes, seconds = (float(v) for v in stamp)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(math.isfinite(v) and v >= 0 for v in (hours, minutes, seconds)) or hours >= 24 or minutes >= 60 \
            or seconds >= 61 or day.year < 1990:
        return None
    return (day + timedelta(hours=hours, minutes=minutes, seconds=seconds)).replace(tzinfo=timezone.utc)


def gps_offset(local: datetime, gps: dict) -> int | None:
    """The offset (minutes) that makes the file's local time the GPS clock's UTC moment: local − UTC,
    rounded to 15 min (a fix a few minutes older than the shot still gives the zone); None when there is
    no GPS clock or the difference is no time zone (beyond −12:00…+14:00: a stale or broken clock)."""
    utc = gps_utc(gps)
    if utc is None:
        return None
    minutes = (local - utc.replace(tzinfo=None)).total_seconds() / 60
    offset = round(minutes / OFFSET_STEP_MIN) * OFFSET_STEP_MIN
    return offset if MIN_OFFSET_MIN <= offset <= MAX_OFFSET_MIN else None


def xmp_text(image: Image.Image) -> str:
    """The image's XMP packet as text ('' without one): JPEG, WebP and HEIF keep it as info["xmp"],
    PNG as its iTXt "XML:com.adobe.xmp"."""
    raw = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or ""
    if isinstance(raw, bytes):
        raw = raw[:MAX_XMP * 4].decode("utf-8", "ignore")
    return str(raw)[:MAX_XMP]


def parse_xmp_datetime(text: str) -> tuple[datetime | None, int | None]:
    """'2026-04-11T15:47:00-05:00' → (naive local time, offset minutes or None); a date alone is no time."""
    match = _XMP_TIME.match(text.strip())
    if not match:
        return None, None
    year, month, day, hour, minute, second, tz = match.groups()
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return None, None
    if local.year < 1990:
        return None, None
    offset = 0 if tz == "Z" else parse_offset(tz) if tz else None
    return local, offset


def xmp_date(xmp: str) -> tuple[datetime | None, int | None]:
    """The first capture date the XMP packet carries, by the order of XMP_DATES."""
    for pattern in XMP_DATES:
        for match in pattern.finditer(xmp):
            local, offset = parse_xmp_datetime(match.group(1) or match.group(2) or "")
            if local is not None:
                return local, offset
    return None, None


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
