"""Targets: the proportional split adds up to the fen (largest remainder), completion per cent, months."""
from datetime import date
from decimal import Decimal

import pytest

from field.targets.queries import MonthError, add_months, parse_month, pct
from field.targets.split import largest_remainder

pytestmark = pytest.mark.usefixtures("request_ctx")


def test_parts_are_in_proportion_and_add_up_exactly():
    assert largest_remainder(100_00, {"a": 1, "b": 1, "c": 2}) == {"a": 25_00, "b": 25_00, "c": 50_00}
    parts = largest_remainder(100, {"a": 1, "b": 1, "c": 1})
    assert sum(parts.values()) == 100 and sorted(parts.values()) == [33, 33, 34]
    assert parts["a"] == 34  # ties go to the earlier part


def test_the_leftover_fen_go_to_the_largest_remainders():
    # 1000 fen by 2:3:5 over 7 → 285.7, 428.6, 714.3... (weights 2, 3, 2: 285.71, 428.57, 285.71)
    parts = largest_remainder(1000, {"x": 2, "y": 3, "z": 2})
    assert parts == {"x": 286, "y": 428, "z": 286} and sum(parts.values()) == 1000
    # 10 fen over weights 1, 1, 1, 7: 1, 1, 1, 7 exactly
    assert largest_remainder(10, {"a": 1, "b": 1, "c": 1, "d": 7}) == {"a": 1, "b": 1, "c": 1, "d": 7}
    # 1 fen, three equal parts: one of them gets it
    assert sorted(largest_remainder(1, {"a": 5, "b": 5, "c": 5}).values()) == [0, 0, 1]


@pytest.mark.parametrize("total", [0, 1, 7, 99_999, 123_456_789, 10**13])
def test_any_total_over_any_weights_adds_up(total):
    weights = {i: w for i, w in enumerate([0, 3, 17, 1_000_001, 5, 0, 42])}
    parts = largest_remainder(total, weights)
    assert sum(parts.values()) == total
    assert parts[0] == 0 and parts[5] == 0  # nothing sold last year: no share, while others sold
    assert all(isinstance(v, int) and v >= 0 for v in parts.values())


def test_with_no_weight_at_all_the_split_is_even_and_nothing_to_split_into_is_empty():
    assert largest_remainder(10, {"a": 0, "b": 0, "c": 0}) == {"a": 4, "b": 3, "c": 3}
    assert largest_remainder(500, {}) == {}
    with pytest.raises(ValueError):
        largest_remainder(-1, {"a": 1})
    with pytest.raises(ValueError):
        largest_remainder(10, {"a": -1})


def test_completion_is_a_decimal_to_one_place_and_none_without_a_target():
    assert pct(50, 200) == Decimal("25.0")
    assert pct(1, 3) == Decimal("33.3") and pct(2, 3) == Decimal("66.7")
    assert pct(1, 2000) == Decimal("0.1")    # 0.05 rounds half up
    assert pct(300, 200) == Decimal("150.0")  # over target
    assert pct(0, 100) == Decimal("0.0")
    assert pct(100, 0) is None


@pytest.mark.parametrize("text", ["2026-03", "2026-3", "2026/03", "2026.3", "2026年3月", "2026-03-01",
                                  "2026-03-01 00:00:00", " 2026-03 "])
def test_a_month_reads_in_the_usual_spellings(text):
    assert parse_month(text) == date(2026, 3, 1)


@pytest.mark.parametrize("text", ["", "2026", "2026-13", "2026-00", "03-2026", "2026-03-15", "1999-12", "2101-01",
                                  "二〇二六年三月", "2026-03; drop table"])
def test_a_malformed_month_is_refused_with_its_text(text):
    with pytest.raises(MonthError) as refused:
        parse_month(text)
    assert "2026-03" in str(refused.value)


def test_months_add_across_years():
    assert add_months(date(2026, 1, 1), -12) == date(2025, 1, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)
