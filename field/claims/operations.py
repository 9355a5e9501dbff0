"""Everything that changes a claim or the ledger: filing, approving (which pays), rejecting, reversing.

Each operation checks its rules before it writes, then stages its writes and audits them — or
raises a DomainError (422), Conflict (409) or a 403; the request (or command) that called it
commits or rolls back. The claim's moves are a table; a move names the status it saw in its
UPDATE (core.move_state), so of two approvers at the same moment one wins and the other is told
the claim moved on (and the database's one-payment-per-claim index stands behind that)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Iterable

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from field import audit, notifications, permissions, scope
from field.activities import progress, rules, workflow
from field.activities.models import ActivityStatus as S, ActivityStore
from field.activities.rules import Compliance
from field.auth.models import User
from field.claims import ledger
from field.claims.models import Claim, ClaimStatus as C, LedgerKind, LedgerLine
from field.core import (CURRENCY_SIGNS, Conflict, DomainError, MoneyError, company_today, format_money, money_problem,
                        move_state, now, parse_money)
from field.extensions import db
from field.photos.models import Photo
from field.core import FieldError

# A claim is filed once the money was committed: the activity is approved, running or over.
CLAIMABLE = (S.APPROVED, S.RUNNING, S.ENDED)
MAX_NOTE = 2000
MAX_REASON = 1000
MAX_RECEIPTS = 10
RECEIPT_CHOICES = 40
# What a person types (a currency sign parse_money reads, digits, commas): no exponents, no NaN.
PLAIN_NUMBER = re.compile(rf"^[{''.join(CURRENCY_SIGNS)}]?\s*-?[0-9,]*(\.[0-9]*)?$")

# (from, to) → audit action. Every move is the approver's (a manager in scope or an admin).
TRANSITIONS = {
    (C.SUBMITTED, C.APPROVED): "claim.approve",
    (C.SUBMITTED, C.REJECTED): "claim.reject",
    (C.APPROVED, C.REVERSED): "claim.reverse",
}


# --- amounts ---------------------------------------------------------------------------------

def parse_amount(raw, field: str = "amount", allow_zero: bool = False) -> int:
    """Yuan as typed → fen, with a message for the user on anything else."""
    text = str(raw or "").strip()
    if not text:
        raise FieldError(field, _("Enter an amount in yuan, like 1280.50."))
    try:
        if not PLAIN_NUMBER.match(text) or not any(ch.isdigit() for ch in text):
            raise MoneyError("not a number", text.lstrip("".join(CURRENCY_SIGNS)).strip())
        value = parse_money(text)
    except MoneyError as exc:
        raise FieldError(field, money_problem(exc)) from None
    if value == 0 and not allow_zero:
        raise FieldError(field, _("A claim must be more than zero."))
    return value


def _text(raw, field: str, limit: int, required_message: str | None = None) -> str:
    value = (raw or "").strip()
    if required_message and not value:
        raise FieldError(field, required_message)
    if len(value) > limit:
        raise FieldError(field, _("At most %(n)s characters.", n=limit))
    return value


# --- the computation the approver sees ---------------------------------------------------------

@dataclass(frozen=True)
class Payout:
    """Claimed, the store's budget and what is left of it, compliance and the floor → payable."""

    claimed: int
    budget: int
    written_off: int
    compliance: Compliance
    floor_pct: Decimal
    payable: int

    @property
    def remaining(self) -> int:
        return ledger.Budget(self.budget, self.written_off).remaining

    @property
    def capped(self) -> bool:
        """Claimed more than the budget left: the rule pays at most the budget."""
        return self.claimed > self.remaining

    @property
    def meets_floor(self) -> bool:
        return self.compliance.meets(self.floor_pct)

    @property
    def most(self) -> int:
        """The most an approver may pay on this claim, overriding or not."""
        return min(self.claimed, self.remaining)


def payout(claim: Claim, as_of: date | None = None) -> Payout:
    """The type's rule applied to this claim today: min(claimed, budget left) × compliance, nothing under the floor."""
    line = claim.activity_store
    floor = line.activity.type.compliance_floor_pct
    compliance = progress.store_compliance(line, as_of or company_today())
    spent = ledger.written_off_by_store([line.id]).get(line.id, 0)
    remaining = max(0, line.budget - spent)
    return Payout(claimed=claim.amount, budget=line.budget, written_off=spent, compliance=compliance,
                  floor_pct=floor, payable=rules.payable(claim.amount, remaining, compliance, floor))


# --- who may ---------------------------------------------------------------------------------

def may_claim_on(user: User, line: ActivityStore) -> bool:
    """Someone who files claims, on an activity whose money was committed."""
    return permissions.may_claim(user) and line.activity.status in CLAIMABLE


def _check_decider(actor: User, claim: Claim) -> None:
    """Refuse (403) unless the actor decides on this claim, saying why not."""
    if not permissions.may_decide_claim(actor, claim):
        raise permissions.NotAllowed(
            _("You filed this claim: another manager or an administrator decides on it.")
            if actor.id == claim.claimant_id else
            _("Only a manager of the store's region, or an administrator, decides on claims."))


def live_claim(line: ActivityStore) -> Claim | None:
    return db.session.execute(select(Claim).where(Claim.activity_store_id == line.id,
                                                  Claim.status.in_((C.SUBMITTED, C.APPROVED)))).scalar_one_or_none()


# --- receipts ---------------------------------------------------------------------------------

def receipt_choices(line: ActivityStore, user: User) -> list[Photo]:
    """Photos the claimant may attach: taken at the claim's store since the activity began, not voided,
    in the claimant's scope, newest first. Receipts are shot on a visit's photo step like any evidence."""
    since = line.activity.period_start - timedelta(days=1)
    return list(db.session.execute(
        scope.photos(user).where(Photo.store_id == line.store_id, Photo.voided_at.is_(None),
                                 Photo.created_at >= _start_of(since))
        .order_by(Photo.id.desc()).limit(RECEIPT_CHOICES)).scalars())


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _receipts(line: ActivityStore, user: User, photo_ids: Iterable) -> list[Photo]:
    try:
        ids = sorted({int(i) for i in photo_ids if str(i).strip()})
    except (TypeError, ValueError):
        raise FieldError("receipts", _("Choose receipts from the list.")) from None
    if len(ids) > MAX_RECEIPTS:
        raise FieldError("receipts", _("At most %(n)s receipts.", n=MAX_RECEIPTS))
    allowed = {p.id: p for p in receipt_choices(line, user)}
    if any(i not in allowed for i in ids):
        raise FieldError("receipts", _("Choose receipts from the list: photos taken at this store."))
    return [allowed[i] for i in ids]


# --- filing -----------------------------------------------------------------------------------

def _add_or_conflict(row, message: str) -> None:
    """Add `row` and write it now, in a savepoint: when a unique index refuses it (someone was
    first), that is a Conflict(`message`) and the rest of the caller's work stands."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise Conflict(message) from None


def file_claim(line: ActivityStore, actor: User, amount, note: str = "", receipt_ids: Iterable = ()) -> Claim:
    """File a claim for one store of an approved activity (the caller found `line` through scope).

    A store has at most one live claim (submitted or approved); above the budget is allowed —
    the rule caps what is paid, and the approver sees it."""
    permissions.require(permissions.may_claim(actor), _("Claims are filed by reps, supervisors and managers."))
    if line.activity.status not in CLAIMABLE:
        raise Conflict(_("This activity is %(state)s: claims are filed once it is approved.",
                         state=workflow.state_label(line.activity.status)))
    amount = parse_amount(amount)
    note = _text(note, "note", MAX_NOTE)
    receipts = _receipts(line, actor, receipt_ids)
    existing = live_claim(line)
    if existing is not None:
        raise Conflict(_("This store already has claim %(code)s; it is decided (or reversed) before another "
                         "one is filed.", code=existing.code))
    claim = Claim(activity_store=line, claimant=actor, amount=amount, note=note, status=C.SUBMITTED,
                  created_at=now(), reason="")
    claim.receipts = receipts
    _add_or_conflict(claim, _("Another claim for this store was filed a moment ago. Reload to see it."))
    audit.record("claim.file", claim, actor=actor, activity=line.activity_id, store=line.store_id, amount=amount,
                 receipts=[p.id for p in receipts])
    return claim


# --- deciding ---------------------------------------------------------------------------------

def _move(claim: Claim, to: C, values: dict) -> str:
    """Move the claim if the table allows it and nobody moved it first; return the audit action."""
    frm = C(claim.status)
    action = TRANSITIONS.get((frm, to))
    if action is None:
        raise Conflict(_("This claim is already %(state)s.", state=status_label(frm)))
    move_state(claim, frm, to, _("This claim was decided in the meantime. Reload to see how."), **values)
    return action


def approve(claim: Claim, actor: User, amount=None, reason: str = "") -> LedgerLine:
    """Approve a claim and write it off: the payable amount, or another one with a reason.

    The amount is at most min(claimed, budget left); what is not paid of the claim is recorded
    as rejected. The payment line and the claim's move are staged together."""
    _check_decider(actor, claim)
    if claim.status != C.SUBMITTED:
        raise Conflict(_("This claim is already %(state)s.", state=status_label(claim.status)))
    figures = payout(claim)
    typed = str(amount or "").strip()
    paid = figures.payable if not typed else parse_amount(typed, allow_zero=True)
    reason = _text(reason, "reason", MAX_REASON)
    if paid > figures.most:
        raise FieldError("amount", _("At most %(most)s: the claim, capped by the budget left.",
                                     most=format_money(figures.most)))
    if paid != figures.payable and not reason:
        raise FieldError("reason", _("Say why you pay %(paid)s instead of the computed %(payable)s.",
                                     paid=format_money(paid), payable=format_money(figures.payable)))
    decided = now()
    action = _move(claim, C.APPROVED, {
        "decided_by_id": actor.id, "decided_at": decided, "budget": figures.budget,
        "verified_periods": figures.compliance.verified, "required_periods": figures.compliance.required,
        "floor_pct": figures.floor_pct, "payable": figures.payable, "approved_amount": paid,
        "rejected_amount": claim.amount - paid, "reason": reason})
    line = claim.activity_store
    payment = LedgerLine(kind=LedgerKind.PAYMENT, claim_id=claim.id, activity_id=line.activity_id,
                         activity_store_id=line.id, store_id=line.store_id, amount=paid, reason=reason,
                         actor_id=actor.id, posted_at=decided, posted_on=company_today())
    _add_or_conflict(payment, _("This claim was paid in the meantime. Reload to see the payment."))
    audit.record(action, claim, actor=actor, amount=paid, payable=figures.payable, claimed=claim.amount,
                 rejected=claim.amount - paid, override=paid != figures.payable, ledger_line=payment.id,
                 **({"reason": reason} if reason else {}))
    if claim.claimant is not None and claim.claimant_id != actor.id:
        notifications.send([claim.claimant], "claim.paid",
                           _l("Claim paid: %(amount)s at %(store)s", amount=format_money(paid), store=line.store.name),
                           body=reason, url=notifications.path_for("claims.show", claim_id=claim.id),
                           key=f"claim.paid:{claim.id}")
    return payment


def reject(claim: Claim, actor: User, reason: str) -> Claim:
    """Reject the whole claim with a reason the claimant reads; nothing is written off."""
    _check_decider(actor, claim)
    reason = _text(reason, "reason", MAX_REASON, _("Say why the claim is rejected."))
    action = _move(claim, C.REJECTED, {"decided_by_id": actor.id, "decided_at": now(), "approved_amount": 0,
                                       "rejected_amount": claim.amount, "reason": reason})
    audit.record(action, claim, actor=actor, claimed=claim.amount, reason=reason)
    return claim


def reverse(payment: LedgerLine, actor: User, reason: str) -> LedgerLine:
    """Correct a payment by appending its negation; the claim becomes reversed and the store may claim again.

    Only a payment is reversed, once: a reversal is never itself reversed (the database agrees)."""
    if payment.kind != LedgerKind.PAYMENT:
        raise DomainError(_("A reversal cannot be reversed: it already undoes a payment. To pay again, the "
                            "store files a new claim."))
    if payment.claim_id is None:
        raise DomainError(_("This line pays a travel claim: reverse it from that claim's page."))
    claim = payment.claim
    _check_decider(actor, claim)
    reason = _text(reason, "reason", MAX_REASON, _("Say why the payment is reversed."))
    if ledger.reversed_line_ids([payment.id]):
        raise Conflict(_("This payment is already reversed."))
    _move(claim, C.REVERSED, {})
    reversal = LedgerLine(kind=LedgerKind.REVERSAL, claim_id=claim.id, activity_id=payment.activity_id,
                          activity_store_id=payment.activity_store_id, store_id=payment.store_id,
                          amount=-payment.amount, reverses_id=payment.id, reverses_kind=LedgerKind.PAYMENT,
                          reason=reason, actor_id=actor.id, posted_at=now(), posted_on=company_today())
    _add_or_conflict(reversal, _("This payment was reversed in the meantime."))
    audit.record("ledger.reverse", reversal, actor=actor, reverses=payment.id, claim=claim.id,
                 amount=reversal.amount, reason=reason)
    return reversal


# --- labels -----------------------------------------------------------------------------------

def status_label(status: str) -> str:
    labels = {C.SUBMITTED: _("awaiting decision"), C.APPROVED: _("approved"), C.REJECTED: _("rejected"),
              C.REVERSED: _("reversed")}
    try:
        return labels[C(status)]
    except ValueError:
        return status
