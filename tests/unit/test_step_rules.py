"""steps.parse: what each step kind accepts from its form, and what it refuses (field → message)."""
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict

from field.visits.forms import step_form_data
from field.visits.models import StepKind, VisitStep
from field.visits.steps import MAX_COUNT, StepInvalid, min_photos, parse, step_state

pytestmark = [pytest.mark.usefixtures("request_ctx"), pytest.mark.language(None)]

PRODUCTS = {
    "COLA": SimpleNamespace(sku="COLA", name="Cola 330ml", unit_price=350, active=True),
    "TEA": SimpleNamespace(sku="TEA", name="Green tea", unit_price=400, active=True),
    "OLD": SimpleNamespace(sku="OLD", name="Retired", unit_price=100, active=False),
}


def step(kind, **config) -> VisitStep:
    return VisitStep(kind=kind, title="t", config=config)


def form(*pairs, **fields) -> MultiDict:
    return MultiDict([*pairs, *fields.items()])


def errors_of(s, f, products=PRODUCTS) -> dict:
    with pytest.raises(StepInvalid) as exc:
        parse(s, f, products)
    return exc.value.errors


def test_checklist_counts_passes_and_keeps_notes():
    s = step(StepKind.CHECKLIST, items=["price tags", "clean shelf", "no expired"])
    value = parse(s, form(**{"item-0": "pass", "item-1": "fail", "note-1": " dusty ", "item-2": "pass"}), {})
    assert value["passed"] == 2 and value["total"] == 3
    assert value["items"][1] == {"label": "clean shelf", "pass": False, "note": "dusty"}


def test_checklist_needs_every_item_marked():
    s = step(StepKind.CHECKLIST, items=["a", "b"])
    errors = errors_of(s, form(**{"item-0": "pass", "item-1": "maybe"}))
    assert list(errors) == ["item-1"] and "“b”" in errors["item-1"]


@pytest.mark.parametrize("raw, ok", [("12", True), ("12.5", True), ("0", True), ("-1", False), ("100001", False),
                                     ("NaN", False), ("inf", False), ("", False), ("abc", False)])
def test_number_within_its_range(raw, ok):
    s = step(StepKind.NUMBER, min=0, max=100000)
    if ok:
        assert parse(s, form(value=raw), {}) == {"value": raw}
    else:
        assert "value" in errors_of(s, form(value=raw))


def test_stock_count_per_product():
    s = step(StepKind.STOCK_COUNT, products=[], floor={})
    value = parse(s, form(("sku", "COLA"), ("sku", "TEA"), **{"shelf-COLA": "4", "back-COLA": "10",
                                                                "shelf-TEA": "0", "back-TEA": "0"}), PRODUCTS)
    assert value["lines"] == [{"sku": "COLA", "name": "Cola 330ml", "shelf": 4, "back": 10},
                              {"sku": "TEA", "name": "Green tea", "shelf": 0, "back": 0}]


def test_stock_count_refuses_unknown_products_negative_and_huge_counts():
    s = step(StepKind.STOCK_COUNT)
    errors = errors_of(s, form(("sku", "NOPE"), ("sku", "COLA"), ("sku", "TEA"),
                               **{"shelf-COLA": "-1", "back-COLA": "1", "shelf-TEA": str(MAX_COUNT + 1),
                                  "back-TEA": "x"}))
    assert set(errors) == {"sku-NOPE", "shelf-COLA", "shelf-TEA", "back-TEA"}
    assert "sku" in errors_of(s, form())


def test_shelf_share():
    s = step(StepKind.SHELF_SHARE)
    assert parse(s, form(ours="3", total="12"), {}) == {"ours": 3, "total": 12, "share_pct": 25.0}
    assert "ours" in errors_of(s, form(ours="13", total="12"))
    assert "total" in errors_of(s, form(ours="0", total="0"))


def test_order_lines_priced_from_the_catalogue():
    s = step(StepKind.ORDER_LINES)
    value = parse(s, form(("sku", "COLA"), ("quantity", "24"), ("sku", "TEA"), ("quantity", "2")), PRODUCTS)
    assert value["total"] == 24 * 350 + 2 * 400
    assert value["lines"][0] == {"sku": "COLA", "name": "Cola 330ml", "quantity": 24, "unit_price": 350,
                                 "amount": 8400}


def test_order_lines_refuse_unknown_or_retired_products_and_bad_quantities():
    s = step(StepKind.ORDER_LINES)
    errors = errors_of(s, form(("sku", "NOPE"), ("quantity", "1"), ("sku", "OLD"), ("quantity", "1"),
                               ("sku", "COLA"), ("quantity", "0"), ("sku", "TEA"), ("quantity", "1.5")))
    assert set(errors) == {"sku-0", "sku-1", "quantity-2", "quantity-3"}
    assert "sku" in errors_of(s, form())


def test_blank_order_rows_and_uncounted_products_are_dropped_before_parse():
    posted = form(("sku", ""), ("quantity", "5"), ("sku", "COLA"), ("quantity", "2"), ("sku", " "), ("quantity", ""),
                  ("csrf_token", "t"))
    cleaned = step_form_data(StepKind.ORDER_LINES, posted)
    assert cleaned.getlist("sku") == ["COLA"] and cleaned.getlist("quantity") == ["2"]
    assert cleaned.get("csrf_token") == "t"
    stock = form(("sku", "COLA"), ("sku", "TEA"), **{"shelf-COLA": "", "back-COLA": "", "shelf-TEA": "3",
                                                     "back-TEA": ""})
    assert step_form_data(StepKind.STOCK_COUNT, stock).getlist("sku") == ["TEA"]
    # a half-typed row stays, so the missing count is asked for rather than silently dropped
    assert "back-TEA" in errors_of(step(StepKind.STOCK_COUNT), step_form_data(StepKind.STOCK_COUNT, stock))


def test_choice_and_multi_choice_only_from_the_list():
    one = step(StepKind.CHOICE, choices=["优", "良", "差"])
    assert parse(one, form(choice="良"), {}) == {"choice": "良"}
    assert "choice" in errors_of(one, form(choice="excellent"))
    many = step(StepKind.MULTI_CHOICE, choices=["甲", "乙", "丙"])
    assert parse(many, form(("choice", "甲"), ("choice", "丙")), {}) == {"choices": ["甲", "丙"]}
    assert "choice" in errors_of(many, form())
    assert "choice" in errors_of(many, form(("choice", "甲"), ("choice", "丁")))


def test_text_and_signature():
    assert parse(step(StepKind.TEXT), form(text="  competitor cut price  "), {}) == {"text": "competitor cut price"}
    assert "text" in errors_of(step(StepKind.TEXT), form(text="   "))
    assert "text" in errors_of(step(StepKind.TEXT), form(text="x" * 2001))
    assert parse(step(StepKind.SIGNATURE), form(signer="王老板"), {}) == {"signer": "王老板"}
    assert "signer" in errors_of(step(StepKind.SIGNATURE), form(signer=""))


def test_photo_and_scorecard_steps_are_not_filled_in_by_form():
    assert "photo" in errors_of(step(StepKind.PHOTO, min_photos=2), form())
    assert "kind" in errors_of(step(StepKind.SCORECARD), form())


@pytest.mark.parametrize("config, need", [({"min_photos": 3}, 3), ({"min_photos": "2"}, 2), ({}, 1),
                                          ({"min_photos": 0}, 1), ({"min_photos": None}, 1),
                                          ({"min_photos": "many"}, 1)])
def test_a_photo_step_needs_its_minimum_and_at_least_one(config, need):
    assert min_photos(step(StepKind.PHOTO, **config)) == need


@pytest.mark.parametrize("saved, photos, state", [
    (None, 0, None), (None, 1, None), (None, 2, "done"), (None, 5, "done"),
    ("done", 1, None),          # saved done at two photos, then one was voided: to do again
    ("skipped", 1, "skipped"),  # a skip with a reason stands below the minimum …
    ("skipped", 2, "done"),     # … and the photos win once there are enough
])
def test_a_photo_step_is_done_by_its_photos_not_by_what_was_saved(saved, photos, state):
    assert step_state(step(StepKind.PHOTO, min_photos=2), saved, photos) == state


def test_other_steps_stand_where_they_were_saved():
    for saved in (None, "done", "skipped"):
        assert step_state(step(StepKind.CHECKLIST, items=["a"]), saved, photos=9) == saved
