"""Reading one step's posted form into the value we store, per step kind.

parse(step, form, products) returns the value dict or raises StepInvalid with a
message per field, so the step's fragment can show them in place (422)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from field.core import DomainError, MoneyError, money_problem, parse_money
from field.visits.models import StepKind, VisitStep

MAX_COUNT = 100_000
MAX_TEXT = 2000


class StepInvalid(DomainError):
    """A form broke its rules: a message per field name (422), for the page to show in place."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _int(form: MultiDict, name: str, errors: dict, low=0, high=MAX_COUNT, required=True) -> int | None:
    raw = (form.get(name) or "").strip()
    if raw == "":
        if required:
            errors[name] = _("Enter a number.")
        return None
    try:
        value = int(raw)
    except ValueError:
        errors[name] = _("Enter a whole number.")
        return None
    if not low <= value <= high:
        errors[name] = _("Enter a number from %(low)s to %(high)s.", low=low, high=high)
        return None
    return value


def _checklist(step, form, errors):
    items = []
    for i, label in enumerate(step.config.get("items", [])):
        verdict = form.get(f"item-{i}")
        if verdict not in ("pass", "fail"):
            errors[f"item-{i}"] = _("Mark “%(item)s” as pass or fail.", item=label)
            continue
        note = (form.get(f"note-{i}") or "").strip()[:500]
        items.append({"label": label, "pass": verdict == "pass", "note": note})
    passed = sum(1 for it in items if it["pass"])
    return {"items": items, "passed": passed, "total": len(step.config.get("items", []))}


def _number(step, form, errors):
    raw = (form.get("value") or "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors["value"] = _("Enter a number.")
        return {}
    if not value.is_finite():
        errors["value"] = _("Enter a number.")
        return {}
    low = Decimal(str(step.config.get("min", 0)))
    high = Decimal(str(step.config.get("max", 1_000_000_000)))
    if not low <= value <= high:
        errors["value"] = _("Enter a number from %(low)s to %(high)s.", low=low, high=high)
        return {}
    return {"value": str(value)}


def _stock_count(step, form, errors, products):
    lines = []
    skus = form.getlist("sku")
    if not skus:
        errors["sku"] = _("Count at least one product.")
    for sku in skus:
        product = products.get(sku)
        if product is None:
            errors[f"sku-{sku}"] = _("Unknown product: %(sku)s.", sku=sku)
            continue
        shelf = _int(form, f"shelf-{sku}", errors)
        back = _int(form, f"back-{sku}", errors)
        if shelf is not None and back is not None:
            lines.append({"sku": sku, "name": product.name, "shelf": shelf, "back": back})
    return {"lines": lines}


def _shelf_share(step, form, errors):
    ours = _int(form, "ours", errors)
    total = _int(form, "total", errors, low=1)
    if ours is not None and total is not None and ours > total:
        errors["ours"] = _("Our facings cannot exceed all facings.")
    if errors:
        return {}
    return {"ours": ours, "total": total, "share_pct": round(ours * 100 / total, 1)}


def _order_lines(step, form, errors, products):
    lines, total = [], 0
    skus, quantities = form.getlist("sku"), form.getlist("quantity")
    if not skus:
        errors["sku"] = _("Add at least one order line.")
    for i, (sku, qty) in enumerate(zip(skus, quantities)):
        product = products.get(sku)
        if product is None or not product.active:
            errors[f"sku-{i}"] = _("Unknown product: %(sku)s.", sku=sku)
            continue
        sub = MultiDict({"q": qty})
        quantity = _int(sub, "q", errors, low=1)
        if "q" in errors:
            errors[f"quantity-{i}"] = errors.pop("q")
            continue
        amount = product.unit_price * quantity
        total += amount
        lines.append({"sku": sku, "name": product.name, "quantity": quantity,
                      "unit_price": product.unit_price, "amount": amount})
    return {"lines": lines, "total": total}


def _choice(step, form, errors):
    choices = step.config.get("choices", [])
    picked = form.get("choice")
    if picked not in choices:
        errors["choice"] = _("Pick one of the choices.")
        return {}
    return {"choice": picked}


def _multi_choice(step, form, errors):
    choices = step.config.get("choices", [])
    picked = form.getlist("choice")
    if not picked:
        errors["choice"] = _("Pick at least one.")
    elif any(p not in choices for p in picked):
        errors["choice"] = _("Pick from the choices given.")
    return {"choices": picked}


def _text(step, form, errors):
    value = (form.get("text") or "").strip()
    if not value:
        errors["text"] = _("Write something, or skip the step with a reason.")
    elif len(value) > MAX_TEXT:
        errors["text"] = _("At most %(n)s characters.", n=MAX_TEXT)
    return {"text": value}


def _signature(step, form, errors):
    signer = (form.get("signer") or "").strip()
    if not signer:
        errors["signer"] = _("Enter the name of the person signing.")
    elif len(signer) > 100:
        errors["signer"] = _("At most %(n)s characters.", n=100)
    return {"signer": signer}


def min_photos(step: VisitStep) -> int:
    """How many photos a photo step asks for (its `min_photos`, at least one)."""
    try:
        return max(1, int((step.config or {}).get("min_photos", 1) or 1))
    except (TypeError, ValueError):
        return 1


def step_state(step: VisitStep, saved: str | None, photos: int = 0) -> str | None:
    """Where a step stands: "done", "skipped" or None (still to do), from what was saved for it.

    A photo step is done by its photos alone: at least its minimum that are not voided, so a
    voided photo can undo it. Below the minimum a skip with a reason stands."""
    if step.kind != StepKind.PHOTO:
        return saved
    if photos >= min_photos(step):
        return "done"
    return "skipped" if saved == "skipped" else None


def _photo(step, form, errors):
    errors["photo"] = _("Photos are added with the camera button; this step is done once they are in.")
    return {}


# --- competitor sightings (竞品采集) ----------------------------------------------------------------

MAX_SHELF_PRICE = 100_000 * 100
"""Fen. A shelf price above 100,000 yuan is a typing slip (an extra zero, a barcode in the price box), not a
price seen in a store: it is refused, not stored to skew the report's medians."""
MAX_FACINGS = 500
MAX_SIGHTINGS = 10
MAX_BRAND = 60
MAX_PRODUCT = 120
SIGHTING_FIELDS = ("brand", "product", "price", "promotion", "display", "facings")

DISPLAY_TYPES = {
    "shelf": _l("Regular shelf"),
    "end_cap": _l("End-cap"),
    "floor_stack": _l("Floor stack"),
    "cooler": _l("Cooler"),
    "counter": _l("Counter / checkout"),
    "hanging": _l("Hanging strip"),
    "other": _l("Other display"),
}
"""Where the competitor's product stood: a fixed list (the report groups by it)."""


def display_label(code: str) -> str:
    return str(DISPLAY_TYPES.get(code, code))


def shelf_price(text: str) -> int:
    """A competitor's shelf price as typed → fen; MoneyError (with money_problem's sentence) or ValueError
    for zero and for an absurd price (above MAX_SHELF_PRICE)."""
    fen = parse_money(text)
    if fen <= 0:
        raise ValueError(_("A shelf price is above zero."))
    if fen > MAX_SHELF_PRICE:
        raise ValueError(_("“%(price)s” is not a shelf price: at most ¥100,000.", price=text[:40]))
    return fen


def _competitor(step, form, errors, promotions: dict[str, str]):
    """Each filled row of the form is one sighting; wholly empty rows are ignored."""
    columns = {name: form.getlist(f"c-{name}") for name in SIGHTING_FIELDS}
    rows = max((len(v) for v in columns.values()), default=0)
    sightings = []
    for i in range(rows):
        cell = {name: (columns[name][i] if i < len(columns[name]) else "").strip() for name in SIGHTING_FIELDS}
        if not any(cell[name] for name in ("brand", "product", "price", "facings")):
            continue
        if len(sightings) >= MAX_SIGHTINGS:
            errors["c-rows"] = _("At most %(n)s sightings in one step.", n=MAX_SIGHTINGS)
            break
        row = {}
        if not cell["brand"]:
            errors[f"c-brand-{i}"] = _("Enter the competitor brand.")
        elif len(cell["brand"]) > MAX_BRAND:
            errors[f"c-brand-{i}"] = _("At most %(n)s characters.", n=MAX_BRAND)
        if len(cell["product"]) > MAX_PRODUCT:
            errors[f"c-product-{i}"] = _("At most %(n)s characters.", n=MAX_PRODUCT)
        if not cell["price"]:
            errors[f"c-price-{i}"] = _("Enter the shelf price.")
        else:
            try:
                row["price"] = shelf_price(cell["price"])
            except MoneyError as exc:
                errors[f"c-price-{i}"] = money_problem(exc)
            except ValueError as exc:
                errors[f"c-price-{i}"] = str(exc)
        if cell["promotion"] and cell["promotion"] not in promotions:
            errors[f"c-promotion-{i}"] = _("Pick a promotion type from the list.")
        if cell["display"] not in DISPLAY_TYPES:
            errors[f"c-display-{i}"] = _("Pick where the product is displayed.")
        sub = MultiDict({"f": cell["facings"]})
        facings = _int(sub, "f", errors, low=0, high=MAX_FACINGS)
        if "f" in errors:
            errors[f"c-facings-{i}"] = errors.pop("f")
        row.update(brand=cell["brand"], product=cell["product"], promotion=cell["promotion"] or None,
                   promotion_name=promotions.get(cell["promotion"], "") if cell["promotion"] else "",
                   display=cell["display"], facings=facings)
        sightings.append(row)
    if not sightings and not errors:
        errors["c-rows"] = _("Enter at least one competitor product, or skip the step with a reason.")
    return {"sightings": sightings}


def parse(step: VisitStep, form: MultiDict, products: dict, promotions: dict[str, str] | None = None) -> dict:
    """The value to store for `step` from its posted form; StepInvalid lists what is wrong.
    `promotions` are the competitor promotion types a sighting may name ({id as text: name})."""
    errors: dict[str, str] = {}
    kind = step.kind
    if kind == StepKind.CHECKLIST:
        value = _checklist(step, form, errors)
    elif kind == StepKind.NUMBER:
        value = _number(step, form, errors)
    elif kind == StepKind.STOCK_COUNT:
        value = _stock_count(step, form, errors, products)
    elif kind == StepKind.SHELF_SHARE:
        value = _shelf_share(step, form, errors)
    elif kind == StepKind.ORDER_LINES:
        value = _order_lines(step, form, errors, products)
    elif kind == StepKind.CHOICE:
        value = _choice(step, form, errors)
    elif kind == StepKind.MULTI_CHOICE:
        value = _multi_choice(step, form, errors)
    elif kind == StepKind.TEXT:
        value = _text(step, form, errors)
    elif kind == StepKind.SIGNATURE:
        value = _signature(step, form, errors)
    elif kind == StepKind.PHOTO:
        value = _photo(step, form, errors)
    elif kind == StepKind.COMPETITOR:
        value = _competitor(step, form, errors, promotions or {})
    else:
        errors["kind"] = _("This step cannot be filled in here.")
        value = {}
    if errors:
        raise StepInvalid(errors)
    return value
