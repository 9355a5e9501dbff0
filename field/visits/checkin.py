"""The rules that judge a check-in or check-out position, and a write's time. Pure functions.

Flags never block the rep: they rank what the supervisor looks at first. Only
two cases ask the rep for a typed reason: a position outside the store's
geofence, and no position at all. A phone time ahead of the server's clock by
more than CLOCK_SLACK is refused (the visit's operations say so)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from field.geo import Point, distance_m

POOR_ACCURACY_M = 100.0
# No phone fixes a position to better than this; a smaller accuracy is what location-mocking apps send.
IMPLAUSIBLE_ACCURACY_M = 1.0
STALE_AFTER = timedelta(minutes=2)
MAX_SPEED_KMH = 150.0
# A phone's time (a position's fix, a tap) may run this far ahead of the server's clock; further is refused.
CLOCK_SLACK = timedelta(minutes=5)
# An item from the phone's outbox that arrives this long after the tap was synced late: the supervisor sees it.
LATE_SYNC_AFTER = timedelta(hours=2)
# A write sent straight from the page (not from the outbox) was tapped a moment ago: a phone time further off
# than this means the phone's clock is wrong.
CLOCK_SKEW_AFTER = timedelta(minutes=10)


class Flag:
    OUTSIDE_GEOFENCE = "outside_geofence"
    POOR_ACCURACY = "poor_accuracy"
    IMPLAUSIBLE_ACCURACY = "implausible_accuracy"  # finer than a phone can fix: a likely mocked location
    STALE_POSITION = "stale_position"
    IMPOSSIBLE_TRAVEL = "impossible_travel"
    NO_POSITION = "no_position"
    SHORT_DWELL = "short_dwell"
    LATE_SYNC = "late_sync"          # received hours after the tap (from the outbox)
    CLOCK_SKEW = "clock_skew"        # sent straight from the page, yet the phone's clock says otherwise
    OUT_OF_ORDER = "out_of_order"    # the phone says it happened before an earlier event of the visit


@dataclass
class Verdict:
    distance_m: float | None
    flags: list[str] = field(default_factory=list)

    @property
    def needs_reason(self) -> bool:
        return Flag.OUTSIDE_GEOFENCE in self.flags or Flag.NO_POSITION in self.flags


def parse_phone_time(raw: str | None) -> datetime | None:
    """An ISO 8601 time from the phone ('…Z' or with an offset), as aware UTC; None if absent or unreadable.
    A time without its offset is ambiguous: None rather than a guess."""
    text = (raw or "").strip()
    if not text or len(text) > 40:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value.astimezone(timezone.utc)


def time_flags(phone_at: datetime | None, received_at: datetime, via_outbox: bool) -> list[str]:
    """What a write's timing tells the supervisor: from the outbox and hours after the tap, a late sync;
    sent straight from the page with a phone time far from the server's, a phone clock that is off."""
    if phone_at is None:
        return []
    behind = received_at - phone_at
    if via_outbox:
        return [Flag.LATE_SYNC] if behind > LATE_SYNC_AFTER else []
    return [Flag.CLOCK_SKEW] if abs(behind) > CLOCK_SKEW_AFTER else []


def non_ascii_digits(raw: str | None) -> bool:
    """Whether a number from the phone has digits other than 0-9 (full-width, Arabic-Indic...), which
    float() would read but no phone's position API sends."""
    return any(ch.isdigit() and not ch.isascii() for ch in raw or "")


def speed_kmh(a: Point, a_at: datetime, b: Point, b_at: datetime) -> float:
    """Average speed needed to get from a to b in the time between; inf when no time passed."""
    metres = distance_m(a, b)
    seconds = abs((b_at - a_at).total_seconds())
    if seconds == 0:
        return math.inf if metres > 0 else 0.0
    return metres / seconds * 3.6


def assess(position: Point | None, accuracy_m: float | None, position_at: datetime | None,
           received_at: datetime, store: Point | None, geofence_m: float,
           previous: tuple[Point, datetime] | None = None) -> Verdict:
    """Judge a position against the store's geofence, its own quality and the rep's last check-in."""
    if position is None:
        return Verdict(None, [Flag.NO_POSITION])
    verdict = Verdict(distance_m(position, store) if store is not None else None)
    if verdict.distance_m is not None and verdict.distance_m > geofence_m:
        verdict.flags.append(Flag.OUTSIDE_GEOFENCE)
    if accuracy_m is not None and accuracy_m > POOR_ACCURACY_M:
        verdict.flags.append(Flag.POOR_ACCURACY)
    if accuracy_m is not None and accuracy_m < IMPLAUSIBLE_ACCURACY_M:
        verdict.flags.append(Flag.IMPLAUSIBLE_ACCURACY)
    if position_at is not None and received_at - position_at > STALE_AFTER:
        verdict.flags.append(Flag.STALE_POSITION)
    if previous is not None:
        prev_point, prev_at = previous
        if speed_kmh(prev_point, prev_at, position, position_at or received_at) > MAX_SPEED_KMH:
            verdict.flags.append(Flag.IMPOSSIBLE_TRAVEL)
    return verdict
