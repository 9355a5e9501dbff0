"""The sales import's rule against counting an order's delivery twice (field/sales/importer.double_of) and how
the optional order column is read."""
from datetime import date

import pytest

from field.sales.importer import NO_ORDER, double_of, parse_order

pytestmark = [pytest.mark.usefixtures("request_ctx")]

DELIVERED = {"counted": True, "pending": False, "status_text": "delivered", "delivered_on": date(2026, 3, 2)}
CONFIRMED = {"counted": False, "pending": True, "status_text": "confirmed", "delivered_on": None}
CANCELLED = {"counted": False, "pending": False, "status_text": "cancelled", "delivered_on": None}


def row(quantity=10, order=None):
    return {"quantity": quantity, "order": order}


def test_a_row_naming_a_delivered_or_pending_order_is_a_double_and_a_cancelled_one_is_not():
    assert double_of(row(order=12), DELIVERED, None) == \
        "already counted from order 12, delivered on 2026-03-02: not imported"
    assert "order 12 is confirmed: its sales are counted when the dealer marks it delivered" in \
        double_of(row(order=12), CONFIRMED, None)
    assert double_of(row(order=12), CANCELLED, None) is None
    # Named, the order decides: whatever the quantity, and whatever else was delivered that day.
    assert double_of(row(quantity=3, order=12), DELIVERED, {"quantity": 99, "orders": [40]}) is not None
    assert double_of(row(order=12), CANCELLED, {"quantity": 10, "orders": [40]}) is None


def test_a_row_without_an_order_is_a_double_only_with_the_days_delivered_quantity_exactly():
    same = {"quantity": 10, "orders": [40, 41]}
    assert "the same store, day, product and quantity as the delivery of order 40, 41" in double_of(row(), None, same)
    assert double_of(row(quantity=9), None, same) is None
    assert double_of(row(quantity=11), None, same) is None
    assert double_of(row(), None, None) is None  # nothing delivered at that store, day and product
    assert double_of(row(order=NO_ORDER), None, same) is None  # `none`: another sale, said so


@pytest.mark.parametrize("typed, value", [("1234", 1234), ("#1234", 1234), (" # 7 ", 7), ("none", NO_ORDER),
                                          ("无", NO_ORDER), ("-", NO_ORDER), ("NONE", NO_ORDER)])
def test_the_order_column_reads_numbers_as_shown_and_none(typed, value):
    assert parse_order(typed) == value


@pytest.mark.parametrize("typed", ["abc", "12.5", "0", "-3", "99999999999", "order 12"])
def test_the_order_column_refuses_what_is_no_order_number(typed):
    with pytest.raises(ValueError, match="not an order number"):
        parse_order(typed)
