"""What happens to orders: made from a visit's order step, confirmed, delivered or cancelled by the dealer.

Rules (the README's "Orders to dealers"):
- An order is made once per order step result (`orders.step_result_id` is unique): saving the step again
  replaces the lines while the dealer has not confirmed, and is refused once they have.
- A store without a dealer, or whose dealer is inactive, gets no order: the step still saves, the visit page
  says the order was not sent, and its lines become sales at check-out as before (a direct sale).
- Delivered quantities are whole numbers from 0 to the quantity ordered; all lines in full is "delivered",
  anything less "partly delivered". The delivered quantities become sales ("order" source, one per order
  line, unique), once, at delivery; the check-out makes no "visit" sales for a step that became an order."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from field import audit, permissions
from field.auth.models import User
from field.core import Conflict, DomainError, MoneyError, local_today, money_problem, move_state, now, parse_money
from field.extensions import db
from field.orders.models import Order, OrderLine, OrderStatus as S, OrderTransition
from field.products.models import Product
from field.sales.models import Sale
from field.visits.models import StepKind, StepResult

MOVES = {
    S.SUBMITTED: (S.CONFIRMED, S.CANCELLED),
    S.CONFIRMED: (S.DELIVERED, S.PARTLY_DELIVERED, S.CANCELLED),
}
"""Where each status may go; delivered, partly delivered and cancelled are final."""

SALE_SOURCE = "order"
MAX_QUANTITY = 10_000_000


class OrderInvalid(DomainError):
    """Per-field messages (delivered quantities, prices), shown in place on the order page (422)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def can_move(order: Order, to: str) -> bool:
    return to in MOVES.get(S(order.status), ())


def _move(order: Order, to: str, actor: User, **detail) -> None:
    """The one guarded move: checks the status map, updates only from the status we saw (two taps at once:
    one wins, the other gets 409), appends the transition and the audit event."""
    frm = order.status
    if not can_move(order, to):
        raise Conflict(_("This order is %(status)s; it cannot be changed that way.", status=status_label(frm)))
    move_state(order, frm, to, _("Someone changed this order a moment ago; reload it."), status_at=now())
    db.session.add(OrderTransition(order=order, from_status=frm, to_status=to, actor_id=actor.id if actor else None,
                                   at=now(), detail=detail))
    audit.record(f"order.{to}", order, actor=actor, **detail)


def status_label(status: str) -> str:
    return {S.SUBMITTED: _("submitted"), S.CONFIRMED: _("confirmed"), S.DELIVERED: _("delivered"),
            S.PARTLY_DELIVERED: _("partly delivered"), S.CANCELLED: _("cancelled")}.get(status, status)


# --- from a visit --------------------------------------------------------------------------------

def order_of_result(result_id: int | None) -> Order | None:
    if result_id is None:
        return None
    return db.session.execute(select(Order).where(Order.step_result_id == result_id)).scalar_one_or_none()


def not_sent_reason(store) -> str | None:
    """Why an order at this store cannot go to a dealer (None: it can)."""
    dealer = store.dealer_record
    if dealer is None:
        return _("This store has no dealer: the order was not sent to anyone.")
    if not dealer.active:
        return _("The store's dealer %(name)s is inactive: the order was not sent.", name=dealer.name)
    return None


def _lines(order: Order, value: dict) -> None:
    skus = [line["sku"] for line in value.get("lines", [])]
    products = {p.sku: p for p in db.session.execute(select(Product).where(Product.sku.in_(skus))).scalars()} \
        if skus else {}
    order.lines = [OrderLine(line_no=i, sku=line["sku"], name=line.get("name", "")[:200],
                             product=products.get(line["sku"]), quantity=int(line["quantity"]),
                             unit_price=int(line["unit_price"]))
                   for i, line in enumerate(value.get("lines", []))]
    order.total = sum(line.amount for line in order.lines)


def from_step(visit, result: StepResult, actor: User) -> Order | None:
    """The visit's order step was saved: make (or, before the dealer confirms, update) its order."""
    if result.step.kind != StepKind.ORDER_LINES:
        return None
    db.session.flush()
    order = order_of_result(result.id)
    if order is not None:
        if result.status != "done" or not result.value.get("lines"):
            if order.status == S.SUBMITTED:
                _move(order, S.CANCELLED, actor, reason="step skipped")
            return order
        if order.status != S.SUBMITTED:
            raise Conflict(_("The dealer has already %(status)s this order; it can no longer be changed.",
                             status=status_label(order.status)))
        old = [(line.sku, line.quantity) for line in order.lines]
        order.lines.clear()
        db.session.flush()
        _lines(order, result.value)
        audit.record("order.amended", order, actor=actor, before=old,
                     after=[(line.sku, line.quantity) for line in order.lines])
        return order
    if result.status != "done" or not result.value.get("lines") or not_sent_reason(visit.store):
        return None
    store = visit.store
    order = Order(dealer_id=store.dealer_id, store_id=store.id, visit_id=visit.id, step_result_id=result.id,
                  rep_id=visit.rep_id, status=S.SUBMITTED, placed_at=now(), status_at=now())
    _lines(order, result.value)
    db.session.add(order)
    db.session.flush()
    db.session.add(OrderTransition(order=order, from_status="", to_status=S.SUBMITTED, actor_id=actor.id, at=now(),
                                   detail={}))
    audit.record("order.submitted", order, actor=actor, dealer=store.dealer_id, lines=len(order.lines))
    return order


def replaces_visit_sales(result: StepResult) -> bool:
    """The check-out asks: this order step's sales come from its order's delivery, not from the visit."""
    return order_of_result(result.id) is not None


# --- by the dealer ----------------------------------------------------------------------------------

def confirm(order: Order, actor: User, prices: dict[int, str] | None = None) -> Order:
    """The dealer confirms, optionally at agreed unit prices (yuan, at most two decimals) per line."""
    permissions.require(permissions.may_handle_order(actor, order))
    if not can_move(order, S.CONFIRMED):
        raise Conflict(_("This order is %(status)s; it cannot be changed that way.", status=status_label(order.status)))
    errors, changed = {}, {}
    for line in order.lines:
        raw = ((prices or {}).get(line.id) or "").strip()
        if not raw:
            continue
        try:
            price = parse_money(raw)
        except MoneyError as exc:
            errors[f"price-{line.id}"] = money_problem(exc)
            continue
        if price != line.unit_price:
            changed[line.sku] = [line.unit_price, price]
            line.unit_price = price
    if errors:
        raise OrderInvalid(errors)
    order.total = sum(line.amount for line in order.lines)
    _move(order, S.CONFIRMED, actor, **({"prices": changed} if changed else {}))
    return order


def parse_delivered(order: Order, raw: dict[int, str]) -> dict[int, int]:
    """Delivered quantity per line id: a whole number from 0 to the quantity ordered, every line given."""
    errors, out = {}, {}
    for line in order.lines:
        text = (raw.get(line.id) or "").strip()
        try:
            n = int(text)
        except ValueError:
            errors[f"delivered-{line.id}"] = _("Enter the quantity delivered, a whole number.")
            continue
        if n < 0:
            errors[f"delivered-{line.id}"] = _("A delivered quantity cannot be negative.")
        elif n > line.quantity:
            errors[f"delivered-{line.id}"] = _("At most %(n)s were ordered.", n=line.quantity)
        else:
            out[line.id] = n
    if not errors and out and not any(out.values()):
        errors["delivered"] = _("Nothing was delivered: cancel the order instead.")
    if errors:
        raise OrderInvalid(errors)
    return out


def deliver(order: Order, actor: User, raw: dict[int, str]) -> Order:
    """The dealer delivered: quantities per line; the delivered amounts become sales once."""
    permissions.require(permissions.may_handle_order(actor, order))
    if not can_move(order, S.DELIVERED):
        raise Conflict(_("Confirm the order before marking it delivered.") if order.status == S.SUBMITTED else
                       _("This order is %(status)s; it cannot be changed that way.", status=status_label(order.status)))
    delivered = parse_delivered(order, raw)
    full = all(delivered[line.id] == line.quantity for line in order.lines)
    to = S.DELIVERED if full else S.PARTLY_DELIVERED
    _move(order, to, actor, delivered={line.sku: [delivered[line.id], line.quantity] for line in order.lines})
    sold_on = local_today(order.rep or actor)
    for line in order.lines:
        line.delivered_quantity = delivered[line.id]
        if line.delivered_quantity:
            product = line.product
            db.session.add(Sale(store_id=order.store_id, sold_on=sold_on, product=product,
                                category=product.category if product else "", quantity=line.delivered_quantity,
                                amount=line.delivered_quantity * line.unit_price, source=SALE_SOURCE,
                                visit_id=order.visit_id, source_key=sale_key(order, line)))
    return order


def sale_key(order: Order, line: OrderLine) -> str:
    """The key of the sale a delivered order line becomes (unique with its source)."""
    return f"order:{order.id}:line:{line.line_no}"


def order_id_of_sale_key(key: str) -> int | None:
    """The order a sale of source "order" came from, read back from its key."""
    parts = key.split(":")
    return int(parts[1]) if len(parts) == 4 and parts[0] == "order" and parts[1].isdigit() else None


def cancel(order: Order, actor: User, reason: str) -> Order:
    permissions.require(permissions.may_cancel_order(actor, order))
    reason = (reason or "").strip()
    if not reason:
        raise OrderInvalid({"reason": _("Say why the order is cancelled.")})
    _move(order, S.CANCELLED, actor, reason=reason[:500])
    return order


# --- what other pages show ------------------------------------------------------------------------

def progress(order: Order) -> tuple[int, int]:
    """(lines delivered in full, lines ordered): "partly delivered 3 of 4 lines"."""
    return sum(1 for line in order.lines if line.delivered_quantity == line.quantity), len(order.lines)


def summary_text(order: Order) -> str:
    if order.status in (S.DELIVERED, S.PARTLY_DELIVERED):
        done, total = progress(order)
        return _("%(status)s %(done)s of %(total)s lines", status=status_label(order.status), done=done, total=total)
    return status_label(order.status)


def counts_by_status(dealer_id: int, since=None) -> dict[str, int]:
    stmt = select(Order.status, func.count()).where(Order.dealer_id == dealer_id)
    if since is not None:
        stmt = stmt.where(Order.placed_at >= since)
    return {status: n for status, n in db.session.execute(stmt.group_by(Order.status))}
