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


def _oracle(prices: list[int]) -> PriceStats:
    """min / median / max from the sightings' prices themselves (the median of an even count: the mean of the
    two middle prices, rounded down to a fen)."""
    if not prices:
        return PriceStats(0, None, None, None)
    s = sorted(prices)
    middle = (s[(len(s) - 1) // 2] + s[len(s) // 2]) // 2
    return PriceStats(len(s), s[0], middle, s[-1])


def test_report_prices_per_week_and_per_row_are_those_of_the_sightings(org):
    """The report's figures (read grouped by week, brand, promotion and price, streamed on PostgreSQL for a wide
    read) are exactly min / median / max of the sightings in scope, week by week and over the weeks."""
    import random
    from datetime import timedelta

    from field.competitors import report as rep
    from field.competitors.models import CompetitorSighting
    from field.core import now
    from field.extensions import db
    from field.visits.models import StepKind
    from tests.factories import make_store, make_visit

    east = make_store(rep=org.rep, channel="supermarket")
    west = make_store(rep=org.west_rep, channel="supermarket")
    visit = make_visit(org.rep, east, at=now(), minutes=20, code="promotion")
    step = next(s for s in visit.visit_type.steps if s.kind == StepKind.COMPETITOR)
    weeks = rep.week_range(org.manager, 26)
    rnd = random.Random(17)
    mine: dict[tuple[str, object], list[int]] = {}
    per_row: dict[str, list[int]] = {}
    for store, rep_user in ((east, org.rep), (west, org.west_rep)):
        for week in [weeks[0], weeks[1], weeks[12], weeks[-1], weeks[0] - timedelta(weeks=1)]:
            for brand in ("康师傅", "统一"):
                for _ in range(rnd.randint(1, 6)):
                    price = rnd.choice((290, 300, 310, 350, 355, 400))
                    db.session.add(CompetitorSighting(
                        visit_id=visit.id, step_id=step.id, store_id=store.id, rep_id=rep_user.id,
                        region_id=store.region_id, channel=store.channel, seen_on=week + timedelta(days=2), week=week,
                        brand=brand, product="", price=price, promotion_type_id=None))
                    if store is east and week >= weeks[0]:  # the manager's scope, in the 26 weeks
                        mine.setdefault((brand, week), []).append(price)
                        per_row.setdefault(brand, []).append(price)
    db.session.commit()
    found = rep.report(org.manager, rep.Filters(weeks=26), "en", "No promotion")
    assert found.weeks == weeks
    assert {row.brand: row.stats for row in found.rows} == {b: _oracle(p) for b, p in per_row.items()}
    assert set(found.trend) == {"康师傅", "统一"}
    for brand, stats in found.trend.items():
        assert stats == [_oracle(mine.get((brand, week), [])) for week in weeks]
    assert found.total == sum(len(p) for p in per_row.values())
    # A narrow read (one brand) is planned otherwise; the figures are the same.
    one = rep.report(org.manager, rep.Filters(weeks=26, brand="统一"), "en", "No promotion")
    assert [row.stats for row in one.rows] == [_oracle(per_row["统一"])]
    assert one.trend["统一"] == found.trend["统一"]
