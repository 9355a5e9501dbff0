"""The working day's figures, pure functions: its timeline, time working / in stores / travelling, the mileage
from its ordered positions (geodesic legs; a leg faster than MAX_SPEED_KMH is impossible travel: flagged and
not counted), and the late-start / early-end flags against the expected hours."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from field.geo import Point, distance_m

MAX_SPEED_KMH = 150.0  # the visits' own impossible-travel threshold (field/visits/checkin.py)
# Expected hours, local time; the app config may set WORKDAY_START, WORKDAY_END, WORKDAY_CLOSE_AT ("HH:MM").
DEFAULT_START = time(9, 0)
DEFAULT_END = time(17, 30)
DEFAULT_CLOSE_AT = time(23, 0)


class DayFlag:
    LATE_START = "late_start"
    EARLY_END = "early_end"
    NO_END = "no_end"          # not ended by the rep: closed by `flask workday-close`
    NO_START = "no_start"      # visits on a day never started (computed, not stored)


def parse_hhmm(text: str | None, default: time) -> time:
    try:
        hours, minutes = (int(x) for x in (text or "").strip().split(":"))
        return time(hours, minutes)
    except (ValueError, TypeError):
        return default


@dataclass(frozen=True)
class Stop:
    """One moment of the day's timeline."""
    kind: str                  # start | checkin | checkout | end
    at: datetime
    point: Point | None
    label: str = ""            # the store's name for a check-in/out
    visit_id: int | None = None


@dataclass(frozen=True)
class Leg:
    frm: Stop
    to: Stop
    metres: float | None       # None: one end has no position
    kmh: float | None

    @property
    def impossible(self) -> bool:
        return self.kmh is not None and self.kmh > MAX_SPEED_KMH


@dataclass
class Mileage:
    legs: list[Leg] = field(default_factory=list)

    @property
    def counted_m(self) -> float:
        return sum(leg.metres for leg in self.legs if leg.metres is not None and not leg.impossible)

    @property
    def impossible_legs(self) -> int:
        return sum(1 for leg in self.legs if leg.impossible)

    def leg_to(self, stop: Stop) -> Leg | None:
        """The leg that arrives at this stop (None for the first positioned stop, or one without a position)."""
        return next((leg for leg in self.legs if leg.to is stop), None)

    @property
    def km(self) -> float:
        return self.counted_m / 1000


def speed_kmh(metres: float, seconds: float) -> float:
    if seconds <= 0:
        return math.inf if metres > 0 else 0.0
    return metres / seconds * 3.6


def mileage(stops: list[Stop]) -> Mileage:
    """Legs between consecutive positioned stops, in time order. A check-out at the same store as its
    check-in is a leg too (usually ~0 m). Stops without a position are skipped, the leg bridging them."""
    positioned = [s for s in sorted(stops, key=lambda s: s.at) if s.point is not None]
    out = Mileage()
    for a, b in zip(positioned, positioned[1:]):
        metres = distance_m(a.point, b.point)
        out.legs.append(Leg(a, b, metres, speed_kmh(metres, (b.at - a.at).total_seconds())))
    return out


@dataclass(frozen=True)
class Times:
    working: timedelta
    in_stores: timedelta
    travelling: timedelta


def day_times(started_at: datetime | None, ended_at: datetime | None, visits: list[tuple[datetime, datetime | None]],
              until: datetime) -> Times:
    """Working: start to end (to `until`, the moment looked at, while the day is open). In stores: the visits'
    check-in to check-out (an open visit to `until`), clipped to the working span when there is one.
    Travelling: what is left of the working time."""
    zero = timedelta(0)
    end = ended_at or until
    working = max(zero, end - started_at) if started_at is not None else zero
    in_stores = zero
    for checkin, checkout in visits:
        a, b = checkin, checkout or until
        if started_at is not None:
            a, b = max(a, started_at), min(b, end)
        in_stores += max(zero, b - a)
    travelling = max(zero, working - in_stores)
    return Times(working, in_stores, travelling)


def day_flags(started_at: datetime, ended_at: datetime | None, zone: ZoneInfo, expected_start: time,
              expected_end: time, auto_closed: bool = False) -> list[str]:
    """Late start (after the expected start, local time), early end (an end by the rep before the expected
    end), no end (closed by the command)."""
    flags = []
    if started_at.astimezone(zone).time() > expected_start:
        flags.append(DayFlag.LATE_START)
    if auto_closed:
        flags.append(DayFlag.NO_END)
    elif ended_at is not None and ended_at.astimezone(zone).time() < expected_end \
            and ended_at.astimezone(zone).date() == started_at.astimezone(zone).date():
        flags.append(DayFlag.EARLY_END)
    return flags


def close_moment(day, zone: ZoneInfo, close_at: time) -> datetime:
    """When an unended day is closed: its local close time, as UTC."""
    from datetime import timezone as tz
    return datetime.combine(day, close_at, tzinfo=zone).astimezone(tz.utc)
