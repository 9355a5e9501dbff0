"""What orders tell the lower domains, through field.providers (registered when the package is imported):

- visits notify "visit.step_saved": an order step becomes (or updates) its dealer's order;
- the check-out asks "order_replaces_visit_sales": an order step's sales come from its delivery instead;
- the store page and a visit's Plan ask "store_last_order"; the visit's order step "visit_step_orders";
- the dealer scorecard (field/dealers) asks "dealer_orders_summary".
A dealer's staff reach only their own pages: the guard before every request asks permissions.may_reach."""
from __future__ import annotations

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from field import permissions, providers, scope
from field.core import format_money
from field.extensions import db
from field.orders import bp
from field.orders import operations as ops
from field.orders.models import Order
from field.visits.models import StepKind


def _step_saved(visit, step, result, actor) -> None:
    ops.from_step(visit, result, actor)


def store_last_order(store, before_visit=None) -> dict | None:
    """The store's latest order (before this visit's own, when asked from a visit), as the viewer may see it."""
    stmt = scope.orders().where(Order.store_id == store.id).options(selectinload(Order.lines))
    if before_visit is not None:
        stmt = stmt.where((Order.visit_id != before_visit.id) | Order.visit_id.is_(None))
        if before_visit.checkin_at is not None:  # a visit under way or done: what was known when it began
            stmt = stmt.where(Order.placed_at < before_visit.checkin_at)
    order = db.session.execute(stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(1)).scalar_one_or_none()
    if order is None:
        return None
    return {"id": order.id, "status": order.status, "text": ops.summary_text(order), "placed_at": order.placed_at,
            "total": order.total}


def visit_step_orders(visit) -> dict[int, dict]:
    """Per order step of the visit: {"sent": True, "text": status} or {"sent": False, "text": why not}."""
    if not any(r.step.kind == StepKind.ORDER_LINES and r.status == "done" for r in visit.results):
        return {}  # no query for a visit without an order taken
    orders = {o.step_result_id: o for o in db.session.execute(
        select(Order).where(Order.visit_id == visit.id).options(selectinload(Order.lines))).scalars()}
    out = {}
    for result in visit.results:
        if result.step.kind != StepKind.ORDER_LINES or result.status != "done":
            continue
        order = orders.get(result.id)
        if order is not None:
            out[result.step_id] = {"sent": True, "text": ops.summary_text(order), "dealer": order.dealer.name}
        else:
            out[result.step_id] = {"sent": False, "text": ops.not_sent_reason(visit.store) or ""}
    return out


def dealer_orders_summary(dealer, since=None, limit: int = 10) -> dict:
    """For the dealer scorecard: counts by status (since a moment, if given) and the latest orders."""
    stmt = select(Order).where(Order.dealer_id == dealer.id)
    if since is not None:
        stmt = stmt.where(Order.placed_at >= since)
    recent = db.session.execute(stmt.options(selectinload(Order.lines), selectinload(Order.store))
                                .order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)).scalars().all()
    counts = ops.counts_by_status(dealer.id, since)
    return {"counts": counts,
            "by_status": [(ops.status_label(status), n) for status, n in counts.items() if n],
            "recent": [{"id": o.id, "store": o.store.name, "status": o.status, "status_text": ops.status_label(o.status),
                        "text": ops.summary_text(o), "placed_at": o.placed_at, "total": o.total,
                        "total_text": format_money(o.total)} for o in recent]}


def dealer_choices() -> list[tuple[int, str]]:
    """The active dealers in the signed-in admin's scope, for the user form's dealer picker."""
    from field.dealers.models import Dealer
    rows = db.session.execute(scope.query(Dealer).where(Dealer.active.is_(True)).order_by(Dealer.name)
                              .with_only_columns(Dealer.id, Dealer.name, Dealer.code)).all()
    return [(i, f"{name} ({code})") for i, name, code in rows]


providers.listen("visit.step_saved", _step_saved)
providers.register("dealer_choices", dealer_choices)
providers.register("order_replaces_visit_sales", ops.replaces_visit_sales)
providers.register("store_last_order", store_last_order)
providers.register("visit_step_orders", visit_step_orders)
providers.register("dealer_orders_summary", dealer_orders_summary)


@bp.before_app_request
def dealers_reach_their_pages_only():
    """A dealer's staff open their orders, their stores and their profile; any other page is 403."""
    if current_user.is_authenticated and not permissions.may_reach(current_user, request.endpoint):
        abort(403)
