"""The rules of an activity as pure functions: its check periods, compliance, and what a claim pays.

Nothing here reads the database or the request, so every rule is tested with plain values.

Check periods split an activity's dates into the windows a store owes evidence for:
- once: the whole activity is one period;
- weekly: seven-day windows from the first day (the last one may be shorter);
- each visit: one window per visit cycle of the store (its visit frequency), so a store the
  rep never visits still owes evidence and lowers compliance.

Compliance is verified periods / required periods. A period is required once it is over, or
as soon as it is verified (early evidence counts; a period still running does not count against
the store). The default payout: below the type's floor pays nothing; at or above it,
min(claimed, store budget) × compliance, rounded half up to the fen."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Iterable

from field.activities.models import CheckPeriod

DEFAULT_FLOOR_PCT = Decimal("60.00")
WEEK_DAYS = 7


@dataclass(frozen=True)
class Period:
    """One check period: its position in the activity's list and its first and last day (inclusive)."""

    index: int
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_days(check_period: str, visit_every_days: int | None = None) -> int | None:
    """Length of one period in days; None for 'once' (the whole activity)."""
    kind = CheckPeriod(check_period)
    if kind == CheckPeriod.ONCE:
        return None
    if kind == CheckPeriod.WEEKLY:
        return WEEK_DAYS
    if not visit_every_days or visit_every_days < 1:
        raise ValueError("each-visit periods need the store's visit frequency in days")
    return visit_every_days


def periods(start: date, end: date, check_period: str, visit_every_days: int | None = None) -> list[Period]:
    """The check periods of an activity running from `start` to `end` (both inclusive).

    `visit_every_days` is the store's visit frequency, used by 'each visit' periods only."""
    if end < start:
        raise ValueError("the period ends before it starts")
    length = period_days(check_period, visit_every_days)
    if length is None:
        return [Period(0, start, end)]
    out, first, index = [], start, 0
    while first <= end:
        last = min(first + timedelta(days=length - 1), end)
        out.append(Period(index, first, last))
        first, index = last + timedelta(days=1), index + 1
    return out


def period_at(items: Iterable[Period], day: date) -> Period | None:
    """The period that `day` falls in, or None outside the activity."""
    for period in items:
        if period.contains(day):
            return period
    return None


@dataclass(frozen=True)
class Compliance:
    """Verified periods out of required periods; `ratio` is exact (a Fraction), None when nothing is required yet."""

    verified: int
    required: int

    def __post_init__(self):
        if self.verified < 0 or self.required < 0 or self.verified > self.required:
            raise ValueError("verified periods must be between 0 and the required periods")

    @property
    def ratio(self) -> Fraction | None:
        return Fraction(self.verified, self.required) if self.required else None

    @property
    def percent(self) -> Decimal | None:
        """One decimal, rounded down so a store just under the floor never shows as on it."""
        if self.ratio is None:
            return None
        exact = Decimal(self.verified * 100) / Decimal(self.required)
        return exact.quantize(Decimal("0.1"), rounding=ROUND_DOWN)

    def meets(self, floor_pct: Decimal = DEFAULT_FLOOR_PCT) -> bool:
        """At or above the floor (a percentage); nothing required yet meets nothing."""
        if self.ratio is None:
            return False
        return self.ratio * 100 >= Fraction(floor_pct)

    def __add__(self, other: Compliance) -> Compliance:
        return Compliance(self.verified + other.verified, self.required + other.required)


def compliance(items: Iterable[Period], verified_indices: Iterable[int], as_of: date) -> Compliance:
    """A store's compliance on `as_of`: of the periods over (or already verified), how many are verified."""
    verified = set(verified_indices)
    required = [p for p in items if p.end < as_of or p.index in verified]
    return Compliance(sum(1 for p in required if p.index in verified), len(required))


def roll_up(parts: Iterable[Compliance]) -> Compliance:
    """An activity's compliance: its stores' verified and required periods added up."""
    total = Compliance(0, 0)
    for part in parts:
        total = total + part
    return total


def payable(claimed: int, budget: int, store_compliance: Compliance,
            floor_pct: Decimal = DEFAULT_FLOOR_PCT) -> int:
    """What a claim pays, in minor units: nothing under the floor, else min(claimed, budget) × compliance."""
    if claimed < 0 or budget < 0:
        raise ValueError("amounts are never negative")
    if not store_compliance.meets(floor_pct):
        return 0
    exact = min(claimed, budget) * store_compliance.ratio
    return int((exact + Fraction(1, 2)) // 1)


def needs_second_approval(budget_total: int, threshold: int) -> bool:
    """An activity whose total budget is above the threshold needs a second approver."""
    return budget_total > threshold
