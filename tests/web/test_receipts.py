"""Stand-alone travel receipts over HTTP (issue 16): a rep adds one with its photo, kind, amount and day through
the photo pipeline (client id, idempotent, bad files refused with nothing stored, the outbox's JSON), a travel
claim of the period takes it, another rep's receipt is a 404 everywhere, a receipt is voided (never deleted)
with an audit line, and not while a live claim holds it."""
import io
import uuid
from datetime import datetime, timezone

import pytest
from flask import current_app
from sqlalchemy import select

from field.audit import AuditEvent
from field.claims.models import ExpenseReceipt, TravelClaim, TravelClaimReceipt
from field.core import set_clock
from field.extensions import db
from field.photos.models import OwnPhoto
from tests.conftest import login
from tests.factories import count_rows, make_expense_receipt, stored_files
from tests.fixtures import photos as samples

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)  # 16:00 in Shanghai
DAY = "2026-12-07"
REPLAY = {"X-Field-Replay": "1"}
JSON = {"Accept": "application/json"}


@pytest.fixture(autouse=True)
def clock():
    set_clock(lambda: NOW)
    yield
    set_clock(None)


def receipt_form(data: bytes | None = None, client_id=None, **extra) -> dict:
    out = {"client_id": client_id or str(uuid.uuid4()), "kind": "parking", "amount": "15.50", "spent_on": DAY,
           "note": "停车场", "lat": "31.230400", "lng": "121.473700", "accuracy": "9"}
    if data is not None:
        out["file"] = (io.BytesIO(data), "receipt.jpg")
    out.update(extra)
    return out


def add(client, data=None, headers=None, **extra):
    data = samples.jpeg(11) if data is None else data
    return client.post("/travel-receipts/new", data=receipt_form(data, **extra), headers=headers or {},
                       content_type="multipart/form-data")


def test_a_rep_adds_a_receipt_with_its_photo_and_sees_it(client, org):
    login(client, org.rep)
    assert 'name="file"' in client.get("/travel-receipts/new").get_data(as_text=True)
    r = add(client)
    assert r.status_code == 303
    receipt = db.session.execute(select(ExpenseReceipt)).scalar_one()
    assert (receipt.rep_id, receipt.kind, receipt.amount, receipt.spent_on.isoformat()) == (org.rep.id, "parking",
                                                                                            1550, DAY)
    photo = receipt.photo
    assert (photo.purpose, photo.rep_id, photo.phone_lat) == ("receipt", org.rep.id, 31.2304)
    # Durable before acknowledged: original, display and thumbnail are all on disk.
    files = stored_files()
    assert {photo.original_key, photo.display_key, photo.thumb_key} <= files
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "15.50" in page and "停车场" in page
    assert client.get(f"/own-photos/{photo.id}/thumb.jpg").status_code == 200
    assert client.get(f"/own-photos/{photo.id}/display.jpg").headers["Content-Type"] == "image/jpeg"
    assert f"/travel-receipts/{receipt.id}" in client.get("/travel-receipts").get_data(as_text=True)
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "receipt.add")).scalar_one()


def test_the_same_client_id_again_is_the_same_receipt_and_other_bytes_are_refused(client, org):
    login(client, org.rep)
    key = str(uuid.uuid4())
    assert add(client, client_id=key, headers=REPLAY).status_code == 303   # the outbox follows it
    assert add(client, client_id=key, headers=REPLAY).status_code == 303   # sent again: the same receipt
    again = add(client, client_id=key, headers=JSON)
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert count_rows(ExpenseReceipt) == 1 and count_rows(OwnPhoto) == 1
    other = add(client, samples.jpeg(12), client_id=key, headers=REPLAY)
    assert other.status_code == 409 and count_rows(ExpenseReceipt) == 1


@pytest.mark.parametrize("field, value, words", [
    ("amount", "-5", "negative"),
    ("amount", "12.345", "decimal"),
    ("amount", "0", "more than zero"),
    ("amount", "abc", ""),
    ("kind", "lunch", "what the receipt is for"),
    ("spent_on", "2026-12-08", "future"),
    ("spent_on", "yesterday", "date"),
])
def test_bad_input_is_refused_with_nothing_stored(client, org, field, value, words):
    login(client, org.rep)
    before = stored_files()
    r = add(client, **{field: value})
    assert r.status_code == 422
    assert words.lower() in r.get_data(as_text=True).lower()
    assert count_rows(ExpenseReceipt) == 0 and count_rows(OwnPhoto) == 0 and stored_files() == before


@pytest.mark.parametrize("data, status", [(b"", 422), (b"not a picture at all" * 10, 415), (None, 422)])
def test_a_bad_or_missing_file_is_refused_with_nothing_stored(client, org, data, status):
    login(client, org.rep)
    before = stored_files()
    form = receipt_form(data)
    r = client.post("/travel-receipts/new", data=form, headers=REPLAY, content_type="multipart/form-data")
    assert 400 <= r.status_code < 500 and r.get_json()["error"]
    assert count_rows(ExpenseReceipt) == 0 and count_rows(OwnPhoto) == 0 and stored_files() == before


def test_an_oversized_file_is_refused_413(client, org):
    current_app.config["PHOTO_MAX_BYTES"] = 1000
    try:
        login(client, org.rep)
        r = add(client, headers=REPLAY)
        assert r.status_code == 413 and count_rows(OwnPhoto) == 0
    finally:
        current_app.config.pop("PHOTO_MAX_BYTES")


def test_the_same_picture_twice_is_one_receipt(client, org):
    login(client, org.rep)
    assert add(client).status_code == 303
    r = add(client)  # a new client id, the very same bytes
    assert r.status_code == 409 and count_rows(ExpenseReceipt) == 1


def test_only_reps_add_receipts_and_csrf_is_required(client, org):
    login(client, org.supervisor)
    assert client.get("/travel-receipts/new").status_code == 403
    assert add(client).status_code == 403
    login(client, org.rep)
    r = client.post("/travel-receipts/new", data=receipt_form(samples.jpeg(11)), csrf=False,
                    content_type="multipart/form-data")
    assert r.status_code == 400 and count_rows(ExpenseReceipt) == 0


def test_another_reps_receipt_is_404_everywhere(client, org):
    theirs = make_expense_receipt(org.teammate)
    login(client, org.rep)
    assert client.get(f"/travel-receipts/{theirs.id}").status_code == 404
    assert client.get(f"/own-photos/{theirs.photo_id}/thumb.jpg").status_code == 404
    assert client.get(f"/own-photos/{theirs.photo_id}/original").status_code == 404
    assert client.post(f"/travel-receipts/{theirs.id}/void", data={"reason": "x"}).status_code == 404
    assert f"/travel-receipts/{theirs.id}\"" not in client.get("/travel-receipts").get_data(as_text=True)
    # Another team's supervisor neither; the rep's own supervisor and manager do.
    login(client, org.west_supervisor)
    assert client.get(f"/travel-receipts/{theirs.id}").status_code == 404
    login(client, org.supervisor)
    assert client.get(f"/travel-receipts/{theirs.id}").status_code == 200


def test_a_claim_takes_the_periods_receipts_and_not_another_reps(client, org):
    mine = make_expense_receipt(org.rep, amount=1550)
    voided = make_expense_receipt(org.rep, amount=900, voided=True)
    theirs = make_expense_receipt(org.teammate, amount=700)
    login(client, org.rep)
    page = client.get(f"/travel-claims/new?start={DAY}&end={DAY}").get_data(as_text=True)
    assert f'name="expense_receipt" value="{mine.id}"' in page
    assert f'value="{voided.id}"' not in page and f'value="{theirs.id}"' not in page
    form = {"start": DAY, "end": DAY, "vehicle": "car", "km": "0", "note": ""}
    refused = client.post("/travel-claims/new", data={**form, "expense_receipt": [str(mine.id), str(theirs.id)]})
    assert refused.status_code == 422 and count_rows(TravelClaim) == 0 and count_rows(TravelClaimReceipt) == 0
    refused = client.post("/travel-claims/new", data={**form, "expense_receipt": str(voided.id)})
    assert refused.status_code == 422 and count_rows(TravelClaim) == 0
    assert client.post("/travel-claims/new", data={**form, "expense_receipt": str(mine.id)}).status_code == 303
    claim = db.session.execute(select(TravelClaim)).scalar_one()
    assert (claim.receipts_amount, claim.amount) == (1550, 1550)
    assert f"/travel-receipts/{mine.id}" in client.get(f"/travel-claims/{claim.id}").get_data(as_text=True)
    # On a live claim it is offered to no other claim, and it is not voided.
    assert f'value="{mine.id}"' not in client.get(f"/travel-claims/new?start={DAY}&end={DAY}").get_data(as_text=True)
    r = client.post(f"/travel-receipts/{mine.id}/void", data={"reason": "wrong"})
    assert r.status_code == 409 and db.session.get(ExpenseReceipt, mine.id).voided_at is None
    # The supervisor sees the receipt on the claim; a rejected claim frees it.
    login(client, org.supervisor)
    assert client.get(f"/travel-receipts/{mine.id}").status_code == 200
    assert client.post(f"/travel-claims/{claim.id}/reject", data={"reason": "redo"}).status_code == 303
    login(client, org.rep)
    assert f'value="{mine.id}"' in client.get(f"/travel-claims/new?start={DAY}&end={DAY}").get_data(as_text=True)


def test_a_receipt_is_voided_with_a_reason_never_deleted(client, org):
    receipt = make_expense_receipt(org.rep)
    login(client, org.rep)
    assert client.post(f"/travel-receipts/{receipt.id}/void", data={"reason": ""}).status_code == 422
    assert client.post(f"/travel-receipts/{receipt.id}/void", data={"reason": "wrong amount"},
                       csrf=False).status_code == 400
    assert db.session.get(ExpenseReceipt, receipt.id).voided_at is None
    assert client.post(f"/travel-receipts/{receipt.id}/void", data={"reason": "wrong amount"}).status_code == 303
    db.session.expire_all()
    row = db.session.get(ExpenseReceipt, receipt.id)
    assert row.voided_at is not None and row.void_reason == "wrong amount" and row.voided_by_id == org.rep.id
    assert "wrong amount" in client.get(f"/travel-receipts/{receipt.id}").get_data(as_text=True)
    assert client.post(f"/travel-receipts/{receipt.id}/void", data={"reason": "again"}).status_code == 409
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "receipt.void")).scalar_one()
    assert event.details["reason"] == "wrong amount"
