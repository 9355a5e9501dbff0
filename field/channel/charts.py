"""A criterion's trend over months as data for a small inline SVG (the house style of field/roi/charts.py:
x in percentages of the width, so the chart stretches from a phone to a laptop; no script)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

PLOT = 80     # px of column height
BASE = 92     # px: where the columns stand; the month labels sit under it
HEIGHT = 110


@dataclass(frozen=True)
class Column:
    label: str     # the month, e.g. "11月" / "Nov"
    text: str      # the value as shown
    x: float       # % of the width
    width: float   # %
    y: float       # px
    height: float  # px
    negative: bool


@dataclass(frozen=True)
class Trend:
    columns: list[Column]
    height: int
    base: int
    empty: bool


def trend(points: Sequence[tuple[str, Fraction | int | None, str]]) -> Trend:
    """(month label, value, shown text) → columns scaled to the largest magnitude; a missing or zero value
    gets no column (its label stays, so a gap reads as a gap)."""
    values = [abs(Fraction(v)) for _, v, _ in points if v is not None]
    top = max(values + [Fraction(1)])
    n = max(1, len(points))
    step = 100 / n
    out = []
    for i, (label, value, text) in enumerate(points):
        h = 0.0 if not value else max(round(float(abs(Fraction(value)) * PLOT / top), 1), 1.0)
        out.append(Column(label, text, round(i * step + step * 0.15, 2), round(step * 0.7, 2),
                          round(BASE - h, 1), h, value is not None and value < 0))
    return Trend(out, HEIGHT, BASE, not values)
