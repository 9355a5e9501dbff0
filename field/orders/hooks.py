"""What orders tell the lower domains, through field.providers (registered when the package is imported):

- visits notify "visit.step_saved": an order step becomes (or updates) its dealer's order;
- the check-out asks "order_replaces_visit_sales": an order step's sales come from its delivery instead;
- the store page and a visit's Plan ask "store_last_order"; the visit's order step "visit_step_orders";
- the dealer scorecard (field/dealers) asks "dealer_orders_summary";
- the sales import asks "orders_named_in_import" and "order_deliveries_like" (field/sales/importer.py: a row
  that is an order's delivery again is not imported).
A dealer's staff reach only their own pages: the guard before every request asks permissions.may_reach."""
from __future__ import annotations

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from field import permissions, providers, scope
from field.core import format_money, local_today
from field.extensions import db
from field.orders import bp
from field.orders import operations as ops
from field.orders.models import Order, OrderStatus
from field.sales.models import Sale
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


def orders_named_in_import(order_ids, actor) -> dict[int, dict]:
    """For the sales import: the orders with these ids that `actor` may see (any other id is unknown to them):
    store, status, the SKUs ordered, whether their sales already come from their delivery and its day."""
    out: dict[int, dict] = {}
    ids = sorted(set(order_ids))
    for i in range(0, len(ids), 1000):
        for order in db.session.execute(scope.orders(actor).where(Order.id.in_(ids[i:i + 1000]))
                                        .options(selectinload(Order.lines), selectinload(Order.rep))).scalars():
            counted = order.status in (OrderStatus.DELIVERED, OrderStatus.PARTLY_DELIVERED)
            out[order.id] = {"store_id": order.store_id, "status": order.status,
                             "status_text": ops.status_label(order.status), "counted": counted,
                             "pending": order.status in (OrderStatus.SUBMITTED, OrderStatus.CONFIRMED),
                             "skus": {line.sku.lower() for line in order.lines},
                             "delivered_on": local_today(order.rep, at=order.status_at) if counted else None}
    return out


def order_deliveries_like(keys, actor) -> dict[tuple, dict]:
    """For the sales import: per (store id, day, product id) asked, what delivered orders already counted as
    sales there — {"quantity": units in all, "orders": [order ids]} — among the stores `actor` may see."""
    keys = set(keys)
    if not keys:
        return {}
    stores = sorted({k[0] for k in keys})
    days = [k[1] for k in keys]
    out: dict[tuple, dict] = {}
    for i in range(0, len(stores), 1000):
        stmt = (scope.query(Sale, actor)
                .where(Sale.source == ops.SALE_SOURCE, Sale.store_id.in_(stores[i:i + 1000]),
                       Sale.sold_on >= min(days), Sale.sold_on <= max(days))
                .with_only_columns(Sale.store_id, Sale.sold_on, Sale.product_id, Sale.quantity, Sale.source_key))
        for store_id, day, product_id, quantity, key in db.session.execute(stmt):
            if (store_id, day, product_id) not in keys:
                continue
            found = out.setdefault((store_id, day, product_id), {"quantity": 0, "orders": []})
            found["quantity"] += quantity
            order_id = ops.order_id_of_sale_key(key)
            if order_id is not None and order_id not in found["orders"]:
                found["orders"].append(order_id)
    return out


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
providers.register("orders_named_in_import", orders_named_in_import)
providers.register("order_deliveries_like", order_deliveries_like)


@bp.before_app_request
def dealers_reach_their_pages_only():
    """A dealer's staff open their orders, their stores and their profile; any other page is 403."""
    if current_user.is_authenticated and not permissions.may_reach(current_user, request.endpoint):
        abort(403)
