"""Claims and the write-off ledger: what a claim pays (at the floor, above the budget), approval
with and without an override, rejection, reversal, and the rules the database holds on its own —
one payment per claim, no reversal of a reversal, no edit of a line — also under real concurrency."""
import os
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from field.activities.models import ActivityStatus as S, Review, Verdict
from field.audit import AuditEvent
from field.auth.models import Role, User
from field.claims import ledger
from field.claims import operations as ops
from field.claims.models import Claim, ClaimStatus as C, LedgerIsAppendOnly, LedgerKind, LedgerLine
from field.core import Conflict, DomainError
from field.extensions import db
from field.core import FieldError
from tests.factories import make_activity, make_store, make_type, make_user

pytestmark = pytest.mark.usefixtures("request_ctx")

START = date(2026, 3, 2)  # five weekly periods: 2 Mar – 5 Apr, all over by today


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def verify(line, *indices, reviewer):
    for index in indices:
        db.session.add(Review(activity_store=line, period_index=index, verdict=Verdict.APPROVED, reason="", note="",
                              reviewer=reviewer))
    db.session.commit()


@pytest.fixture
def setup(org):
    store = make_store(rep=org.rep, code="E1")
    kind = make_type(name="陈列", floor="60.00")
    activity = make_activity(org.rep, [store], budget=100_000, kind=kind, status=S.ENDED, start=START,
                             end=START + timedelta(days=34))
    return activity.stores[0]


def file(line, user, amount="1000.00", **kw):
    return ops.file_claim(line, user, amount, **kw)


# --- what a claim pays ------------------------------------------------------------------------

def test_at_the_floor_a_claim_is_paid_pro_rata(org, setup):
    verify(setup, 0, 1, 2, reviewer=org.supervisor)         # 3 of 5 periods = 60 %, the floor
    claim = file(setup, org.rep, "800.00")
    figures = ops.payout(claim)
    assert (figures.compliance.verified, figures.compliance.required) == (3, 5)
    assert figures.meets_floor and not figures.capped
    assert figures.payable == 48_000                        # 800.00 × 3/5


def test_under_the_floor_nothing_is_payable(org, setup):
    verify(setup, 0, 1, reviewer=org.supervisor)            # 40 %
    figures = ops.payout(file(setup, org.rep, "800.00"))
    assert not figures.meets_floor and figures.payable == 0


def test_above_the_budget_the_rule_pays_at_most_the_budget(org, setup):
    verify(setup, 0, 1, 2, 3, 4, reviewer=org.supervisor)   # 100 %
    claim = file(setup, org.rep, "1500.00")                 # budget is 1,000.00: allowed, capped
    figures = ops.payout(claim)
    assert figures.capped and figures.payable == 100_000 and figures.most == 100_000
    payment = ops.approve(claim, org.manager)
    assert payment.amount == 100_000
    assert (claim.approved_amount, claim.rejected_amount) == (100_000, 50_000)  # the remainder refused, recorded


# --- filing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, message", [
    ("12.345", "more than two decimals"), ("-5", "cannot be negative"), ("abc", "“abc” is not an amount"),
    ("0", "more than zero"), ("", "Enter an amount"), ("1e3", "“1e3” is not an amount"), ("NaN", "“NaN” is not"),
    (",5", "Did you mean 5 or .5?"),
    ("30000000", "too large")])
def test_bad_amounts_are_refused_and_nothing_is_written(org, setup, typed, message):
    with pytest.raises(FieldError) as refused:
        file(setup, org.rep, typed)
    assert refused.value.status == 422 and refused.value.field == "amount" and message in refused.value.message
    db.session.rollback()
    assert count(Claim) == 0


@pytest.mark.parametrize("status", [S.DRAFT, S.SUBMITTED, S.SECOND_APPROVAL, S.REJECTED])
def test_claims_on_unapproved_activities_are_refused(org, status):
    store = make_store(rep=org.rep)
    activity = make_activity(org.rep, [store], status=status, start=START)
    with pytest.raises(Conflict, match="claims are filed once it is approved"):
        file(activity.stores[0], org.rep)
    assert count(Claim) == 0


def test_one_live_claim_per_store_and_a_new_one_after_rejection(org, setup):
    first = file(setup, org.rep, "100.00", note="POSM")
    assert first.status == C.SUBMITTED and first.amount == 10_000 and first.note == "POSM"
    with pytest.raises(Conflict, match=first.code):
        file(setup, org.rep, "50.00")
    ops.reject(first, org.manager, "Receipt is illegible")
    assert first.rejected_amount == 10_000
    again = file(setup, org.rep, "90.00")
    assert again.status == C.SUBMITTED and count(Claim) == 2


def test_the_database_holds_one_live_claim_per_store(org, setup):
    file(setup, org.rep)
    db.session.add(Claim(activity_store_id=setup.id, claimant_id=org.rep.id, amount=1, status=C.SUBMITTED,
                         note="", reason=""))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_admins_do_not_file_claims(org, setup):
    with pytest.raises(DomainError) as refused:
        file(setup, org.admin)
    assert refused.value.status == 403


# --- deciding ---------------------------------------------------------------------------------

def test_approving_the_computed_amount_writes_one_payment_line(org, setup):
    verify(setup, 0, 1, 2, 3, reviewer=org.supervisor)      # 80 %
    claim = file(setup, org.rep, "500.00")
    payment = ops.approve(claim, org.manager)
    assert payment.kind == LedgerKind.PAYMENT and payment.amount == 40_000
    assert (payment.activity_id, payment.store_id, payment.activity_store_id) == (
        setup.activity_id, setup.store_id, setup.id)
    db.session.expire_all()
    claim = db.session.get(Claim, claim.id)
    assert claim.status == C.APPROVED and claim.payable == 40_000 and not claim.overridden
    assert (claim.verified_periods, claim.required_periods, claim.budget) == (4, 5, 100_000)
    assert ledger.store_budget(claim.activity_store).remaining == 60_000
    assert ledger.activity_budgets([setup.activity_id])[setup.activity_id].written_off == 40_000
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "claim.approve")).scalar_one()
    assert event.details["amount"] == 40_000 and event.details["rejected"] == 10_000


def test_an_override_needs_a_reason_and_stays_within_claim_and_budget(org, setup):
    verify(setup, 0, 1, 2, reviewer=org.supervisor)
    claim = file(setup, org.rep, "500.00")                 # payable 300.00
    with pytest.raises(FieldError) as refused:
        ops.approve(claim, org.manager, "450.00")
    assert refused.value.field == "reason"
    with pytest.raises(FieldError) as refused:
        ops.approve(claim, org.manager, "500.01", "more")
    assert refused.value.field == "amount"
    assert count(LedgerLine) == 0 and db.session.get(Claim, claim.id).status == C.SUBMITTED
    payment = ops.approve(claim, org.manager, "450.00", "Week 4 photos were lost with the phone; seen in person")
    assert payment.amount == 45_000 and claim.overridden and claim.rejected_amount == 5_000


def test_who_may_decide(org, setup):
    claim = file(setup, org.rep)
    west_manager = make_user(Role.MANAGER, regions=[org.west])
    for user in (org.supervisor, org.teammate, west_manager):
        with pytest.raises(DomainError) as refused:
            ops.approve(claim, user)
        assert refused.value.status == 403
    own = file(make_activity(org.manager, [make_store(rep=org.rep)], status=S.RUNNING, start=START)
               .stores[0], org.manager)
    with pytest.raises(DomainError, match="another manager"):
        ops.approve(own, org.manager)
    assert ops.approve(own, org.admin).amount == 0           # no verified period: the rule pays nothing
    assert count(LedgerLine) == 1


def test_rejection_needs_a_reason_and_a_decided_claim_is_not_decided_again(org, setup):
    claim = file(setup, org.rep)
    with pytest.raises(FieldError):
        ops.reject(claim, org.manager, "  ")
    ops.reject(claim, org.manager, "No receipt")
    with pytest.raises(Conflict):
        ops.approve(claim, org.manager)
    with pytest.raises(Conflict):
        ops.reject(claim, org.manager, "again")
    assert count(LedgerLine) == 0


# --- the ledger -------------------------------------------------------------------------------

@pytest.fixture
def paid(org, setup):
    verify(setup, 0, 1, 2, 3, 4, reviewer=org.supervisor)
    claim = file(setup, org.rep, "700.00")
    payment = ops.approve(claim, org.manager)
    db.session.commit()  # operations stage; the test commits like the request that approved
    return payment


def test_a_reversal_undoes_a_payment_and_lets_the_store_claim_again(org, setup, paid):
    reversal = ops.reverse(paid, org.manager, "Paid to the wrong store")
    assert reversal.kind == LedgerKind.REVERSAL and reversal.amount == -70_000 and reversal.reverses_id == paid.id
    assert db.session.get(Claim, paid.claim_id).status == C.REVERSED
    assert ledger.written_off_by_store([setup.id]) == {setup.id: 0}
    assert ledger.settled_stores([setup.id]) == set()
    assert file(setup, org.rep, "650.00").status == C.SUBMITTED
    with pytest.raises(Conflict, match="already reversed"):
        ops.reverse(paid, org.manager, "again")
    assert count(LedgerLine) == 2


def test_a_reversal_of_a_reversal_is_refused(org, paid):
    reversal = ops.reverse(paid, org.manager, "Wrong amount")
    with pytest.raises(DomainError) as refused:
        ops.reverse(reversal, org.manager, "Undo the undo")
    assert refused.value.status == 422 and "cannot be reversed" in refused.value.message
    assert count(LedgerLine) == 2


def test_reversing_needs_a_reason_and_an_approver(org, paid):
    with pytest.raises(FieldError):
        ops.reverse(paid, org.manager, "")
    with pytest.raises(DomainError) as refused:
        ops.reverse(paid, org.supervisor, "mine to undo")
    assert refused.value.status == 403
    assert count(LedgerLine) == 1


def test_the_database_refuses_a_second_payment_and_a_reversal_of_a_reversal(org, paid):
    def line(**kw):
        values = dict(claim_id=paid.claim_id, activity_id=paid.activity_id, activity_store_id=paid.activity_store_id,
                      store_id=paid.store_id, actor_id=org.admin.id, posted_on=date.today(), reason="")
        values.update(kw)
        return LedgerLine(**values)

    for bad in (line(kind="payment", amount=1),                                     # a second payment
                line(kind="reversal", amount=-1, reverses_id=paid.id, reverses_kind="reversal"),
                line(kind="payment", amount=-5),                                     # a negative payment
                line(kind="reversal", amount=-1)):                                   # a reversal of nothing
        db.session.add(bad)
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    reversal = ops.reverse(paid, org.manager, "Wrong store")
    db.session.commit()
    db.session.add(line(kind="reversal", amount=70_000 * -1, reverses_id=reversal.id, reverses_kind="payment"))
    with pytest.raises(IntegrityError):                   # no payment has that id: nothing to point at
        db.session.commit()
    db.session.rollback()
    assert count(LedgerLine) == 2


def test_ledger_lines_are_never_changed_or_deleted(org, paid):
    paid.amount = 1
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(LedgerLine, paid.id))
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(update(LedgerLine).where(LedgerLine.id == paid.id).values(amount=1))
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("DELETE FROM ledger_lines"))
        db.session.rollback()
    db.session.expire_all()
    assert db.session.get(LedgerLine, paid.id).amount == 70_000
    assert not [name for name in dir(ops) if name.startswith(("update_", "delete_", "edit_"))]


# --- real concurrency (PostgreSQL) ----------------------------------------------------------------

postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                                   reason="SQLite serialises writers; the race is run on PostgreSQL")


def _race(app, work, n=2):
    """Run `work(i)` in n threads, each with its own app context and connection, released together."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[i] = work(i)
            except Exception as exc:  # noqa: BLE001 — the outcome is what the test checks
                results[i] = exc
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@postgres_only
def test_two_managers_approving_at_once_make_one_payment(app, org, setup):
    verify(setup, 0, 1, 2, 3, 4, reviewer=org.supervisor)
    claim_id = file(setup, org.rep, "300.00").id
    other = make_user(Role.MANAGER, regions=[org.east])
    approvers = [org.manager.id, other.id]
    db.session.commit()

    def approve(i):
        with app.test_request_context():
            claim = db.session.get(Claim, claim_id)
            amount = ops.approve(claim, db.session.get(User, approvers[i])).amount
            db.session.commit()  # the request's one commit, after the view
            return amount

    results = _race(app, approve)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "int"], results
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(LedgerLine)
                              .where(LedgerLine.claim_id == claim_id)).scalar_one() == 1
    assert db.session.get(Claim, claim_id).status == C.APPROVED


@postgres_only
def test_two_payment_rows_inserted_at_once_meet_the_unique_index(app, org, setup):
    claim = file(setup, org.rep, "300.00")
    values = dict(kind="payment", claim_id=claim.id, activity_id=setup.activity_id, activity_store_id=setup.id,
                  store_id=setup.store_id, actor_id=org.manager.id, posted_on=date.today(), reason="", amount=30_000)
    db.session.commit()

    def insert(_i):
        db.session.add(LedgerLine(**values))
        db.session.commit()
        return "paid"

    results = _race(app, insert)
    assert sorted(type(r).__name__ for r in results) == ["IntegrityError", "str"], results
    db.session.expire_all()
    assert count(LedgerLine) == 1
