"""The rules that judge a check-in or check-out position. Pure functions.

Flags never block the rep: they rank what the supervisor looks at first. Only
two cases ask the rep for a typed reason: a position outside the store's
geofence, and no position at all."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from field.geo import Point, distance_m

POOR_ACCURACY_M = 100.0
STALE_AFTER = timedelta(minutes=2)
MAX_SPEED_KMH = 150.0


class Flag:
    OUTSIDE_GEOFENCE = "outside_geofence"
    POOR_ACCURACY = "poor_accuracy"
    STALE_POSITION = "stale_position"
    IMPOSSIBLE_TRAVEL = "impossible_travel"
    NO_POSITION = "no_position"
    SHORT_DWELL = "short_dwell"


@dataclass
class Verdict:
    distance_m: float | None
    flags: list[str] = field(default_factory=list)

    @property
    def needs_reason(self) -> bool:
        return Flag.OUTSIDE_GEOFENCE in self.flags or Flag.NO_POSITION in self.flags


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
    if position_at is not None and received_at - position_at > STALE_AFTER:
        verdict.flags.append(Flag.STALE_POSITION)
    if previous is not None:
        prev_point, prev_at = previous
        if speed_kmh(prev_point, prev_at, position, position_at or received_at) > MAX_SPEED_KMH:
            verdict.flags.append(Flag.IMPOSSIBLE_TRAVEL)
    return verdict
