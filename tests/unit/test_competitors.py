"""Competitor sightings: the shelf price a rep types (refused when negative, zero or absurd), the competitor
step's rows, and the report's price figures (min / median / max from a histogram)."""
import pytest
from werkzeug.datastructures import MultiDict

from field.competitors.report import PriceStats, price_stats
from field.core import MoneyError
from field.visits.models import StepKind, VisitStep
from field.visits.steps import MAX_SHELF_PRICE, StepInvalid, parse, shelf_price

pytestmark = [pytest.mark.usefixtures("request_ctx")]

PROMOTIONS = {"1": "Price cut", "2": "Buy and get"}
STEP = VisitStep(kind=StepKind.COMPETITOR, title="竞品采集", config={})


def rows(*sightings) -> MultiDict:
    out = MultiDict()
    for s in sightings:
        for name in ("brand", "product", "price", "promotion", "display", "facings"):
            out.add(f"c-{name}", s.get(name, ""))
    return out


def errors(form) -> dict:
    with pytest.raises(StepInvalid) as exc:
        parse(STEP, form, {}, PROMOTIONS)
    return exc.value.errors


def test_shelf_price_reads_yuan_into_fen():
    assert shelf_price("3.5") == 350
    assert shelf_price("¥1,299.00") == 129_900
    assert shelf_price("100000") == MAX_SHELF_PRICE


@pytest.mark.parametrize("typed", ["-3", "1.234", "abc", "1,50"])
def test_shelf_price_refuses_what_is_not_money(typed):
    with pytest.raises(MoneyError):
        shelf_price(typed)


@pytest.mark.parametrize("typed", ["0", "100000.01", "6901234567890"])
def test_shelf_price_refuses_zero_and_absurd_prices(typed):
    with pytest.raises(ValueError):
        shelf_price(typed)


def test_competitor_step_keeps_filled_rows_and_ignores_empty_ones():
    value = parse(STEP, rows({"brand": "康师傅", "product": "冰红茶 500ml", "price": "3.50", "promotion": "1",
                              "display": "end_cap", "facings": "6"},
                             {"display": "shelf"},
                             {"brand": "统一", "price": "3", "display": "shelf", "facings": "0"}), {}, PROMOTIONS)
    assert value["sightings"] == [
        {"brand": "康师傅", "product": "冰红茶 500ml", "price": 350, "promotion": "1", "promotion_name": "Price cut",
         "display": "end_cap", "facings": 6},
        {"brand": "统一", "product": "", "price": 300, "promotion": None, "promotion_name": "", "display": "shelf",
         "facings": 0}]


def test_competitor_step_says_what_is_wrong_per_row():
    found = errors(rows({"display": "shelf"},
                        {"brand": "", "price": "-2", "display": "shelf", "facings": "3"},
                        {"brand": "统一", "price": "250000", "promotion": "9", "display": "roof", "facings": "9999"}))
    assert found["c-brand-1"] == "Enter the competitor brand."
    assert found["c-price-1"] == "“-2” is negative: an amount cannot be negative."
    assert found["c-price-2"] == "“250000” is not a shelf price: at most ¥100,000."
    assert found["c-promotion-2"] == "Pick a promotion type from the list."
    assert found["c-display-2"] == "Pick where the product is displayed."
    assert found["c-facings-2"] == "Enter a number from 0 to 500."
    assert "c-brand-0" not in found  # the empty row is no sighting


def test_competitor_step_needs_one_sighting():
    assert errors(rows({"display": "shelf"}))["c-rows"] == \
        "Enter at least one competitor product, or skip the step with a reason."


def test_price_stats_from_a_histogram():
    assert price_stats({}) == PriceStats(0, None, None, None)
    assert price_stats({350: 1}) == PriceStats(1, 350, 350, 350)
    # 300, 350, 350, 500 → the middle two are 350 and 350
    assert price_stats({500: 1, 300: 1, 350: 2}) == PriceStats(4, 300, 350, 500)
    # 300, 301 → their mean rounded down to a fen
    assert price_stats({300: 1, 301: 1}).median == 300
    # 290 ×5, 990 ×4: the fifth of nine
    assert price_stats({990: 4, 290: 5}) == PriceStats(9, 290, 290, 990)
    assert price_stats({990: 5, 290: 5}).median == 640
