"""Every GET route answers every role with a page or its fragment — never a 5xx.

Walks app.url_map: each GET route, for each role, as a plain request and as an htmx one
(`HX-Request: true`, where web.render answers with the page's block alone). Routes that name a
record get one made here; the stored photo files are not written (factories.make_photo), so the
routes that stream them are left out."""
from datetime import timedelta

import pytest

from field.alerts.evaluate import evaluate
from field.claims.models import TravelClaim
from field.core import company_today
from field.targets.operations import set_region_target
from field.dealers.models import Dealer
from field.extensions import db
from field.incentives.models import IncentiveTask
from tests.conftest import login
from tests.factories import make_claim, make_dealer_user, make_expense_receipt, make_order_dealer, make_photo, make_product, make_store, \
    make_visit, promo_visit, running, vtype

pytestmark = pytest.mark.usefixtures("builtin_types")

FILES = {"photos.display", "photos.thumb", "photos.original", "photos.own_display", "photos.own_thumb",
         "photos.own_original", "static"}
"""Routes that stream a stored file (none is written here) or a static file."""


@pytest.fixture
def records(org):
    store = make_store(rep=org.rep, region=org.east)
    product = make_product()
    activity = running(org.manager, [store])
    line = activity.stores[0]
    claim = make_claim(line, org.rep)
    visit, step = promo_visit(org.rep, store)
    photo = make_photo(visit, step)
    make_visit(org.rep, planned_for=company_today() - timedelta(days=1))
    alert = next(a for a in evaluate(org.east).opened if a.rule == "missed_visits")
    target = set_region_target(org.manager, org.east, company_today().replace(day=1), 100000)
    incentive_task = IncentiveTask(name="路线", kind="route_days", points=10, target=1, region=org.east,
                                   period_start=company_today(), period_end=company_today(), created_by=org.manager)
    db.session.add(incentive_task)
    # A dealer's staff member whose dealer supplies no store of these records (field/orders).
    org.dealer = make_dealer_user(make_order_dealer(org.east))
    order = make_order(org.rep, store, make_order_dealer(org.east))
    travel_claim = TravelClaim(rep_id=org.rep.id, period_start=company_today(), period_end=company_today(),
                               vehicle="car", rate=80, claimed_km=10, computed_m=0, mileage_amount=800,
                               receipts_amount=0, amount=800)
    db.session.add(travel_claim)
    receipt = make_expense_receipt(org.rep)
    dealer = Dealer(code="D1", name="经销商", region=org.east, tier="", active=True)  # issue 17
    db.session.add(dealer)
    db.session.commit()
    ids = {"dealer_id": dealer.id, "task_id": incentive_task.id, "alert_id": alert.id, "target_id": target.id, "store_id": store.id, "product_id": product.id, "activity_id": activity.id, "line_id": line.id,
           "period_index": 1, "claim_id": claim.id, "visit_id": visit.id, "photo_id": photo.id,
           "region_id": org.east.id, "user_id": org.rep.id, "rep_id": org.rep.id, "fmt": "csv",
           "order_id": order.id, "travel_claim_id": travel_claim.id, "receipt_id": receipt.id}
    by_endpoint = {"activities.edit_type": {"type_id": activity.type_id},
                   "visits.type": {"type_id": vtype("routine").id}}
    return ids, by_endpoint


def get_urls(app, ids, by_endpoint):
    urls = []
    with app.test_request_context():
        from flask import url_for
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in FILES:
                continue
            values = {name: by_endpoint.get(rule.endpoint, {}).get(name, ids.get(name)) for name in rule.arguments}
            if any(v is None for v in values.values()):
                raise AssertionError(f"{rule.rule}: no record for {values}: make one in the `records` fixture")
            urls.append(url_for(rule.endpoint, **values))
    return urls


def make_order(rep, store, dealer):
    from field.orders.models import Order, OrderLine
    store.dealer_id = dealer.id
    order = Order(dealer_id=dealer.id, store=store, rep_id=rep.id, total=700,
                  lines=[OrderLine(line_no=0, sku="X", quantity=2, unit_price=350)])
    db.session.add(order)
    return order


DEALER_OPEN = ("/", "/login", "/profile", "/stores", "/orders", "/offline", "/sw.js", "/manifest.webmanifest",
               "/favicon.ico", "/notifications")
"""The pages a dealer's staff member opens (or is sent on from); every other GET route answers them 403 or 404."""


def test_a_dealer_user_gets_403_or_404_from_every_route_but_their_own_pages(app, client, org, records):
    login(client, org.dealer)
    opened = []
    for url in get_urls(app, *records):
        response = client.get(url)
        if response.status_code not in (403, 404):
            opened.append((url, response.status_code))
    assert sorted(opened) == sorted((u, c) for u, c in opened if u.split("?")[0] in DEALER_OPEN), opened
    # ...and the store and order of another dealer are 404 (the records above belong to another dealer).
    ids = records[0]
    assert client.get(f"/stores/{ids['store_id']}").status_code == 404
    assert client.get(f"/orders/{ids['order_id']}").status_code == 404


@pytest.mark.parametrize("role", ["rep", "supervisor", "manager", "admin", "dealer", None])
def test_no_get_route_answers_5xx_for_any_role_page_or_fragment(app, client, org, records, role):
    if role is not None:
        login(client, getattr(org, role))
    failures = []
    for url in get_urls(app, *records):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            if response.status_code >= 500:
                failures.append((url, headers, response.status_code))
    assert not failures, failures


@pytest.mark.parametrize("role", ["rep", "supervisor", "manager", "admin"])
def test_home_answers_its_block_to_htmx_for_every_role(client, org, role):
    login(client, getattr(org, role))
    page = client.get("/")
    fragment = client.get("/", headers={"HX-Request": "true"})
    assert page.status_code == fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.strip()
    if role in ("rep", "supervisor"):
        assert 'class="kpis tier-counts"' in body  # the macro renders in the block alone
