"""Check-in verdicts: geofence at its boundary, position quality, impossible travel."""
from datetime import datetime, timedelta, timezone

from field.geo import Point, distance_m
from field.visits.checkin import Flag, assess, speed_kmh

STORE = Point(31.2304, 121.4737)
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def north_of(p: Point, metres: float) -> Point:
    return Point(p.lat + metres / 110_900.0, p.lng)  # ≈ metres per degree of latitude at 31° N


def test_inside_the_fence_is_clean():
    v = assess(north_of(STORE, 50), 15, T0, T0, STORE, 200)
    assert v.flags == [] and not v.needs_reason
    assert 45 < v.distance_m < 55


def test_geofence_boundary_counts_as_inside():
    inside = north_of(STORE, 199.5)
    outside = north_of(STORE, 201)
    assert distance_m(inside, STORE) < 200 < distance_m(outside, STORE)
    assert assess(inside, 10, T0, T0, STORE, 200).flags == []
    v = assess(outside, 10, T0, T0, STORE, 200)
    assert v.flags == [Flag.OUTSIDE_GEOFENCE] and v.needs_reason


def test_poor_accuracy_and_stale_positions_are_flagged():
    v = assess(STORE, 101, T0 - timedelta(minutes=3), T0, STORE, 200)
    assert Flag.POOR_ACCURACY in v.flags and Flag.STALE_POSITION in v.flags
    assert not v.needs_reason
    assert assess(STORE, 100, T0 - timedelta(minutes=2), T0, STORE, 200).flags == []


def test_no_position_needs_a_reason():
    v = assess(None, None, None, T0, STORE, 200)
    assert v.flags == [Flag.NO_POSITION] and v.needs_reason and v.distance_m is None


def test_speed_between_check_ins():
    a, b = STORE, north_of(STORE, 10_000)
    assert 9.9 < speed_kmh(a, T0, b, T0 + timedelta(hours=1)) < 10.1
    assert speed_kmh(a, T0, b, T0) == float("inf")
    assert speed_kmh(a, T0, a, T0) == 0.0


def test_impossible_travel_over_150_kmh():
    far = north_of(STORE, 30_000)  # 30 km
    slow = assess(far, 10, T0 + timedelta(minutes=13), T0 + timedelta(minutes=13), far, 200, previous=(STORE, T0))
    fast = assess(far, 10, T0 + timedelta(minutes=11), T0 + timedelta(minutes=11), far, 200, previous=(STORE, T0))
    assert Flag.IMPOSSIBLE_TRAVEL not in slow.flags   # 30 km in 13 min ≈ 138 km/h
    assert Flag.IMPOSSIBLE_TRAVEL in fast.flags       # 30 km in 11 min ≈ 164 km/h
