"""Every GET route answers every role with a page or its fragment — never a 5xx.

Walks app.url_map: each GET route, for each role, as a plain request and as an htmx one
(`HX-Request: true`, where web.render answers with the page's block alone). Routes that name a
record get one made here; the stored photo files are not written (factories.make_photo), so the
routes that stream them are left out."""
from datetime import timedelta

import pytest

from field.alerts.evaluate import evaluate
from field.core import company_today
from field.targets.operations import set_region_target
from field.dealers.models import Dealer
from field.extensions import db
from tests.conftest import login
from tests.factories import make_claim, make_photo, make_product, make_store, make_visit, promo_visit, running, vtype

pytestmark = pytest.mark.usefixtures("builtin_types")

FILES = {"photos.display", "photos.thumb", "photos.original", "static"}
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
    dealer = Dealer(code="D1", name="经销商", region=org.east, tier="", active=True)  # issue 17
    db.session.add(dealer)
    db.session.commit()
    ids = {"dealer_id": dealer.id, "alert_id": alert.id, "target_id": target.id, "store_id": store.id, "product_id": product.id, "activity_id": activity.id, "line_id": line.id,
           "period_index": 1, "claim_id": claim.id, "visit_id": visit.id, "photo_id": photo.id,
           "region_id": org.east.id, "user_id": org.rep.id, "rep_id": org.rep.id, "fmt": "csv"}
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


@pytest.mark.parametrize("role", ["rep", "supervisor", "manager", "admin", None])
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
