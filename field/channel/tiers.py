"""The tier rules (渠道分级规则): a dealer's figures for a month, whether it meets a tier's criteria, and
which tier it should be in — plain functions of numbers, unit-tested without a request.

- Sales: the month's, or the trailing three months' (that month and the two before), minor units.
- Growth: the month's sales against the same month a year before (同比) or the month before (环比), in %;
  unknown (and so not met) when the earlier month sold nothing.
- Coverage: of the dealer's active stores, the share visited within their visit frequency at the month's end.
- Compliance: of the evidence periods reviewed in the month at the dealer's stores, the share approved
  (the latest review stands); with no review at all the criterion is not held against the dealer.
- Payment punctuality: of the last three months whose payment a manager recorded, the share on time;
  with none recorded it is unknown and not met (no payment data is imported: managers record it).

A dealer's tier is the best-ranked tier whose every criterion it meets (a tier without criteria takes
everyone: the bottom tier); none met → no tier."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Iterable, Mapping, Sequence

from field.channel.models import Metric


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    """The first day of the month `n` months after `month` (n may be negative)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class MonthFigures:
    """What a month's recompute kept for one dealer (a DealerMonth, or a test's numbers)."""
    sales: int = 0
    stores: int = 0
    on_schedule: int = 0
    periods: int = 0
    approved: int = 0
    payments: int = 0
    on_time: int = 0


def _growth(now: int, before: int | None) -> Fraction | None:
    if not before:
        return None
    return Fraction(now - before, before) * 100


def values(months: Mapping[date, MonthFigures], month: date) -> dict[str, Fraction | int | None]:
    """Every metric's value for `month` from the kept months (missing months sold nothing)."""
    def get(m: date) -> MonthFigures | None:
        return months.get(m)

    this = get(month) or MonthFigures()
    last3 = [get(add_months(month, -i)) or MonthFigures() for i in range(3)]
    paid, on_time = sum(f.payments for f in last3), sum(f.on_time for f in last3)
    before = get(add_months(month, -1))
    year_ago = get(add_months(month, -12))
    return {
        Metric.SALES_MONTH: this.sales,
        Metric.SALES_3M: sum((get(add_months(month, -i)) or MonthFigures()).sales for i in range(3)),
        Metric.GROWTH_YOY: _growth(this.sales, year_ago.sales if year_ago else None),
        Metric.GROWTH_MOM: _growth(this.sales, before.sales if before else None),
        Metric.COVERAGE: Fraction(this.on_schedule * 100, this.stores) if this.stores else None,
        Metric.COMPLIANCE: Fraction(this.approved * 100, this.periods) if this.periods else None,
        Metric.PUNCTUALITY: Fraction(on_time * 100, paid) if paid else None,
    }


def meets(metric: str, value, threshold: Decimal) -> bool:
    """Does `value` reach `threshold`? An unknown value fails, except compliance with nothing reviewed."""
    if value is None:
        return metric == Metric.COMPLIANCE
    return Fraction(value) >= Fraction(threshold)


def qualifies(criteria: Iterable[tuple[str, Decimal]], vals: Mapping[str, object]) -> bool:
    return all(meets(metric, vals.get(metric), threshold) for metric, threshold in criteria)


@dataclass(frozen=True)
class TierRule:
    name: str
    rank: int
    criteria: tuple[tuple[str, Decimal], ...]


def best_tier(tiers: Sequence[TierRule], vals: Mapping[str, object]) -> str:
    """The name of the best-ranked tier whose criteria all hold, or "" when none does."""
    for tier in sorted(tiers, key=lambda t: -t.rank):
        if qualifies(tier.criteria, vals):
            return tier.name
    return ""


def shown(vals: Mapping[str, object]) -> dict[str, str | None]:
    """The values as kept with a proposal (JSON): integers as they are, shares to two decimals."""
    out: dict[str, str | None] = {}
    for metric, value in vals.items():
        if value is None:
            out[str(metric)] = None
        elif isinstance(value, Fraction):
            out[str(metric)] = str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01")))
        else:
            out[str(metric)] = str(value)
    return out
