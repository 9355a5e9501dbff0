"""Datums, distances and geofences against published reference values.

Reference pairs for (lng 116.404, lat 39.915) are the widely published coordtransform values
(wandergis/coordtransform); the forward formulas are exact, our GCJ-02 → WGS-84 is an exact
iterative inverse where theirs is a one-step approximation, so it agrees only to about 1e-5°."""
import math

import pytest

from field.geo import (Datum, Point, bd09_to_gcj02, distance_m, from_wgs84, gcj02_to_bd09, gcj02_to_wgs84,
                       to_wgs84, valid_lat_lng, wgs84_to_gcj02, within)

LAT, LNG = 39.915, 116.404  # Tiananmen
SHANGHAI = Point(31.2304, 121.4737)
CHENGDU = Point(30.6586, 104.0647)


def test_bd09_to_gcj02_reference():
    lat, lng = bd09_to_gcj02(LAT, LNG)
    assert lng == pytest.approx(116.39762729119315, abs=1e-9)
    assert lat == pytest.approx(39.90865673957631, abs=1e-9)


def test_gcj02_to_bd09_reference():
    lat, lng = gcj02_to_bd09(LAT, LNG)
    assert lng == pytest.approx(116.41036949371029, abs=1e-9)
    assert lat == pytest.approx(39.92133699351022, abs=1e-9)


def test_wgs84_to_gcj02_reference():
    lat, lng = wgs84_to_gcj02(LAT, LNG)
    assert lng == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)


def test_gcj02_to_wgs84_reference_and_exact_inverse():
    lat, lng = gcj02_to_wgs84(LAT, LNG)
    assert lng == pytest.approx(116.39775550083061, abs=1e-5)
    assert lat == pytest.approx(39.91359571849836, abs=1e-5)
    # Ours is exact: going forward again lands on the GCJ-02 input to well under a millimetre.
    back = wgs84_to_gcj02(lat, lng)
    assert back == pytest.approx((LAT, LNG), abs=1e-9)


@pytest.mark.parametrize("point", [SHANGHAI, CHENGDU, Point(LAT, LNG), Point(22.5431, 114.0579),
                                   Point(45.8038, 126.5350), Point(43.8256, 87.6168)])
def test_round_trips_return_to_the_start(point):
    gcj = to_wgs84(*from_wgs84(point, Datum.GCJ02), Datum.GCJ02)
    assert gcj.lat == pytest.approx(point.lat, abs=1e-8) and gcj.lng == pytest.approx(point.lng, abs=1e-8)
    # BD-09 → GCJ-02 is Baidu's published one-step inverse: good to 2e-6° (about 0.2 m), far inside a geofence.
    bd = to_wgs84(*from_wgs84(point, Datum.BD09), Datum.BD09)
    assert bd.lat == pytest.approx(point.lat, abs=2.5e-6) and bd.lng == pytest.approx(point.lng, abs=2.5e-6)
    assert distance_m(point, bd) < 0.25


def test_gcj_shift_in_shanghai_is_hundreds_of_metres():
    """Why datums matter: mixing GCJ-02 with GPS is an error larger than a geofence."""
    gcj = Point(*wgs84_to_gcj02(SHANGHAI.lat, SHANGHAI.lng))
    assert 300 < distance_m(SHANGHAI, gcj) < 700
    assert not within(gcj, SHANGHAI, 200)
    bd = Point(*from_wgs84(SHANGHAI, Datum.BD09))
    assert distance_m(SHANGHAI, bd) > distance_m(SHANGHAI, gcj)


@pytest.mark.parametrize("point", [Point(51.5007, -0.1246), Point(40.6892, -74.0445), Point(-33.8568, 151.2153),
                                   Point(35.6586, 139.7454)])
@pytest.mark.parametrize("datum", [Datum.GCJ02, Datum.BD09])
def test_outside_china_gcj_is_not_shifted(point, datum):
    assert wgs84_to_gcj02(point.lat, point.lng) == (point.lat, point.lng)
    assert gcj02_to_wgs84(point.lat, point.lng) == (point.lat, point.lng)
    if datum is Datum.GCJ02:
        assert to_wgs84(point.lat, point.lng, datum) == point


def test_wgs84_input_is_kept_as_given():
    assert to_wgs84("31.2304", "121.4737", "wgs84") == SHANGHAI
    assert from_wgs84(SHANGHAI, Datum.WGS84) == (SHANGHAI.lat, SHANGHAI.lng)


def test_unknown_datum_is_refused():
    with pytest.raises(ValueError):
        to_wgs84(31.23, 121.47, "mars")


def test_meridian_degree_at_the_equator():
    # One degree of latitude from the equator on WGS-84: 110,574.4 m.
    assert distance_m(Point(0, 0), Point(1, 0)) == pytest.approx(110_574.4, abs=0.5)


def test_vincenty_classic_flinders_peak_to_buninyong():
    # Vincenty (1975) / Geoscience Australia's worked example: 54,972.271 m.
    flinders = Point(-(37 + 57 / 60 + 3.72030 / 3600), 144 + 25 / 60 + 29.52440 / 3600)
    buninyong = Point(-(37 + 39 / 60 + 10.15610 / 3600), 143 + 55 / 60 + 35.38390 / 3600)
    assert distance_m(flinders, buninyong) == pytest.approx(54_972.271, abs=0.01)


def test_distance_is_symmetric_and_zero_to_itself():
    assert distance_m(SHANGHAI, SHANGHAI) == 0
    assert distance_m(SHANGHAI, CHENGDU) == pytest.approx(distance_m(CHENGDU, SHANGHAI))
    assert 1_650_000 < distance_m(SHANGHAI, CHENGDU) < 1_700_000


def test_geofence_edge_counts_as_inside_and_just_beyond_does_not():
    store = SHANGHAI
    spot = Point(store.lat + 0.0018, store.lng)  # about 200 m north
    d = distance_m(spot, store)
    assert 190 < d < 210
    assert within(spot, store, d)                 # exactly at the radius
    assert not within(spot, store, d - 0.01)      # one centimetre too short
    assert within(spot, store, d + 0.01)


@pytest.mark.parametrize("lat, lng", [
    (float("nan"), 121.47), (31.23, float("nan")), (float("inf"), 121.47), (31.23, float("-inf")),
    (91, 121.47), (-90.0001, 0), (31.23, -181), (31.23, 180.0001),
    ("north", 121.47), (31.23, "east"), (None, 121.47), ("", ""), ([31.2], 121.47),
])
def test_invalid_positions_are_refused(lat, lng):
    assert not valid_lat_lng(lat, lng)
    with pytest.raises((ValueError, TypeError)):
        Point(lat, lng)
    for datum in Datum:
        with pytest.raises(ValueError):
            to_wgs84(lat, lng, datum)


@pytest.mark.parametrize("lat, lng", [(90, 180), (-90, -180), (0, 0), ("31.2304", "121.4737")])
def test_edges_of_the_globe_are_valid(lat, lng):
    assert valid_lat_lng(lat, lng)
    assert to_wgs84(lat, lng, Datum.WGS84) == Point(float(lat), float(lng))


def test_points_are_values():
    assert Point(31.2304, 121.4737) == SHANGHAI
    assert not math.isnan(SHANGHAI.lat)
    with pytest.raises(AttributeError):
        SHANGHAI.lat = 0  # frozen: a position does not drift after it is checked


def test_distance_is_geopys_geodesic_to_the_last_bit():
    """distance_m() skips geopy's per-call set-up but must give its very figure (Today shows legs to the metre)."""
    import random

    from geopy.distance import geodesic
    rnd = random.Random(7)
    pairs = [(SHANGHAI, CHENGDU), (SHANGHAI, SHANGHAI), (Point(0, -180), Point(0, 180)),
             (Point(89.9, 0), Point(-89.9, 0))]
    for _ in range(200):
        a = Point(SHANGHAI.lat + rnd.uniform(-0.2, 0.2), SHANGHAI.lng + rnd.uniform(-0.2, 0.2))
        pairs.append((a, Point(a.lat + rnd.uniform(-0.02, 0.02), a.lng + rnd.uniform(-0.02, 0.02))))
        pairs.append((Point(rnd.uniform(-90, 90), rnd.uniform(-180, 180)),
                      Point(rnd.uniform(-90, 90), rnd.uniform(-180, 180))))
    for a, b in pairs:
        assert distance_m(a, b) == geodesic((a.lat, a.lng), (b.lat, b.lng)).meters
