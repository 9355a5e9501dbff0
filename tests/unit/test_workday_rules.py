"""The working day's figures: mileage from ordered positions (an impossible leg flagged and not counted),
time working / in stores / travelling, late start and early end."""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from field.geo import Point, distance_m
from field.workday import rules
from field.workday.rules import DayFlag, Stop

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
SH = ZoneInfo("Asia/Shanghai")
A, B, C = Point(31.2304, 121.4737), Point(31.2404, 121.4737), Point(31.2404, 121.4837)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def test_mileage_adds_the_geodesic_legs_in_time_order():
    stops = [Stop("checkin", at(30), B), Stop("start", at(0), A), Stop("checkout", at(60), B), Stop("end", at(90), C)]
    m = rules.mileage(stops)
    assert [leg.frm.kind for leg in m.legs] == ["start", "checkin", "checkout"]
    assert m.counted_m == pytest.approx(distance_m(A, B) + distance_m(B, C))
    assert 1100 < distance_m(A, B) < 1120  # 0.01° of latitude
    assert m.impossible_legs == 0


def test_an_impossible_leg_is_flagged_and_not_counted():
    far = Point(39.9042, 116.4074)  # Beijing, ~1,070 km from Shanghai, "reached" in 20 minutes
    stops = [Stop("start", at(0), A), Stop("checkin", at(10), B), Stop("checkout", at(30), far),
             Stop("end", at(40), far)]
    m = rules.mileage(stops)
    assert m.impossible_legs == 1
    bad = next(leg for leg in m.legs if leg.impossible)
    assert bad.frm.kind == "checkin" and bad.kmh > rules.MAX_SPEED_KMH
    assert m.counted_m == pytest.approx(distance_m(A, B))  # the Beijing leg left out; far → far is 0


def test_stops_without_a_position_are_bridged():
    m = rules.mileage([Stop("start", at(0), A), Stop("checkin", at(10), None), Stop("end", at(20), B)])
    assert len(m.legs) == 1 and m.counted_m == pytest.approx(distance_m(A, B))


def test_same_moment_elsewhere_is_impossible_same_place_is_not():
    assert rules.speed_kmh(100, 0) == float("inf")
    assert rules.speed_kmh(0, 0) == 0.0
    m = rules.mileage([Stop("start", at(0), A), Stop("checkin", at(0), B)])
    assert m.legs[0].impossible and m.counted_m == 0


def test_working_in_stores_and_travelling():
    t = rules.day_times(at(0), at(480), [(at(60), at(120)), (at(200), at(230))], until=at(600))
    assert t.working == timedelta(hours=8)
    assert t.in_stores == timedelta(minutes=90)
    assert t.travelling == timedelta(minutes=390)


def test_an_open_day_counts_to_now_and_visits_are_clipped_to_the_day():
    t = rules.day_times(at(60), None, [(at(0), at(90)), (at(100), None)], until=at(120))
    assert t.working == timedelta(minutes=60)
    assert t.in_stores == timedelta(minutes=30 + 20)  # 60→90 of the first, 100→now of the open one
    assert t.travelling == timedelta(minutes=10)


def test_no_start_means_no_working_time_but_store_time_counts():
    t = rules.day_times(None, None, [(at(0), at(45))], until=at(100))
    assert t.working == timedelta(0) and t.in_stores == timedelta(minutes=45) and t.travelling == timedelta(0)


def test_late_start_and_early_end_against_the_expected_hours():
    start, end = time(9, 0), time(17, 30)
    assert rules.day_flags(at(0), None, SH, start, end) == []                      # 09:00 sharp
    assert rules.day_flags(at(1), None, SH, start, end) == [DayFlag.LATE_START]     # 09:01
    assert rules.day_flags(at(0), at(8 * 60), SH, start, end) == [DayFlag.EARLY_END]  # 17:00
    assert rules.day_flags(at(0), at(8 * 60 + 30), SH, start, end) == []            # 17:30
    assert rules.day_flags(at(0), at(14 * 60), SH, start, end, auto_closed=True) == [DayFlag.NO_END]


def test_hours_setting_reads_hh_mm_or_falls_back():
    assert rules.parse_hhmm("08:30", time(9)) == time(8, 30)
    assert rules.parse_hhmm("8h", time(9)) == time(9)
    assert rules.parse_hhmm("25:00", time(9)) == time(9)


def test_close_moment_is_the_local_close_time_in_utc():
    assert rules.close_moment(T0.date(), SH, time(23, 0)) == datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)
