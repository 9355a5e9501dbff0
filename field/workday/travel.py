"""Travel-expense claims (差旅/车辆费用): a rep claims kilometres for a period at their vehicle's rate, plus
receipts (parking, tolls, transit: their own photos, through the photo pipeline) with amounts. The mileage the
working days computed over the period is kept beside the claim, so the approver sees claimed, computed and the
difference. Approval pays the claim through the write-off ledger (field/claims: one ledger, category 'travel');
a mistake is corrected by a reversing line. Operations stage and raise; they never commit."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from field import audit, permissions, scope
from field.auth.models import User
from field.claims import ledger
from field.claims.models import (ClaimStatus as C, ExpenseReceipt, LedgerCategory, LedgerKind, LedgerLine, TravelClaim,
                                 TravelClaimReceipt, TravelReceipt)
from field.claims.operations import parse_amount
from field.core import (Conflict, DomainError, FieldError, company_today, local_today, move_state, now,
                        parse_money, user_zone)
from field.extensions import db
from field.photos.models import Photo
from field.workday import queries, receipts as expense

VEHICLES = {"car": _l("Car"), "motorbike": _l("Motorbike"), "ebike": _l("E-bike")}
DEFAULT_RATES = "car=0.80,motorbike=0.40,ebike=0.20"  # yuan per km; the setting WORKDAY_MILEAGE_RATES overrides
RECEIPT_KINDS = {"parking": _l("Parking"), "toll": _l("Toll"), "transit": _l("Transit"), "other": _l("Other")}
MAX_PERIOD_DAYS = 31
MAX_KM = Decimal("10000")
MAX_RECEIPTS = 20
MAX_NOTE = 1000
RECEIPT_CHOICES = 60
KM = re.compile(r"^\d{1,5}(\.\d)?$")


def rates() -> dict[str, int]:
    """Minor units per km for each vehicle, from the setting ("car=0.80,motorbike=0.40"); a vehicle the
    setting does not name is not offered."""
    out = {}
    for part in (current_app.config.get("WORKDAY_MILEAGE_RATES") or DEFAULT_RATES).split(","):
        name, _sep, value = part.partition("=")
        name = name.strip()
        if name in VEHICLES:
            try:
                out[name] = parse_money(value.strip())
            except Exception:  # noqa: BLE001 — a bad rate leaves that vehicle out
                continue
    return out


def parse_km(raw) -> Decimal:
    text = str(raw or "").strip()
    if not text:
        raise FieldError("km", _("Enter the kilometres you travelled, like 42.5."))
    if text.startswith("-"):
        raise FieldError("km", _("Kilometres cannot be negative."))
    if not KM.match(text):
        raise FieldError("km", _("Kilometres are a number with at most one decimal, like 42.5."))
    value = Decimal(text)
    if value > MAX_KM:
        raise FieldError("km", _("At most %(n)s km in one claim.", n=MAX_KM))
    return value


def _bounds(rep: User, first: date, last: date) -> tuple[datetime, datetime]:
    zone = user_zone(rep)
    return (datetime.combine(first, time(0), tzinfo=zone).astimezone(timezone.utc),
            datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(timezone.utc))


def computed_metres(viewer: User, rep: User, first: date, last: date) -> int:
    """The working days' counted mileage over the period (impossible legs left out), whole metres."""
    return int(round(sum(d.mileage.counted_m for d in queries.rep_days(viewer, rep, first, last, with_plan=False))))


def receipt_choices(rep: User, first: date, last: date) -> list[Photo]:
    """The rep's own photos of the period, not voided, newest first: a receipt is shot like any evidence."""
    a, b = _bounds(rep, first, last)
    return list(db.session.execute(
        scope.photos(rep).where(Photo.rep_id == rep.id, Photo.voided_at.is_(None), Photo.created_at >= a,
                                Photo.created_at < b).order_by(Photo.id.desc()).limit(RECEIPT_CHOICES)).scalars())


def check_period(rep: User, first: date | None, last: date | None) -> tuple[date, date]:
    if first is None or last is None:
        raise FieldError("period", _("Give the first and the last day of the period."))
    if last < first:
        raise FieldError("period", _("The period ends before it starts."))
    if last > local_today(rep):
        raise FieldError("period", _("The period cannot end in the future."))
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise FieldError("period", _("At most %(n)s days in one claim.", n=MAX_PERIOD_DAYS))
    return first, last


def _receipts(rep: User, first: date, last: date, items) -> list[tuple[Photo, str, int]]:
    """(photo, kind, amount) for each posted receipt; only the rep's own photos of the period."""
    items = list(items)
    if len(items) > MAX_RECEIPTS:
        raise FieldError("receipts", _("At most %(n)s receipts.", n=MAX_RECEIPTS))
    allowed = {p.id: p for p in receipt_choices(rep, first, last)}
    out, seen = [], set()
    for photo_id, kind, raw_amount in items:
        try:
            pid = int(photo_id)
        except (TypeError, ValueError):
            raise FieldError("receipts", _("Choose receipts from the list.")) from None
        if pid not in allowed:
            raise FieldError("receipts", _("Choose receipts from the list: your own photos of the period."))
        if pid in seen:
            raise FieldError("receipts", _("A photo is one receipt: it is listed twice."))
        seen.add(pid)
        if kind not in RECEIPT_KINDS:
            raise FieldError("receipts", _("Say what each receipt is for."))
        amount = parse_amount(raw_amount, "receipts")
        if amount <= 0:
            raise FieldError("receipts", _("A receipt's amount is more than zero."))
        out.append((allowed[pid], kind, amount))
    return out


def _expense_receipts(rep: User, first: date, last: date, ids, photo_lines: int) -> list[ExpenseReceipt]:
    """The stand-alone receipts posted: only the rep's own of the period, not voided, on no live claim."""
    ids = list(ids)
    if len(ids) + photo_lines > MAX_RECEIPTS:
        raise FieldError("receipts", _("At most %(n)s receipts.", n=MAX_RECEIPTS))
    allowed = {r.id: r for r in expense.claimable(rep, first, last)}
    out, seen = [], set()
    for raw in ids:
        try:
            rid = int(raw)
        except (TypeError, ValueError):
            raise FieldError("receipts", _("Choose receipts from the list.")) from None
        if rid not in allowed:
            raise FieldError("receipts", _("Choose receipts from the list: your own receipts of the period that "
                                           "are on no other claim."))
        if rid not in seen:
            seen.add(rid)
            out.append(allowed[rid])
    return out


def file_travel_claim(rep: User, first: date | None, last: date | None, vehicle: str, km, receipts=(),
                      note: str = "", receipt_ids=()) -> TravelClaim:
    permissions.require(permissions.may_run_visits(rep), _("Travel claims are filed by reps."))
    first, last = check_period(rep, first, last)
    table = rates()
    if vehicle not in table:
        raise FieldError("vehicle", _("Choose a vehicle from the list."))
    km = parse_km(km)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise FieldError("note", _("At most %(n)s characters.", n=MAX_NOTE))
    lines = _receipts(rep, first, last, receipts)
    stand_alone = _expense_receipts(rep, first, last, receipt_ids, len(lines))
    overlapping = db.session.execute(scope.travel_claims(rep).where(
        TravelClaim.rep_id == rep.id, TravelClaim.status.in_((C.SUBMITTED, C.APPROVED)),
        TravelClaim.period_start <= last, TravelClaim.period_end >= first)).scalars().first()
    if overlapping is not None:
        raise Conflict(_("Claim %(code)s already covers part of this period.", code=overlapping.code))
    rate = table[vehicle]
    mileage_amount = int((km * rate).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    receipts_amount = sum(amount for _p, _k, amount in lines) + sum(r.amount for r in stand_alone)
    total = mileage_amount + receipts_amount
    if total <= 0:
        raise FieldError("km", _("Nothing to claim: give kilometres or receipts."))
    claim = TravelClaim(rep_id=rep.id, period_start=first, period_end=last, vehicle=vehicle, rate=rate,
                        claimed_km=km, computed_m=computed_metres(rep, rep, first, last),
                        mileage_amount=mileage_amount, receipts_amount=receipts_amount, amount=total, note=note,
                        status=C.SUBMITTED, created_at=now(), reason="")
    db.session.add(claim)
    db.session.flush()
    for photo, kind, amount in lines:
        db.session.add(TravelReceipt(travel_claim_id=claim.id, photo_id=photo.id, kind=kind, amount=amount))
    for receipt in stand_alone:
        db.session.add(TravelClaimReceipt(travel_claim_id=claim.id, receipt_id=receipt.id))
    db.session.flush()
    audit.record("travel_claim.file", claim, actor=rep, amount=total, claimed=str(km),
                 computed=str(claim.computed_km), receipts=[p.id for p, _k, _a in lines],
                 expense_receipts=[r.id for r in stand_alone])
    return claim


def _check_decider(actor: User, claim: TravelClaim) -> None:
    permissions.require(permissions.may_decide_travel_claims(actor))
    if actor.id == claim.rep_id:
        permissions.require(False, _("Nobody decides on their own claim."))


def _reason(raw, required: str | None = None) -> str:
    text = (raw or "").strip()
    if required and not text:
        raise FieldError("reason", required)
    if len(text) > MAX_NOTE:
        raise FieldError("reason", _("At most %(n)s characters.", n=MAX_NOTE))
    return text


def approve(claim: TravelClaim, actor: User, reason: str = "") -> LedgerLine:
    """Approve and pay the claimed amount: one payment line (category travel), staged with the claim's move."""
    _check_decider(actor, claim)
    if claim.status != C.SUBMITTED:
        raise Conflict(_("This claim is already decided."))
    reason = _reason(reason)
    decided = now()
    move_state(claim, C.SUBMITTED, C.APPROVED, _("This claim was decided in the meantime. Reload to see how."),
               decided_by_id=actor.id, decided_at=decided, approved_amount=claim.amount, reason=reason)
    payment = LedgerLine(kind=LedgerKind.PAYMENT, category=LedgerCategory.TRAVEL, travel_claim_id=claim.id,
                         amount=claim.amount, reason=reason, actor_id=actor.id, posted_at=decided,
                         posted_on=company_today())
    db.session.add(payment)
    db.session.flush()
    audit.record("travel_claim.approve", claim, actor=actor, amount=claim.amount, ledger_line=payment.id)
    return payment


def reject(claim: TravelClaim, actor: User, reason: str) -> TravelClaim:
    _check_decider(actor, claim)
    if claim.status != C.SUBMITTED:
        raise Conflict(_("This claim is already decided."))
    reason = _reason(reason, _("Say why the claim is rejected."))
    move_state(claim, C.SUBMITTED, C.REJECTED, _("This claim was decided in the meantime. Reload to see how."),
               decided_by_id=actor.id, decided_at=now(), approved_amount=0, reason=reason)
    audit.record("travel_claim.reject", claim, actor=actor, reason=reason)
    return claim


def reverse(claim: TravelClaim, actor: User, reason: str) -> LedgerLine:
    """Reverse the claim's payment with a negated line; the claim becomes reversed (its period free again)."""
    _check_decider(actor, claim)
    reason = _reason(reason, _("Say why the payment is reversed."))
    payment = payment_of(claim)
    if claim.status != C.APPROVED or payment is None:
        raise Conflict(_("Only a paid claim is reversed."))
    if ledger.reversed_line_ids([payment.id]):
        raise Conflict(_("This payment is already reversed."))
    move_state(claim, C.APPROVED, C.REVERSED, _("This claim was decided in the meantime. Reload to see how."))
    reversal = LedgerLine(kind=LedgerKind.REVERSAL, category=LedgerCategory.TRAVEL, travel_claim_id=claim.id,
                          amount=-payment.amount, reverses_id=payment.id, reverses_kind=LedgerKind.PAYMENT,
                          reason=reason, actor_id=actor.id, posted_at=now(), posted_on=company_today())
    db.session.add(reversal)
    db.session.flush()
    audit.record("travel_claim.reverse", claim, actor=actor, reverses=payment.id, amount=reversal.amount,
                 reason=reason)
    return reversal


def payment_of(claim: TravelClaim) -> LedgerLine | None:
    return db.session.execute(select(LedgerLine).where(LedgerLine.travel_claim_id == claim.id,
                                                       LedgerLine.kind == LedgerKind.PAYMENT)).scalar_one_or_none()


def lines_of(claim: TravelClaim) -> list[LedgerLine]:
    return list(db.session.execute(select(LedgerLine).where(LedgerLine.travel_claim_id == claim.id)
                                   .order_by(LedgerLine.id)).scalars())


def status_label(status: str) -> str:
    return {C.SUBMITTED: _("awaiting decision"), C.APPROVED: _("approved"), C.REJECTED: _("rejected"),
            C.REVERSED: _("reversed")}.get(status, status)
