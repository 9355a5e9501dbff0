"""Orders to dealers: made once from a visit's order step, moved through their statuses by the dealer's staff,
delivered quantities checked, sales made once from what was delivered (field/orders/operations.py)."""
import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from field.audit import AuditEvent
from field.core import Conflict, DomainError, now
from field.extensions import db
from field.orders import operations as orders
from field.orders.models import Order, OrderStatus as S, OrderTransition
from field.permissions import NotAllowed
from field.sales.models import Sale
from field.visits import operations as ops
from tests.factories import make_dealer_user, make_order_dealer, make_product, make_store, vtype

pytestmark = pytest.mark.usefixtures("request_ctx")


@pytest.fixture
def shop(org):
    dealer = make_order_dealer(org.east, name="East Trading")
    store = make_store(rep=org.rep, region=org.east, dealer_id=dealer.id)
    make_product(sku="COLA", unit_price=350)
    make_product(sku="TEA", unit_price=500)
    return store


def take_order(rep, store, lines=(("COLA", "4"), ("TEA", "2"))):
    visit = ops.check_in(rep, store, vtype("order"), position=store.point, accuracy_m=10, position_at=now(),
                         reason="", client_key=None)
    step = next(s for s in visit.visit_type.steps if s.kind == "order_lines")
    form = MultiDict([item for pair in zip([("sku", s) for s, _ in lines], [("quantity", q) for _, q in lines])
                      for item in pair])
    ops.save_step(visit, step.id, form, rep)
    db.session.flush()
    return visit, step


def the_order(visit) -> Order:
    return db.session.execute(select(Order).where(Order.visit_id == visit.id)).scalar_one()


def test_an_order_step_becomes_one_order_for_the_stores_dealer_even_saved_twice(org, shop):
    visit, step = take_order(org.rep, shop)
    ops.save_step(visit, step.id, MultiDict([("sku", "COLA"), ("quantity", "6")]), org.rep)
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.visit_id == visit.id)) == 1
    order = the_order(visit)
    assert order.dealer_id == shop.dealer_id and order.status == S.SUBMITTED
    assert [(line.sku, line.quantity) for line in order.lines] == [("COLA", 6)]
    assert order.total == 6 * 350


def test_a_store_without_an_active_dealer_gets_no_order_but_the_step_saves(org, shop):
    shop.dealer_record.active = False
    visit, step = take_order(org.rep, shop)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    assert orders.not_sent_reason(shop).startswith("The store's dealer East Trading is inactive")
    assert visit.results[0].value["lines"]


def test_the_dealer_confirms_and_delivers_in_full_or_in_part(org, shop):
    staff = make_dealer_user(shop.dealer_record)
    visit, _ = take_order(org.rep, shop)
    order = the_order(visit)
    with pytest.raises(Conflict):
        orders.deliver(order, staff, {line.id: "1" for line in order.lines})   # not confirmed yet
    orders.confirm(order, staff)
    assert order.status == S.CONFIRMED
    cola, tea = order.lines
    orders.deliver(order, staff, {cola.id: "4", tea.id: "1"})
    assert order.status == S.PARTLY_DELIVERED
    assert orders.summary_text(order) == "partly delivered 1 of 2 lines"
    moves = [(t.from_status, t.to_status) for t in db.session.execute(
        select(OrderTransition).where(OrderTransition.order_id == order.id).order_by(OrderTransition.id)).scalars()]
    assert moves == [("", "submitted"), ("submitted", "confirmed"), ("confirmed", "partly_delivered")]
    actions = set(db.session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "orders")).scalars())
    assert {"order.submitted", "order.confirmed", "order.partly_delivered"} <= actions
    with pytest.raises(Conflict):
        orders.cancel(order, staff, "too late")                                  # delivered is final


def test_delivered_quantities_above_ordered_negative_or_all_zero_are_refused(org, shop):
    staff = make_dealer_user(shop.dealer_record)
    order = the_order(take_order(org.rep, shop)[0])
    orders.confirm(order, staff)
    cola, tea = order.lines
    for raw, key in (({cola.id: "5", tea.id: "2"}, f"delivered-{cola.id}"),
                     ({cola.id: "-1", tea.id: "2"}, f"delivered-{cola.id}"),
                     ({cola.id: "4", tea.id: "x"}, f"delivered-{tea.id}"),
                     ({cola.id: "0", tea.id: "0"}, "delivered")):
        with pytest.raises(orders.OrderInvalid) as refused:
            orders.parse_delivered(order, raw)
        assert key in refused.value.errors
    assert "At most 4 were ordered." in str(pytest.raises(orders.OrderInvalid, orders.deliver, order, staff,
                                                          {cola.id: "5", tea.id: "2"}).value)
    assert order.status == S.CONFIRMED


def test_prices_with_more_than_two_decimals_are_refused_and_agreed_prices_kept(org, shop):
    staff = make_dealer_user(shop.dealer_record)
    order = the_order(take_order(org.rep, shop)[0])
    cola, tea = order.lines
    with pytest.raises(orders.OrderInvalid) as refused:
        orders.confirm(order, staff, {cola.id: "3.505"})
    assert f"price-{cola.id}" in refused.value.errors
    orders.confirm(order, staff, {cola.id: "3.20"})
    assert cola.unit_price == 320 and order.total == 4 * 320 + 2 * 500


def test_another_dealers_staff_and_the_rep_cannot_confirm(org, shop):
    other = make_dealer_user(make_order_dealer(org.east))
    order = the_order(take_order(org.rep, shop)[0])
    for user in (other, org.rep, org.manager):
        with pytest.raises(NotAllowed):
            orders.confirm(order, user)


def test_delivered_orders_are_sales_once_and_the_check_out_adds_none_for_them(org, shop):
    staff = make_dealer_user(shop.dealer_record)
    visit, step = take_order(org.rep, shop)
    for s in visit.visit_type.steps:
        if s.required and s.id != step.id:
            ops.skip_step(visit, s.id, "not today", org.rep)
    ops.check_out(visit, org.rep, position=shop.point, accuracy_m=10, position_at=now())
    assert db.session.scalar(select(func.count()).select_from(Sale)) == 0
    order = the_order(visit)
    orders.confirm(order, staff)
    cola, tea = order.lines
    orders.deliver(order, staff, {cola.id: "3", tea.id: "2"})
    db.session.flush()
    sales = db.session.execute(select(Sale.source, Sale.quantity, Sale.amount).order_by(Sale.id)).all()
    assert sales == [("order", 3, 3 * 350), ("order", 2, 2 * 500)]
    with pytest.raises(Conflict):
        orders.deliver(order, staff, {cola.id: "4", tea.id: "2"})               # a second delivery: refused


def test_a_store_without_a_dealer_keeps_its_visit_sales_at_check_out(org):
    store = make_store(rep=org.rep, region=org.east)
    make_product(sku="COLA", unit_price=350)
    visit, step = take_order(org.rep, store, lines=(("COLA", "2"),))
    for s in visit.visit_type.steps:
        if s.required and s.id != step.id:
            ops.skip_step(visit, s.id, "not today", org.rep)
    ops.check_out(visit, org.rep, position=store.point, accuracy_m=10, position_at=now())
    assert db.session.execute(select(Sale.source, Sale.quantity)).all() == [("visit", 2)]


def test_an_order_confirmed_by_the_dealer_cannot_be_changed_from_the_visit(org, shop):
    staff = make_dealer_user(shop.dealer_record)
    visit, step = take_order(org.rep, shop)
    orders.confirm(the_order(visit), staff)
    with pytest.raises(DomainError):
        ops.save_step(visit, step.id, MultiDict([("sku", "COLA"), ("quantity", "9")]), org.rep)


def test_the_summary_counts_a_dealers_orders_by_status(org, shop):
    staff = make_dealer_user(shop.dealer_record)
    order = the_order(take_order(org.rep, shop)[0])
    orders.confirm(order, staff)
    from field.orders.hooks import dealer_orders_summary
    summary = dealer_orders_summary(shop.dealer_record)
    assert summary["counts"] == {"confirmed": 1}
    assert summary["recent"][0]["id"] == order.id


def test_a_dealers_staff_reach_their_own_pages_only_and_handle_their_dealers_orders(org, shop):
    from field import permissions
    staff = make_dealer_user(shop.dealer_record)
    assert permissions.may_see_orders(staff) and permissions.may_reach(staff, "orders.index")
    assert permissions.may_reach(staff, "stores.detail") and not permissions.may_reach(staff, "visits.today")
    assert permissions.may_reach(org.rep, "visits.today")
    order = the_order(take_order(org.rep, shop)[0])
    assert permissions.may_handle_order(staff, order)
    assert not permissions.may_handle_order(make_dealer_user(make_order_dealer(org.east)), order)
    assert permissions.may_cancel_order(org.rep, order) and not permissions.may_cancel_order(org.teammate, order)
    for user in (org.supervisor, org.manager, org.admin):
        assert not permissions.may_handle_order(user, order)


def test_a_dealers_staff_see_their_dealers_stores_and_orders_and_nothing_else(org, shop):
    from field import scope
    from field.stores.models import Store
    from field.visits.models import FollowUp, Visit
    staff = make_dealer_user(shop.dealer_record)
    visit, _ = take_order(org.rep, shop)
    other_store = make_store(rep=org.rep, region=org.east)
    ops.add_follow_up(visit, "Bring the new flavours", org.rep.id, None, org.rep)
    db.session.flush()
    assert db.session.execute(scope.stores(staff)).scalars().all() == [shop]
    assert [o.store_id for o in db.session.execute(scope.orders(staff)).scalars()] == [shop.id]
    for stmt in (scope.visits(staff), scope.sales(staff), scope.follow_ups(staff), scope.photos(staff),
                 scope.claims(staff), scope.activities(staff), scope.regions(staff)):
        assert db.session.execute(stmt).scalars().all() == []
    assert db.session.execute(scope.users(staff)).scalars().all() == [staff]
    assert db.session.execute(scope.follow_ups(org.rep).where(FollowUp.visit_id == visit.id)).scalars().all()
    assert other_store.id not in {s.id for s in db.session.execute(scope.stores(staff)).scalars()}
    unbound = make_dealer_user(shop.dealer_record)
    unbound.dealer_id = None
    assert db.session.execute(scope.stores(unbound)).scalars().all() == []
    assert db.session.execute(scope.query(Visit, org.rep)).scalars().all() and Store
