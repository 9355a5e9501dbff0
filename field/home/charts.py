"""The dashboards' charts as data for inline SVGs drawn on the server (the house style of
field/roi/charts.py: percentages of the width, so a chart stretches from a phone to a laptop).

- share_bars: shares (0–100 %) as bars on a fixed 0–100 % scale, each a link to its drill-down.
- histogram: how many reps fall in each bucket of a measure, with the benchmark drawn on it — a line
  (7.3 visits a day) or a band (16–37 minutes a visit) — each column a link to those reps."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from field.roi.charts import BAR_ROW, BARS_FROM, BARS_TO, Bar, BarChart


def share_bars(items: Sequence[tuple[str, Fraction | None, str, str]]) -> BarChart:
    """(label, share 0..1, shown text, link) → bars scaled to 100 %; a missing share gets no bar."""
    scale = BARS_TO - BARS_FROM
    out = []
    for i, (label, value, text, href) in enumerate(items):
        width = 0.0 if value is None else max(float(min(value, 1)) * scale, 0.4)
        out.append(Bar(label, value, text, BARS_FROM, round(width, 2), i * BAR_ROW, False, href))
    return BarChart(out, BARS_FROM, max(1, len(items)) * BAR_ROW)


PLOT = 120   # px of column height
BASE = 132   # px: where the columns stand (labels under it)
HEIGHT = 156


@dataclass(frozen=True)
class Column:
    label: str       # the bucket, e.g. "6–7"
    count: int
    x: float         # % of the width
    width: float     # %
    y: float         # px
    height: float    # px
    href: str
    name: str        # for a screen reader: "6–7 visits a day: 12 reps"
    edge: float = 0.0  # % of the width where the bucket starts: its label sits there, on the scale
    last: bool = False


@dataclass(frozen=True)
class Histogram:
    columns: list[Column]
    height: int
    base: int
    anchor_x: float | None       # % of the width: a benchmark line
    band: tuple[float, float] | None  # % of the width: a benchmark band
    anchor_label: str
    total: int


def histogram(values: Sequence[Fraction | None], edges: Sequence[int], *, anchor: Fraction | None = None,
              band: tuple[int, int] | None = None, anchor_label: str = "", bucket_label=None, name=None,
              href=None) -> Histogram:
    """Count `values` into buckets [edges[i], edges[i+1]) and a last open one [edges[-1], ∞).

    The benchmark's position is interpolated inside its bucket, so the line sits where 7.3 falls."""
    n = len(edges)
    counts = [0] * n
    for v in values:
        if v is None:
            continue
        i = n - 1
        for j in range(n - 1):
            if edges[j] <= v < edges[j + 1]:
                i = j
                break
        if v < edges[0]:
            i = 0
        counts[i] += 1
    top = max(counts + [1])
    step = 100 / n

    def position(value) -> float | None:
        if value is None:
            return None
        for j in range(n - 1):
            if edges[j] <= value < edges[j + 1]:
                return round((j + float((Fraction(value) - edges[j]) / (edges[j + 1] - edges[j]))) * step, 2)
        return round((n - 0.5) * step, 2)

    columns = []
    for i, c in enumerate(counts):
        low, high = edges[i], edges[i + 1] if i + 1 < n else None
        label = bucket_label(low, high) if bucket_label else (f"{low}–{high}" if high is not None else f"{low}+")
        span = f"{low}–{high}" if high is not None else f"{low}+"
        h = round(c * PLOT / top, 1)
        columns.append(Column(label, c, round(i * step + step * 0.12, 2), round(step * 0.76, 2), round(BASE - h, 1),
                              h, href(low, high) if href else "", name(span, c) if name else f"{span}: {c}",
                              round(i * step, 2), high is None))
    band_x = (position(band[0]), position(band[1])) if band else None
    return Histogram(columns, HEIGHT, BASE, position(anchor), band_x, anchor_label, sum(counts))
