"""Route ordering budget: a 40-stop day ordered in < 50 ms.

Prints the median time over random Shanghai-sized days, and, as yardsticks from the
same run, the time of plain nearest neighbour and the route lengths against the order
given and against nearest neighbour alone.

    .venv/bin/python bench/route.py
"""
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from field.geo import Point  # noqa: E402
from field.visits.route import _haversine, _nearest_neighbour, order_stops, path_length  # noqa: E402

RUNS, STOPS = 30, 40
rnd = random.Random(42)
times, nn_times, gain_given, gain_nn = [], [], [], []
for _ in range(RUNS):
    start = Point(31.23, 121.47)
    stops = [Point(31.23 + rnd.uniform(-0.12, 0.12), 121.47 + rnd.uniform(-0.12, 0.12)) for _ in range(STOPS)]
    t = time.perf_counter()
    order = order_stops(start, stops)
    times.append(time.perf_counter() - t)
    points = [start, *stops]
    t = time.perf_counter()
    matrix = [[_haversine(p, q) for q in points] for p in points]
    nn = _nearest_neighbour(matrix, STOPS)
    nn_times.append(time.perf_counter() - t)
    ours = path_length(matrix, [i + 1 for i in order])
    gain_given.append(ours / path_length(matrix, range(1, STOPS + 1)))
    gain_nn.append(ours / path_length(matrix, nn))

med = statistics.median(times) * 1000
print(f"route ordering, {STOPS} stops, {RUNS} runs")
print(f"  median {med:.1f} ms (budget 50 ms)   max {max(times) * 1000:.1f} ms")
print(f"  yardstick: nearest neighbour alone {statistics.median(nn_times) * 1000:.1f} ms "
      f"(ratio {statistics.median(times) / statistics.median(nn_times):.1f}x)")
print(f"  route length vs order given: {statistics.median(gain_given):.2f}x; "
      f"vs nearest neighbour alone: {statistics.median(gain_nn):.3f}x")
