"""Route ordering: never longer than the order given, close to optimal."""
import itertools
import random

import pytest

from field.geo import Point
from field.visits.route import _haversine, legs_m, order_stops

SHANGHAI = Point(31.2304, 121.4737)


def _scatter(seed: int, n: int, spread=0.08) -> list[Point]:
    rnd = random.Random(seed)
    return [Point(SHANGHAI.lat + rnd.uniform(-spread, spread), SHANGHAI.lng + rnd.uniform(-spread, spread))
            for _ in range(n)]


def _length(start, stops, order) -> float:
    total, prev = 0.0, start
    for i in order:
        total += _haversine(prev, stops[i])
        prev = stops[i]
    return total


def _brute_force(start, stops) -> float:
    return min(_length(start, stops, perm) for perm in itertools.permutations(range(len(stops))))


@pytest.mark.parametrize("seed", range(3))
def test_nine_stops_within_five_percent_of_optimum(seed):
    stops = _scatter(seed, 9)
    order = order_stops(SHANGHAI, stops)
    assert sorted(order) == list(range(9))
    assert _length(SHANGHAI, stops, order) <= _brute_force(SHANGHAI, stops) * 1.05


@pytest.mark.parametrize("seed", range(20))
def test_never_longer_than_the_order_given(seed):
    stops = _scatter(100 + seed, 25)
    order = order_stops(SHANGHAI, stops)
    assert sorted(order) == list(range(25))
    assert _length(SHANGHAI, stops, order) <= _length(SHANGHAI, stops, range(25)) + 1e-6


def test_stops_on_a_line_are_visited_outward_from_the_start():
    stops = [Point(31.23, 121.50), Point(31.23, 121.48), Point(31.23, 121.52), Point(31.23, 121.49)]
    order = order_stops(Point(31.23, 121.47), stops)
    assert order == [1, 3, 0, 2]


def test_without_a_start_the_first_stop_leads():
    stops = _scatter(7, 6)
    assert order_stops(None, stops)[0] == 0


def test_trivial_routes():
    assert order_stops(SHANGHAI, []) == []
    assert order_stops(SHANGHAI, [Point(31.0, 121.0)]) == [0]


def test_legs_are_geodesic_metres():
    stops = [Point(31.2304, 121.4837), Point(31.2404, 121.4837)]
    first, second = legs_m(SHANGHAI, stops)
    assert 940 < first < 960        # 0.01° of longitude at 31.23° N ≈ 951 m
    assert 1100 < second < 1120     # 0.01° of latitude ≈ 1109 m
    assert legs_m(None, stops)[0] is None


def test_the_ordering_matrix_is_haversine_to_the_last_bit():
    """_matrix() computes each pair once from cached radians: the same figures as _haversine() both ways."""
    from field.visits.route import _matrix
    points = [SHANGHAI, *_scatter(3, 30, spread=0.3), Point(31.2304, 121.4737)]
    matrix = _matrix(points)
    assert matrix == [[_haversine(p, q) for q in points] for p in points]
