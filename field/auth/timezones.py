"""Time zones offered in the profile: where these teams work, most likely first, each named in the
reader's language with its offset ("中国（上海）时间 · UTC+08:00"), never as "Asia/Shanghai"."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from flask_babel import get_locale
from wtforms.fields.choices import SelectChoice

TIMEZONES = [
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Urumqi", "Asia/Singapore",
    "Asia/Tokyo", "Asia/Seoul", "Asia/Bangkok", "Asia/Jakarta", "Asia/Kolkata", "Asia/Dubai",
    "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC",
]


def offset(zone: str, at: datetime | None = None) -> str:
    """'UTC+08:00': the zone's offset now (or at `at`)."""
    minutes = int((at or datetime.now(timezone.utc)).astimezone(ZoneInfo(zone)).utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def label(zone: str) -> str:
    """The zone as a person reads it, in the current language, with its offset."""
    if zone == "UTC":
        return "UTC"
    return f"{get_timezone_location(zone, locale=get_locale())} · {offset(zone)}"


def choices() -> list[SelectChoice]:
    return [SelectChoice(zone, label(zone)) for zone in TIMEZONES]
