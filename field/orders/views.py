"""The orders pages: /orders (a dealer's staff see their dealer's, by status; supervisors, managers and admins
those at stores in their scope), one order with confirm / deliver / cancel for the dealer's staff. Ids out of
scope are 404; bad input 4xx with its message in place, nothing written."""
from __future__ import annotations

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from field import permissions, scope
from field.extensions import db
from field.orders import bp
from field.orders import operations as ops
from field.orders.models import Order, OrderStatus as S
from field.web import me, paginate, page_arg, refusal, render, see_other

STATUSES = (S.SUBMITTED, S.CONFIRMED, S.DELIVERED, S.PARTLY_DELIVERED, S.CANCELLED)
PER_PAGE = 30


def _order(order_id: int) -> Order:
    return scope.get_or_404(scope.orders().options(selectinload(Order.lines), joinedload(Order.store),
                                                   joinedload(Order.dealer)), order_id)


@bp.route("/orders")
@login_required
def index():
    user = me()
    permissions.require(permissions.may_see_orders(user))
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    counts = dict(db.session.execute(
        scope.orders(user).with_only_columns(Order.status, func.count()).group_by(Order.status)).all())
    stmt = scope.orders(user).options(joinedload(Order.store), joinedload(Order.dealer))
    if status:
        stmt = stmt.where(Order.status == status)
    page = paginate(stmt.order_by(Order.placed_at.desc(), Order.id.desc()), page_arg(), PER_PAGE)
    return render("orders/index.html", block="results", page_title=_("Orders"), page=page, current=status,
                  statuses=STATUSES, counts=counts, label=ops.status_label)


def _detail(order: Order, status: int = 200, errors=None, typed=None, error=None):
    transitions = order.transitions
    return render("orders/order.html", status=status, page_title=_("Order %(id)s", id=order.id), order=order,
                  may_handle=permissions.may_handle_order(me(), order), may_cancel=permissions.may_cancel_order(
                      me(), order) and ops.can_move(order, S.CANCELLED),
                  can_confirm=ops.can_move(order, S.CONFIRMED), can_deliver=ops.can_move(order, S.DELIVERED),
                  transitions=transitions, label=ops.status_label, errors=errors or {}, typed=typed or {},
                  error=error)


@bp.route("/orders/<int:order_id>")
@login_required
def detail(order_id: int):
    order = _order(order_id)
    permissions.require(permissions.may_see_orders(me()) or order.rep_id == me().id)
    return _detail(order)


def _act(order: Order, operation, done: str):
    typed = {k: v for k, v in request.form.items() if k != "csrf_token"}
    with refusal() as refused:
        operation()
    if refused:
        db.session.expire_all()
        order = _order(order.id)
        return _detail(order, refused.status, errors=getattr(refused.error, "errors", None), typed=typed,
                       error=refused.message)
    flash(done)
    return see_other(url_for("orders.detail", order_id=order.id))


def _per_line(order: Order, prefix: str) -> dict[int, str]:
    return {line.id: request.form.get(f"{prefix}-{line.id}", "") for line in order.lines}


@bp.route("/orders/<int:order_id>/confirm", methods=["POST"])
@login_required
def confirm(order_id: int):
    order = _order(order_id)
    permissions.require(permissions.may_handle_order(me(), order))
    return _act(order, lambda: ops.confirm(order, me(), _per_line(order, "price")), _("Order confirmed."))


@bp.route("/orders/<int:order_id>/deliver", methods=["POST"])
@login_required
def deliver(order_id: int):
    order = _order(order_id)
    permissions.require(permissions.may_handle_order(me(), order))
    return _act(order, lambda: ops.deliver(order, me(), _per_line(order, "delivered")),
                _("Delivery recorded."))


@bp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@login_required
def cancel(order_id: int):
    order = _order(order_id)
    permissions.require(permissions.may_cancel_order(me(), order))
    return _act(order, lambda: ops.cancel(order, me(), request.form.get("reason", "")), _("Order cancelled."))
