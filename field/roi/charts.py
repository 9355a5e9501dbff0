"""Charts as data for small inline SVGs drawn on the server: no script, no library, no network.

Bars are laid out in percentages of the chart's width, so a chart stretches from a phone to a
laptop while its text keeps its size. The line chart uses a fixed viewBox stretched to the box
(its strokes keep their width with vector-effect), with its scale written beside it in HTML."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

BAR_ROW = 44          # px per bar: each bar is a link, so a row is a thumb-sized tap target
BARS_FROM, BARS_TO = 38.0, 82.0  # % of the width the bars may use; labels left, values right


@dataclass(frozen=True)
class Bar:
    label: str
    value: Fraction | None
    text: str            # the value as shown
    x: float             # % of the width
    width: float         # % of the width
    y: int               # px
    negative: bool
    href: str = ""


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    zero: float          # % of the width where the axis is
    height: int


def bars(items: Sequence[tuple[str, Fraction | None, str, str]]) -> BarChart:
    """(label, value, shown text, link) → bars around a zero axis; a missing value gets no bar."""
    values = [v for _, v, _, _ in items if v is not None]
    low = min([Fraction(0), *values])
    high = max([Fraction(0), *values])
    span = (high - low) or Fraction(1)
    scale = (BARS_TO - BARS_FROM) / span
    zero = BARS_FROM + float(-low * scale)
    out = []
    for i, (label, value, text, href) in enumerate(items):
        if value is None:
            x, width = zero, 0.0
        else:
            length = float(abs(value) * scale)
            x = zero - length if value < 0 else zero
            width = max(length, 0.4)
        out.append(Bar(label, value, text, round(x, 2), round(width, 2), i * BAR_ROW,
                       value is not None and value < 0, href))
    return BarChart(out, round(zero, 2), max(1, len(items)) * BAR_ROW)


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    actual: str          # polyline points
    baseline: str        # polyline points over the measured days
    start_x: float       # where the activity begins
    top: int             # the value at the top of the box (minor units)
    first: object
    last: object
    start: object


HEIGHT = 100


def line(days, start) -> LineChart | None:
    """Daily actual sales as one line and the baseline as another, scaled to the highest value."""
    if not days:
        return None
    top = max([d.actual for d in days] + [d.baseline or 0 for d in days] + [1])
    width = max(1, len(days) - 1)

    def point(i: int, value: int) -> str:
        return f"{i},{HEIGHT - value * HEIGHT / top:.2f}"

    actual = " ".join(point(i, d.actual) for i, d in enumerate(days))
    baseline = " ".join(point(i, d.baseline) for i, d in enumerate(days) if d.baseline is not None)
    start_i = next((i for i, d in enumerate(days) if d.day >= start), 0)
    return LineChart(width, HEIGHT, actual, baseline, start_i, top, days[0].day, days[-1].day, start)
