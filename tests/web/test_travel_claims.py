"""Travel-expense claims over HTTP: filed for a period (kilometres × the vehicle's rate + receipts from the rep's
own photos), claimed / computed / difference side by side, approved by the supervisor through the ONE ledger
(category travel, in the finance export), reversed by a line, never edited; bad input refused, nothing written."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from field.claims.models import LedgerIsAppendOnly, LedgerLine, TravelClaim, TravelReceipt
from field.core import set_clock
from field.extensions import db
from field.geo import Point
from tests.conftest import login
from tests.factories import count_rows, make_photo, make_store, make_visit, promo_visit

pytestmark = pytest.mark.usefixtures("builtin_types")

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)  # 16:00 in Shanghai
DAY = "2026-12-07"


@pytest.fixture(autouse=True)
def clock():
    set_clock(lambda: NOW)
    yield
    set_clock(None)


@pytest.fixture
def day_with_mileage(client, org):
    """The rep started at one point, visited a store 1.1 km north, and a photo to use as a receipt."""
    login(client, org.rep)
    client.post("/workday/start", data={"client_id": str(uuid.uuid4()), "lat": "31.2304", "lng": "121.4737"})
    store = make_store(rep=org.rep, region=org.east, lat=31.2404, lng=121.4737)
    make_visit(org.rep, store, at=NOW - timedelta(hours=3), minutes=30, point=Point(31.2404, 121.4737))
    visit, step = promo_visit(org.rep, store)
    return make_photo(visit, step)


def file(client, **data):
    form = {"start": DAY, "end": DAY, "vehicle": "car", "km": "12.5", "note": ""}
    form.update(data)
    return client.post("/travel-claims/new", data=form)


def test_rep_files_supervisor_approves_through_the_ledger(client, org, day_with_mileage):
    photo = day_with_mileage
    page = client.get(f"/travel-claims/new?start={DAY}&end={DAY}").get_data(as_text=True)
    assert "add up to 1.1" in page and f'value="{photo.id}"' in page
    r = file(client, receipt=str(photo.id), **{f"kind-{photo.id}": "parking", f"amount-{photo.id}": "15.50"})
    assert r.status_code == 303
    claim = db.session.execute(select(TravelClaim)).scalar_one()
    # 12.5 km × ¥0.80 = ¥10.00, plus ¥15.50 parking
    assert (claim.mileage_amount, claim.receipts_amount, claim.amount) == (1000, 1550, 2550)
    assert 1100 < claim.computed_m < 1120 and str(claim.difference_km) == "11.4"
    shown = client.get(f"/travel-claims/{claim.id}").get_data(as_text=True)
    assert "12.5 km" in shown and "1.1 km" in shown and "+11.4 km" in shown and "Approve" not in shown

    login(client, org.supervisor)
    assert "Approve and pay" in client.get(f"/travel-claims/{claim.id}").get_data(as_text=True)
    assert client.post(f"/travel-claims/{claim.id}/approve", data={"reason": ""}).status_code == 303
    line = db.session.execute(select(LedgerLine)).scalar_one()
    assert (line.category, line.amount, line.travel_claim_id, line.claim_id) == ("travel", 2550, claim.id, None)
    again = client.post(f"/travel-claims/{claim.id}/approve", data={})
    assert again.status_code == 409 and count_rows(LedgerLine) == 1

    login(client, org.manager)
    csv = client.get("/ledger/export.csv").get_data(as_text=True)
    assert claim.code in csv and "travel" in csv and "25.50" in csv
    assert claim.code in client.get("/ledger").get_data(as_text=True)

    login(client, org.supervisor)
    assert client.post(f"/travel-claims/{claim.id}/reverse", data={"reason": ""}).status_code == 422
    assert client.post(f"/travel-claims/{claim.id}/reverse", data={"reason": "double"}).status_code == 303
    amounts = db.session.execute(select(LedgerLine.amount).order_by(LedgerLine.id)).scalars().all()
    assert amounts == [2550, -2550]
    db.session.expire_all()
    assert db.session.get(TravelClaim, claim.id).status == "reversed"


def test_the_ledger_stays_append_only_for_travel_lines(client, org, day_with_mileage):
    file(client)
    claim = db.session.execute(select(TravelClaim)).scalar_one()
    login(client, org.supervisor)
    client.post(f"/travel-claims/{claim.id}/approve", data={})
    line = db.session.execute(select(LedgerLine)).scalar_one()
    line.amount = 1
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(Exception):
        db.session.execute(text("UPDATE ledger_lines SET amount = 1"))
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("data, message", [
    ({"km": "-3"}, "cannot be negative"),
    ({"km": "12.55"}, "at most one decimal"),
    ({"km": "abc"}, "at most one decimal"),
    ({"vehicle": "rocket"}, "Choose a vehicle"),
    ({"start": "2026-12-08", "end": "2026-12-08"}, "cannot end in the future"),
    ({"start": "2026-12-07", "end": "2026-12-01"}, "ends before it starts"),
    ({"start": "2026-10-01", "end": "2026-12-07"}, "At most 31 days"),
])
def test_bad_claims_are_refused_and_nothing_is_written(client, org, day_with_mileage, data, message):
    r = file(client, **data)
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert count_rows(TravelClaim) == 0 and count_rows(TravelReceipt) == 0


def test_receipt_amounts_and_ownership(client, org, day_with_mileage):
    photo = day_with_mileage
    for amount, message in (("-5", "negative"), ("1.234", "two decimals"), ("0", "more than zero")):
        r = file(client, receipt=str(photo.id), **{f"kind-{photo.id}": "toll", f"amount-{photo.id}": amount})
        assert r.status_code == 422 and count_rows(TravelClaim) == 0, amount
    visit, step = promo_visit(org.teammate, make_store(rep=org.teammate, region=org.east))
    theirs = make_photo(visit, step)
    r = file(client, receipt=str(theirs.id), **{f"kind-{theirs.id}": "toll", f"amount-{theirs.id}": "5"})
    assert r.status_code == 422 and "your own photos" in r.get_data(as_text=True)
    assert count_rows(TravelClaim) == 0 and count_rows(TravelReceipt) == 0


def test_an_overlapping_claim_is_refused(client, org, day_with_mileage):
    assert file(client).status_code == 303
    r = file(client)
    assert r.status_code == 409 and "already covers" in r.get_data(as_text=True) and count_rows(TravelClaim) == 1


def test_scope_and_who_decides(client, org, day_with_mileage):
    file(client)
    claim = db.session.execute(select(TravelClaim)).scalar_one()
    assert client.post(f"/travel-claims/{claim.id}/approve", data={}).status_code == 403  # the rep: not theirs to decide
    login(client, org.west_supervisor)
    assert client.get(f"/travel-claims/{claim.id}").status_code == 404
    assert client.post(f"/travel-claims/{claim.id}/approve", data={}).status_code == 404
    login(client, org.teammate)
    assert client.get(f"/travel-claims/{claim.id}").status_code == 404
    assert claim.code not in client.get("/travel-claims").get_data(as_text=True)
    login(client, org.supervisor)
    assert client.post(f"/travel-claims/{claim.id}/approve", data={}, csrf=False).status_code == 400
    assert client.post(f"/travel-claims/{claim.id}/reject", data={"reason": ""}).status_code == 422
    assert client.post(f"/travel-claims/{claim.id}/reject", data={"reason": "no"}).status_code == 303
    assert count_rows(LedgerLine) == 0
    assert client.get("/travel-claims/new").status_code == 403
    login(client, org.rep)
    assert client.post("/travel-claims/new", data={"start": DAY, "end": DAY, "vehicle": "car", "km": "1"},
                       csrf=False).status_code == 400
