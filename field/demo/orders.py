"""Demo orders to a dealer: the dealer of Shanghai's KA stores as a record (made here when the demo has no
Dealer records yet), its stores bound to it, a staff member `dealer1` (password field-demo) and a few orders in
each status, so `./run` shows the dealer's phone pages and the reps' "last order"."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from field.auth.models import Region, Role, User
from field.core import now
from field.dealers.models import Dealer
from field.demo.company import DEALERS, PASSWORD
from field.extensions import db
from field.orders import operations as ops
from field.orders.models import Order, OrderLine, OrderStatus as S, OrderTransition
from field.products.models import Product
from field.stores.models import Store

NAME = DEALERS["SH"][0]
ORDERS = 6


def build() -> dict:
    dealer = db.session.execute(select(Dealer).where(Dealer.name == NAME)).scalars().first()
    if dealer is None:
        region = db.session.execute(select(Region).where(Region.code == "SH")).scalar_one_or_none()
        dealer = Dealer(code="D-SH-001", name=NAME, contact_name="周建国", phone="021-6288 0001",
                        region=region, active=True)
        db.session.add(dealer)
        db.session.flush()
    stores = db.session.execute(select(Store).where(Store.dealer == NAME, Store.active.is_(True))
                                .order_by(Store.code)).scalars().all()
    for store in stores:
        if store.dealer_id is None:
            store.dealer_id = dealer.id
    staff = User(login="dealer1", name="沪通 · 周建国", role=Role.DEALER, active=True, locale="zh_CN",
                 dealer_id=dealer.id)
    staff.set_password(PASSWORD)
    db.session.add(staff)
    products = db.session.execute(select(Product).where(Product.active.is_(True)).order_by(Product.sku)
                                  .limit(8)).scalars().all()
    if not stores or not products:
        return {"dealer_orders": 0}
    plan = [S.SUBMITTED, S.SUBMITTED, S.CONFIRMED, S.DELIVERED, S.PARTLY_DELIVERED, S.CANCELLED]
    for n, status in enumerate(plan[:ORDERS]):
        store = stores[n % len(stores)]
        placed = now() - timedelta(days=ORDERS - n, hours=3)
        order = Order(dealer_id=dealer.id, store=store, rep_id=store.owner_rep_id, status=S.SUBMITTED,
                      placed_at=placed, status_at=placed,
                      lines=[OrderLine(line_no=i, sku=p.sku, name=p.name, product=p, quantity=6 + 6 * ((n + i) % 3),
                                       unit_price=p.unit_price) for i, p in enumerate(products[n % 4:n % 4 + 3])])
        order.total = sum(line.amount for line in order.lines)
        db.session.add(order)
        db.session.flush()
        db.session.add(OrderTransition(order=order, from_status="", to_status=S.SUBMITTED, actor_id=store.owner_rep_id,
                                       at=placed, detail={}))
        if status in (S.CONFIRMED, S.DELIVERED, S.PARTLY_DELIVERED):
            ops.confirm(order, staff)
        if status in (S.DELIVERED, S.PARTLY_DELIVERED):
            ops.deliver(order, staff, {line.id: str(line.quantity - (2 if status == S.PARTLY_DELIVERED and i == 0
                                                                     else 0)) for i, line in enumerate(order.lines)})
        if status == S.CANCELLED:
            ops.cancel(order, staff, "门店暂停进货")
    return {"dealer_orders": min(ORDERS, len(plan))}
