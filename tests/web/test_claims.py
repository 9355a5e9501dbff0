"""Claim pages by request: filing (with receipts through the photo pipeline), the approver's
computation and decision, reversal, the ledger and its export — with scope (404) and CSRF."""
import csv
import io
import re
import uuid
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from field.activities.models import ActivityStatus as S, Review, Verdict
from field.claims.models import Claim, ClaimStatus as C, LedgerLine
from field.core import now
from field.extensions import db
from field.photos import ingest
from tests.conftest import login
from tests.factories import make_activity, make_region, make_store, make_type
from tests.fixtures import photos as samples

START = date(2026, 3, 2)


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def fresh(claim) -> Claim:
    db.session.expire_all()
    return db.session.get(Claim, claim.id)


def shoot(rep, store, seed=1):
    """A photo taken by `rep` at `store` on a visit, through the photo pipeline."""
    visit = samples.visit_in_progress(rep, store=store)
    step = next(s for s in visit.visit_type.steps if s.kind == "photo")
    photo, _created = ingest.add_photo(visit, step, ingest.Upload(
        data=samples.jpeg(seed), client_id=str(uuid.uuid4()), phone_point=store.point, accuracy_m=8,
        captured_at=now()), rep)
    return photo


@pytest.fixture
def shops(org):
    return {"east": make_store(rep=org.rep, code="E-1", name="Alpha Mart"),
            "west": make_store(rep=org.west_rep, code="W-1", name="Delta Chengdu")}


@pytest.fixture
def lines(org, shops):
    kind = make_type(name="陈列", floor="60.00")
    east = make_activity(org.rep, [shops["east"]], budget=100_000, kind=kind, status=S.ENDED, start=START,
                         end=START + timedelta(days=34), title="春季陈列")
    west = make_activity(org.west_rep, [shops["west"]], budget=100_000, kind=kind, status=S.ENDED, start=START,
                         end=START + timedelta(days=34), title="west")
    for index in (0, 1, 2, 3):                          # 4 of 5 weekly periods verified: 80 %
        db.session.add(Review(activity_store=east.stores[0], period_index=index, verdict=Verdict.APPROVED,
                              reason="", note="", reviewer=org.supervisor))
    db.session.commit()
    return {"east": east.stores[0], "west": west.stores[0]}


def file_claim(client, line, amount="1500.00", **extra):
    return client.post(f"/activity-stores/{line.id}/claim", data={"amount": amount, "note": "堆头租金", **extra})


# --- filing -----------------------------------------------------------------------------------

def test_a_rep_files_a_claim_with_a_receipt_photo(client, org, shops, lines):
    receipt = shoot(org.rep, shops["east"])
    login(client, org.rep)
    form = client.get(f"/activity-stores/{lines['east'].id}/claim")
    assert form.status_code == 200 and f'value="{receipt.id}"' in form.text
    r = file_claim(client, lines["east"], "1500.00", receipts=[str(receipt.id)])
    assert r.status_code == 303
    claim = db.session.execute(select(Claim)).scalar_one()
    assert (claim.amount, claim.status, claim.note) == (150_000, C.SUBMITTED, "堆头租金")
    assert [p.id for p in claim.receipts] == [receipt.id]
    page = client.get(r.location)
    assert claim.code in page.text and f"/photos/{receipt.id}" in page.text


def test_a_claim_sent_by_htmx_loads_the_claim_as_a_whole_page(client, org, lines):
    # fetch would follow a 303 and swap the claim page into the form; HX-Redirect loads it instead.
    r = login(client, org.rep).post(f"/activity-stores/{lines['east'].id}/claim", headers={"HX-Request": "true"},
                                    data={"amount": "1500.00", "note": "堆头租金"})
    claim = db.session.execute(select(Claim)).scalar_one()
    assert r.status_code == 200 and r.headers["HX-Redirect"] == f"/claims/{claim.id}"
    assert r.text == ""
    assert f"Claim {claim.code} filed" in client.get(f"/claims/{claim.id}").text


@pytest.mark.parametrize("amount, message", [("12.345", "Did you mean 12.34 or 12.35?"), ("-1", "cannot be negative"),
                                             ("abc", "“abc” is not an amount"), ("0", "more than zero"),
                                             ("1,50", "Did you mean 150 or 1.50?"),
                                             ("12,34,5", "“12,34,5”: commas only separate thousands")])
def test_bad_amounts_answer_422_beside_the_field(client, org, lines, amount, message):
    r = file_claim(login(client, org.rep), lines["east"], amount)
    assert r.status_code == 422 and message in r.text and 'aria-invalid="true"' in r.text
    assert count(Claim) == 0


def test_a_receipt_from_another_store_is_refused(client, org, shops, lines):
    elsewhere = shoot(org.rep, make_store(rep=org.rep, code="E-2"))
    r = file_claim(login(client, org.rep), lines["east"], receipts=[str(elsewhere.id)])
    assert r.status_code == 422 and "photos taken at this store" in r.text
    assert count(Claim) == 0


def test_a_claim_on_an_unapproved_activity_is_refused(client, org, shops):
    draft = make_activity(org.rep, [shops["east"]], status=S.SUBMITTED, start=START)
    r = file_claim(login(client, org.rep), draft.stores[0])
    assert r.status_code == 409 and "once it is approved" in r.text
    assert count(Claim) == 0


def test_a_second_live_claim_for_a_store_is_refused(client, org, lines):
    login(client, org.rep)
    file_claim(client, lines["east"])
    r = file_claim(client, lines["east"], "10.00")
    assert r.status_code == 409 and "This store already has claim CLM-" in r.text
    assert count(Claim) == 1


def test_claims_of_another_region_are_not_found(client, org, lines):
    login(client, org.west_rep)
    file_claim(client, lines["west"])
    west_claim = db.session.execute(select(Claim)).scalar_one()
    login(client, org.rep)
    assert client.get(f"/activity-stores/{lines['west'].id}/claim").status_code == 404
    assert file_claim(client, lines["west"]).status_code == 404
    assert client.get(f"/claims/{west_claim.id}").status_code == 404
    login(client, org.manager)
    assert client.get(f"/claims/{west_claim.id}").status_code == 404
    assert client.post(f"/claims/{west_claim.id}/approve", data={"amount": ""}).status_code == 404
    assert client.post(f"/claims/{west_claim.id}/reject", data={"reason": "x"}).status_code == 404
    assert fresh(west_claim).status == C.SUBMITTED and count(LedgerLine) == 0
    assert client.get("/claims/999999999999").status_code == 404


def test_the_list_shows_own_claims_and_the_stores_one_may_claim_for(client, org, lines):
    login(client, org.rep)
    listing = client.get("/claims")
    assert f'data-claimable="{lines["east"].id}"' in listing.text
    assert f'data-claimable="{lines["west"].id}"' not in listing.text
    file_claim(client, lines["east"])
    listing = client.get("/claims")
    assert 'data-claim="' in listing.text and f'data-claimable="{lines["east"].id}"' not in listing.text


# --- deciding ---------------------------------------------------------------------------------

@pytest.fixture
def claim(client, org, lines):
    file_claim(login(client, org.rep), lines["east"], "1500.00")
    return db.session.execute(select(Claim)).scalar_one()


def test_the_approver_sees_the_computation(client, org, claim):
    page = login(client, org.manager).get(f"/claims/{claim.id}")
    assert page.status_code == 200
    text = page.text
    assert re.search(r"data-claimed>¥1,500.00<", text)
    assert "data-capped" in text                                       # above the ¥1,000.00 budget
    assert re.search(r"data-compliance>80.0 %", text) and "(4 / 5)" in text
    assert "60 %" in text                                              # the floor
    assert re.search(r"data-payable>¥800.00<", text)                   # min(1500, 1000) × 4/5
    assert 'name="amount"' in text and 'value="800.00"' in text


def test_approving_writes_off_the_payable_amount(client, org, claim):
    r = login(client, org.manager).post(f"/claims/{claim.id}/approve", data={"amount": "800.00", "reason": ""})
    assert r.status_code == 303
    claim = fresh(claim)
    assert claim.status == C.APPROVED and (claim.approved_amount, claim.rejected_amount) == (80_000, 70_000)
    line = db.session.execute(select(LedgerLine)).scalar_one()
    assert line.amount == 80_000 and line.kind == "payment"
    page = client.get(r.location)
    assert "Approved and written off: ¥800.00." in page.text and 'data-ledger-line="' in page.text


def test_an_override_without_a_reason_is_refused(client, org, claim):
    r = login(client, org.manager).post(f"/claims/{claim.id}/approve", data={"amount": "950.00", "reason": ""})
    assert r.status_code == 422 and "instead of the computed ¥800.00" in r.text
    r = client.post(f"/claims/{claim.id}/approve", data={"amount": "1000.01", "reason": "why not"})
    assert r.status_code == 422 and "At most ¥1,000.00" in r.text
    assert fresh(claim).status == C.SUBMITTED and count(LedgerLine) == 0
    r = client.post(f"/claims/{claim.id}/approve", data={"amount": "950.00", "reason": "Verified in person on week 5"})
    assert r.status_code == 303 and db.session.execute(select(LedgerLine.amount)).scalar_one() == 95_000


def test_a_rejection_needs_a_reason(client, org, claim):
    login(client, org.manager)
    r = client.post(f"/claims/{claim.id}/reject", data={"amount": "", "reason": ""})
    assert r.status_code == 422 and "Say why the claim is rejected." in r.text
    r = client.post(f"/claims/{claim.id}/reject", data={"amount": "", "reason": "No receipt"})
    assert r.status_code == 303 and fresh(claim).status == C.REJECTED and count(LedgerLine) == 0


def test_reps_supervisors_and_the_claimant_do_not_decide(client, org, claim):
    for user in (org.rep, org.supervisor):
        r = login(client, user).post(f"/claims/{claim.id}/approve", data={"amount": "", "reason": ""})
        assert r.status_code == 403, user
    assert fresh(claim).status == C.SUBMITTED


def test_a_decision_without_its_csrf_token_is_refused(client, org, claim):
    r = login(client, org.manager).post(f"/claims/{claim.id}/approve", data={"amount": "800.00"}, csrf=False)
    assert r.status_code == 400 and fresh(claim).status == C.SUBMITTED and count(LedgerLine) == 0
    r = login(client, org.rep).post(f"/activity-stores/{claim.activity_store_id}/claim",
                                    data={"amount": "5.00"}, csrf=False)
    assert r.status_code == 400 and count(Claim) == 1


def test_a_second_approval_is_a_conflict(client, org, claim):
    login(client, org.manager)
    client.post(f"/claims/{claim.id}/approve", data={"amount": "800.00"})
    r = client.post(f"/claims/{claim.id}/approve", data={"amount": "800.00"})
    assert r.status_code == 409 and count(LedgerLine) == 1


# --- reversal ---------------------------------------------------------------------------------

def test_a_payment_is_reversed_with_a_reason_and_a_reversal_is_not(client, org, claim):
    login(client, org.manager)
    client.post(f"/claims/{claim.id}/approve", data={"amount": "800.00"})
    payment = db.session.execute(select(LedgerLine)).scalar_one()
    assert client.post(f"/ledger/{payment.id}/reverse", data={"reason": ""}).status_code == 422
    assert client.post(f"/ledger/{payment.id}/reverse", data={"reason": "x"}, csrf=False).status_code == 400
    r = client.post(f"/ledger/{payment.id}/reverse", data={"reason": "Paid twice by finance"})
    assert r.status_code == 303 and fresh(claim).status == C.REVERSED
    reversal = db.session.execute(select(LedgerLine).where(LedgerLine.kind == "reversal")).scalar_one()
    assert reversal.amount == -80_000
    r = client.post(f"/ledger/{reversal.id}/reverse", data={"reason": "undo"})
    assert r.status_code == 422 and "cannot be reversed" in r.text
    assert client.post(f"/ledger/{payment.id}/reverse", data={"reason": "again"}).status_code == 409
    assert count(LedgerLine) == 2
    assert login(client, org.west_supervisor).post(f"/ledger/{payment.id}/reverse",
                                                   data={"reason": "x"}).status_code == 404


# --- the ledger -------------------------------------------------------------------------------

@pytest.fixture
def paid(client, org, claim):
    login(client, org.manager).post(f"/claims/{claim.id}/approve", data={"amount": "800.00"})
    return db.session.execute(select(LedgerLine)).scalar_one()


def test_the_ledger_page_filters_by_period_region_and_activity(client, org, paid):
    login(client, org.manager)
    page = client.get("/ledger")
    assert page.status_code == 200 and f'data-ledger-line="{paid.id}"' in page.text
    assert "data-ledger-total>¥800.00<" in page.text
    later = (paid.posted_on + timedelta(days=1)).isoformat()
    assert f'data-ledger-line="{paid.id}"' not in client.get(f"/ledger?from={later}").text
    north = make_region("EAST-N", "East north", org.east)
    assert f'data-ledger-line="{paid.id}"' not in client.get(f"/ledger?region={north.id}").text
    assert f'data-ledger-line="{paid.id}"' in client.get(f"/ledger?region={org.east.id}").text
    # A region outside the manager's is no filter at all: it cannot widen what they see.
    assert f'data-ledger-line="{paid.id}"' in client.get(f"/ledger?region={org.west.id}").text
    other = make_activity(org.rep, [make_store(rep=org.rep)], status=S.ENDED, start=START)
    assert f'data-ledger-line="{paid.id}"' not in client.get(f"/ledger?activity={other.id}").text
    assert f'data-ledger-line="{paid.id}"' in client.get(f"/ledger?activity={paid.activity_id}").text


def test_the_ledger_exports_to_csv_and_excel(client, org, paid):
    login(client, org.manager)
    r = client.get(f"/ledger/export.csv?region={org.east.id}")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["posted_on", "line", "kind", "claim"]
    assert rows[1][2] == "payment" and rows[1][7] == "E-1" and rows[1][10] == "800.00"
    r = client.get(f"/ledger/export.xlsx?activity={paid.activity_id}")
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "posted_on" and float(values[1][10]) == 800.0
    assert len(list(csv.reader(io.StringIO(client.get("/ledger/export.csv?to=2000-01-01").data
                                           .decode("utf-8-sig"))))) == 1


def test_only_managers_and_admins_read_the_ledger(client, org, paid):
    for user in (org.rep, org.supervisor):
        assert login(client, user).get("/ledger").status_code == 403
        assert login(client, user).get("/ledger/export.csv").status_code == 403
    # A manager of another region sees none of it.
    from field.auth.models import Role
    from tests.factories import make_user
    west_manager = make_user(Role.MANAGER, regions=[org.west])
    r = login(client, west_manager).get("/ledger/export.csv")
    assert len(list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))) == 1
