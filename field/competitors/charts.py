"""The report's trend as data for an inline SVG drawn on the server (the style of field/roi/charts.py): a
fixed viewBox stretched to the box, strokes kept thin with vector-effect, the scale written beside it."""
from __future__ import annotations

from dataclasses import dataclass

from field.competitors.report import PriceStats

HEIGHT = 100


@dataclass(frozen=True)
class Series:
    name: str
    points: str      # polyline points; a week without sightings breaks nothing, it is left out
    css: str         # series-1 … series-5
    last: int | None


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    series: list[Series]
    top: int          # fen at the top of the box
    bottom: int       # fen at the bottom


def trend(weeks: list, by_brand: dict[str, list[PriceStats]]) -> TrendChart | None:
    """Median shelf price per week, one line per brand, scaled between the lowest and highest median."""
    medians = [s.median for stats in by_brand.values() for s in stats if s.median is not None]
    if not medians:
        return None
    low, high = min(medians), max(medians)
    pad = max((high - low) // 10, 100)
    bottom, top = max(low - pad, 0), high + pad
    span = top - bottom
    width = max(1, len(weeks) - 1)
    series = []
    for n, (brand, stats) in enumerate(by_brand.items(), start=1):
        points = " ".join(f"{i},{HEIGHT - (s.median - bottom) * HEIGHT / span:.2f}"
                          for i, s in enumerate(stats) if s.median is not None)
        last = next((s.median for s in reversed(stats) if s.median is not None), None)
        series.append(Series(brand, points, f"series-{n}", last))
    return TrendChart(width, HEIGHT, series, top, bottom)
