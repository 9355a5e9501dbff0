"""The orders pages (field/orders/views.py) and what reps see of their orders: a dealer's staff list and handle
their dealer's orders only; another dealer's order is 404; bad quantities and prices are 422 with nothing
written; every post needs its CSRF token."""
from datetime import date

import pytest
from sqlalchemy import func, select

from field.core import now
from field.extensions import db
from field.orders.models import Order, OrderTransition
from field.sales.models import Sale
from field.visits import operations as ops
from field.visits.models import Visit, VisitStatus
from tests.conftest import login
from tests.factories import make_dealer_user, make_order_dealer, make_product, make_store, vtype

pytestmark = pytest.mark.usefixtures("builtin_types")
HX = {"HX-Request": "true"}


@pytest.fixture
def setup(org):
    dealer = make_order_dealer(org.east, name="East Trading")
    store = make_store(rep=org.rep, region=org.east, name="Corner Shop", dealer_id=dealer.id)
    make_product(sku="COLA", name="Cola 330ml", unit_price=350)
    make_product(sku="TEA", name="Green tea", unit_price=500)
    staff = make_dealer_user(dealer, login="dealer-a")
    other = make_dealer_user(make_order_dealer(org.east, name="Other Trading"), login="dealer-b")
    return dealer, store, staff, other


def take_order(client, rep, store):
    visit = Visit(rep=rep, store=store, visit_type=vtype("order"), planned_for=date.today(),
                  status=VisitStatus.PLANNED, flags=[])
    db.session.add(visit)
    db.session.commit()
    ops.check_in(rep, store, visit.visit_type, position=store.point, accuracy_m=10, position_at=now(), reason="",
                 client_key=None, visit=visit)
    db.session.commit()
    step = next(s for s in visit.visit_type.steps if s.kind == "order_lines")
    login(client, rep)
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"sku": ["COLA", "TEA"], "quantity": ["4", "2"]},
                    headers=HX)
    assert r.status_code == 200, r.data
    return visit, step, r


def order_count():
    return db.session.scalar(select(func.count()).select_from(Order))


def test_the_rep_sees_the_order_sent_and_saving_again_makes_no_second(client, org, setup):
    dealer, store, staff, _ = setup
    visit, step, r = take_order(client, org.rep, store)
    assert "Sent to East Trading: submitted" in r.get_data(as_text=True)
    r = client.post(f"/visits/{visit.id}/steps/{step.id}", data={"sku": ["COLA"], "quantity": ["5"]}, headers=HX)
    assert r.status_code == 200 and order_count() == 1


def test_a_store_whose_dealer_is_inactive_saves_the_step_and_says_the_order_was_not_sent(client, org, setup):
    dealer, store, *_ = setup
    dealer.active = False
    db.session.commit()
    visit, step, r = take_order(client, org.rep, store)
    assert "is inactive: the order was not sent" in r.get_data(as_text=True) and order_count() == 0


def test_a_dealer_lists_confirms_and_delivers_their_order_and_the_rep_sees_it(client, org, setup):
    dealer, store, staff, _ = setup
    take_order(client, org.rep, store)
    order = db.session.execute(select(Order)).scalar_one()
    login(client, staff)
    assert client.get("/").headers["Location"].endswith("/orders")
    page = client.get("/orders?status=submitted").get_data(as_text=True)
    assert "Corner Shop" in page and f'data-order="{order.id}"' in page
    assert client.post(f"/orders/{order.id}/confirm", data={}).status_code == 303
    cola, tea = order.lines
    r = client.post(f"/orders/{order.id}/deliver", data={f"delivered-{cola.id}": "4", f"delivered-{tea.id}": "1"})
    assert r.status_code == 303
    db.session.expire_all()
    assert order.status == "partly_delivered"
    assert db.session.scalar(select(func.sum(Sale.quantity)).where(Sale.source == "order")) == 5
    login(client, org.rep)
    assert "partly delivered 1 of 2 lines" in client.get(f"/stores/{store.id}").get_data(as_text=True)
    following = Visit(rep=org.rep, store=store, visit_type=vtype("routine"), planned_for=date.today(),
                      status=VisitStatus.PLANNED, flags=[])
    db.session.add(following)
    db.session.commit()
    assert "Last order: partly delivered 1 of 2 lines" in client.get(f"/visits/{following.id}").get_data(as_text=True)


def test_bad_deliveries_and_prices_are_422_with_nothing_written(client, org, setup):
    dealer, store, staff, _ = setup
    take_order(client, org.rep, store)
    order = db.session.execute(select(Order)).scalar_one()
    cola, tea = order.lines
    login(client, staff)
    r = client.post(f"/orders/{order.id}/confirm", data={f"price-{cola.id}": "3.505"})
    assert r.status_code == 422 and "3.505" in r.get_data(as_text=True)
    db.session.expire_all()
    assert order.status == "submitted" and cola.unit_price == 350
    client.post(f"/orders/{order.id}/confirm", data={})
    r = client.post(f"/orders/{order.id}/deliver", data={f"delivered-{cola.id}": "9", f"delivered-{tea.id}": "2"})
    assert r.status_code == 422 and "At most 4 were ordered." in r.get_data(as_text=True)
    db.session.expire_all()
    assert order.status == "confirmed" and cola.delivered_quantity is None
    assert db.session.scalar(select(func.count()).select_from(Sale)) == 0
    assert db.session.scalar(select(func.count()).select_from(OrderTransition)) == 2


def test_another_dealers_staff_get_404_and_a_rep_403(client, org, setup):
    dealer, store, staff, other = setup
    take_order(client, org.rep, store)
    order = db.session.execute(select(Order)).scalar_one()
    login(client, other)
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert client.post(f"/orders/{order.id}/confirm", data={}).status_code == 404
    assert client.get(f"/stores/{store.id}").status_code == 404
    assert "Corner Shop" not in client.get("/orders").get_data(as_text=True)
    login(client, org.rep)
    assert client.post(f"/orders/{order.id}/confirm", data={}).status_code == 403
    login(client, org.west_supervisor)
    assert client.get(f"/orders/{order.id}").status_code == 404
    db.session.expire_all()
    assert order.status == "submitted"


def test_posts_without_csrf_are_400(client, org, setup):
    dealer, store, staff, _ = setup
    take_order(client, org.rep, store)
    order = db.session.execute(select(Order)).scalar_one()
    login(client, staff)
    for action in ("confirm", "deliver", "cancel"):
        assert client.post(f"/orders/{order.id}/{action}", data={}, csrf=False).status_code == 400


def test_the_dealer_cancels_with_a_reason(client, org, setup):
    dealer, store, staff, _ = setup
    take_order(client, org.rep, store)
    order = db.session.execute(select(Order)).scalar_one()
    login(client, staff)
    assert client.post(f"/orders/{order.id}/cancel", data={"reason": ""}).status_code == 422
    assert client.post(f"/orders/{order.id}/cancel", data={"reason": "out of stock"}).status_code == 303
    db.session.expire_all()
    assert order.status == "cancelled"


def test_an_admin_makes_a_dealer_user_bound_to_a_dealer(client, org, setup):
    from field.auth.models import User
    dealer = setup[0]
    login(client, org.admin)
    base = {"login": "dealer9", "name": "Dealer Nine", "role": "dealer", "password": "field-demo",
            "supervisor": "", "dealer": "", "locale": "en", "regions": [str(org.east.id)]}
    r = client.post("/users/new", data=base)
    assert r.status_code == 422, r.get_data(as_text=True)[-3000:]
    assert "needs a dealer" in r.get_data(as_text=True), r.get_data(as_text=True)[1500:5000]
    assert client.post("/users/new", data={**base, "dealer": str(dealer.id)}).status_code in (302, 303)
    user = db.session.execute(select(User).where(User.login == "dealer9")).scalar_one()
    assert user.dealer_id == dealer.id


def test_a_dealers_staff_have_three_tabs_and_land_on_their_orders(client, org, setup):
    staff = setup[2]
    from tests.factories import PASSWORD
    r = client.post("/login", data={"login": staff.login, "password": PASSWORD})
    assert r.status_code in (302, 303) and r.headers["Location"].endswith("/orders")
    page = client.get("/orders").get_data(as_text=True)
    assert [t for t in ("Orders", "Stores", "Me", "Today", "Activities") if f'tab-label">{t}<' in page] == \
        ["Orders", "Stores", "Me"]
    assert client.post("/visits/1/cancel", data={"reason": "x"}).status_code == 403
