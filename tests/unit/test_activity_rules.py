"""The activity rules as plain values: check periods, compliance at the floor, what a claim pays."""
from datetime import date
from decimal import Decimal

import pytest

from field.activities.rules import Compliance, Period, compliance, needs_second_approval, payable, period_at, \
    periods, roll_up


def spans(items):
    return [(p.index, p.start.isoformat(), p.end.isoformat()) for p in items]


# --- periods -------------------------------------------------------------------------------

def test_weekly_periods_run_seven_days_from_the_first_day_across_a_month_boundary():
    got = periods(date(2026, 1, 28), date(2026, 2, 12), "weekly")
    assert spans(got) == [(0, "2026-01-28", "2026-02-03"), (1, "2026-02-04", "2026-02-10"),
                          (2, "2026-02-11", "2026-02-12")]
    assert [p.days for p in got] == [7, 7, 2]


def test_weekly_periods_of_whole_weeks_and_of_one_day():
    assert spans(periods(date(2026, 3, 30), date(2026, 4, 12), "weekly")) == [
        (0, "2026-03-30", "2026-04-05"), (1, "2026-04-06", "2026-04-12")]
    assert spans(periods(date(2026, 2, 28), date(2026, 2, 28), "weekly")) == [(0, "2026-02-28", "2026-02-28")]


def test_each_visit_periods_follow_the_store_visit_cycle():
    got = periods(date(2026, 5, 1), date(2026, 5, 30), "each_visit", visit_every_days=14)
    assert spans(got) == [(0, "2026-05-01", "2026-05-14"), (1, "2026-05-15", "2026-05-28"),
                          (2, "2026-05-29", "2026-05-30")]
    daily = periods(date(2026, 5, 1), date(2026, 5, 3), "each_visit", visit_every_days=1)
    assert spans(daily) == [(0, "2026-05-01", "2026-05-01"), (1, "2026-05-02", "2026-05-02"),
                            (2, "2026-05-03", "2026-05-03")]
    with pytest.raises(ValueError):
        periods(date(2026, 5, 1), date(2026, 5, 30), "each_visit")


def test_once_is_the_whole_activity():
    assert spans(periods(date(2026, 1, 1), date(2026, 3, 31), "once")) == [(0, "2026-01-01", "2026-03-31")]


def test_periods_refuse_an_end_before_the_start_and_unknown_kinds():
    with pytest.raises(ValueError):
        periods(date(2026, 2, 2), date(2026, 2, 1), "weekly")
    with pytest.raises(ValueError):
        periods(date(2026, 2, 1), date(2026, 2, 2), "monthly")


def test_period_at_finds_the_day_and_nothing_outside():
    items = periods(date(2026, 1, 28), date(2026, 2, 12), "weekly")
    assert period_at(items, date(2026, 2, 4)).index == 1
    assert period_at(items, date(2026, 2, 3)).index == 0
    assert period_at(items, date(2026, 2, 12)).index == 2
    assert period_at(items, date(2026, 2, 13)) is None
    assert period_at(items, date(2026, 1, 27)) is None


# --- compliance ----------------------------------------------------------------------------

def test_compliance_at_the_floor():
    just_under = Compliance(599, 1000)
    assert just_under.percent == Decimal("59.9") and not just_under.meets(Decimal("60"))
    at_floor = Compliance(3, 5)
    assert at_floor.percent == Decimal("60.0") and at_floor.meets(Decimal("60"))
    full = Compliance(5, 5)
    assert full.percent == Decimal("100.0") and full.meets(Decimal("60")) and full.meets(Decimal("100"))


def test_a_hair_under_the_floor_never_shows_as_on_it():
    hair = Compliance(11999, 20000)  # 59.995 %
    assert hair.percent == Decimal("59.9")
    assert not hair.meets(Decimal("60.00"))


def test_nothing_due_yet_has_no_ratio_and_meets_nothing():
    empty = Compliance(0, 0)
    assert empty.ratio is None and empty.percent is None and not empty.meets(Decimal("0"))


def test_compliance_counts_periods_over_or_verified():
    items = periods(date(2026, 3, 2), date(2026, 3, 29), "weekly")  # four weeks
    # On 18 March two weeks are over; the third runs and is not verified yet.
    assert compliance(items, {0}, date(2026, 3, 18)) == Compliance(1, 2)
    # Verifying the running week early counts it.
    assert compliance(items, {0, 2}, date(2026, 3, 18)) == Compliance(2, 3)
    # After the end every period is due.
    assert compliance(items, {0, 1, 3}, date(2026, 3, 30)) == Compliance(3, 4)
    assert compliance(items, set(), date(2026, 3, 2)) == Compliance(0, 0)


def test_roll_up_adds_periods_not_percentages():
    assert roll_up([Compliance(1, 1), Compliance(0, 3)]) == Compliance(1, 4)
    assert roll_up([]) == Compliance(0, 0)


def test_compliance_refuses_impossible_counts():
    with pytest.raises(ValueError):
        Compliance(3, 2)
    with pytest.raises(ValueError):
        Compliance(-1, 2)


# --- payout ----------------------------------------------------------------------------------

def test_below_the_floor_pays_nothing():
    assert payable(500_000, 1_000_000, Compliance(599, 1000)) == 0
    assert payable(500_000, 1_000_000, Compliance(0, 0)) == 0


def test_at_and_above_the_floor_pays_pro_rata():
    assert payable(500_000, 1_000_000, Compliance(3, 5)) == 300_000
    assert payable(500_000, 1_000_000, Compliance(4, 5)) == 400_000
    assert payable(500_000, 1_000_000, Compliance(5, 5)) == 500_000


def test_payout_is_capped_by_the_store_budget():
    assert payable(2_000_000, 1_000_000, Compliance(5, 5)) == 1_000_000
    assert payable(2_000_000, 1_000_000, Compliance(4, 5)) == 800_000


def test_payout_rounds_half_up_to_the_fen():
    assert payable(1001, 5000, Compliance(2, 3)) == 667   # 667.33
    assert payable(1, 5000, Compliance(2, 3)) == 1         # 0.67
    assert payable(5, 5000, Compliance(7, 10)) == 4        # 3.5 → 4


def test_a_type_with_its_own_floor():
    assert payable(100_00, 100_00, Compliance(3, 4), Decimal("80")) == 0
    assert payable(100_00, 100_00, Compliance(4, 5), Decimal("80")) == 80_00


def test_payout_refuses_negative_amounts():
    with pytest.raises(ValueError):
        payable(-1, 100, Compliance(1, 1))


def test_second_approval_is_needed_only_above_the_threshold():
    assert not needs_second_approval(5_000_000, 5_000_000)
    assert needs_second_approval(5_000_001, 5_000_000)


def test_a_period_knows_its_days():
    assert Period(0, date(2026, 1, 31), date(2026, 2, 1)).days == 2
