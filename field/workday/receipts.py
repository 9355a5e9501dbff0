"""Stand-alone travel receipts (票据): a rep adds one when they pay — parking, a toll, transit — with its amount,
its day and a photo taken of it, through the photo pipeline (field/photos/own.py), from the phone's outbox when
there is no network. A travel claim of the period then takes the rep's receipts that no live claim holds
(field/workday/travel.py). A receipt is never deleted: it is voided with a reason (an audit line), and a voided
one is on no new claim. Operations stage and raise; they never commit."""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from field import audit, permissions, scope
from field.auth.models import User
from field.claims.models import ClaimStatus as C, ExpenseReceipt, TravelClaim, TravelClaimReceipt
from field.claims.operations import parse_amount
from field.core import Conflict, FieldError, local_today, now
from field.extensions import db
from field.photos import own
from field.photos.ingest import Upload
from field.photos.models import OwnPhoto, OwnPurpose

KINDS = {"parking": _l("Parking"), "toll": _l("Toll"), "transit": _l("Transit"), "other": _l("Other")}
MAX_DAYS_BACK = 62        # a receipt older than this is not added any more
MAX_AMOUNT = 10_000_00    # ¥10,000 on one receipt
MAX_NOTE = 500
MAX_REASON = 500
LIVE = (C.SUBMITTED, C.APPROVED)


def parse_day(rep: User, raw) -> date:
    """The day of the expense as typed (YYYY-MM-DD), in the rep's past two months, never in the future."""
    text = str(raw or "").strip()
    if not text:
        return local_today(rep)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise FieldError("spent_on", _("Give the day as a date, like 2026-12-05.")) from None
    today = local_today(rep)
    if day > today:
        raise FieldError("spent_on", _("The receipt's day cannot be in the future."))
    if day < today - timedelta(days=MAX_DAYS_BACK):
        raise FieldError("spent_on", _("At most %(n)s days back.", n=MAX_DAYS_BACK))
    return day


def parse_receipt_amount(raw) -> int:
    """Yuan as typed → fen: more than zero, at most two decimals, never negative (a clear message each)."""
    text = str(raw or "").strip()
    if text.startswith("-") or text.startswith("−"):
        raise FieldError("amount", _("A receipt's amount cannot be negative."))
    amount = parse_amount(text, "amount")
    if amount <= 0:
        raise FieldError("amount", _("A receipt's amount is more than zero."))
    if amount > MAX_AMOUNT:
        raise FieldError("amount", _("At most %(n)s yuan on one receipt.", n=MAX_AMOUNT // 100))
    return amount


def receipt_of_photo(photo: OwnPhoto) -> ExpenseReceipt | None:
    return db.session.execute(select(ExpenseReceipt).where(ExpenseReceipt.photo_id == photo.id)).scalar_one_or_none()


def add_receipt(rep: User, upload: Upload, kind: str, amount, spent_on, note: str = "") -> tuple[ExpenseReceipt, bool]:
    """(receipt, created). Everything typed is checked before the photo is read, so a refusal stores nothing; the
    same client id again (the outbox sending once more) answers the receipt it made."""
    permissions.require(permissions.may_run_visits(rep), _("Receipts are added by reps."))
    done = own.earlier(upload, rep, OwnPurpose.RECEIPT)
    if done is not None:
        receipt = receipt_of_photo(done)
        if receipt is not None:
            return receipt, False
    if kind not in KINDS:
        raise FieldError("kind", _("Say what the receipt is for."))
    amount = parse_receipt_amount(amount)
    day = parse_day(rep, spent_on)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise FieldError("note", _("At most %(n)s characters.", n=MAX_NOTE))
    own.check_file(upload)
    twin = db.session.execute(
        select(ExpenseReceipt).join(OwnPhoto, OwnPhoto.id == ExpenseReceipt.photo_id)
        .where(OwnPhoto.sha256 == own.content_hash(upload.data), ExpenseReceipt.voided_at.is_(None))
        .limit(1)).scalar_one_or_none()
    if twin is not None:
        raise Conflict(_("This very picture is already a receipt (of %(day)s): a receipt is claimed once.",
                         day=twin.spent_on.isoformat()))
    photo, _created = own.add_own_photo(upload, rep, OwnPurpose.RECEIPT)
    receipt = ExpenseReceipt(rep_id=rep.id, photo_id=photo.id, kind=kind, amount=amount, spent_on=day, note=note,
                             created_at=now(), void_reason="")
    db.session.add(receipt)
    db.session.flush()
    audit.record("receipt.add", receipt, actor=rep, kind=kind, amount=amount, on=day.isoformat(),
                 photo=photo.id, client_id=photo.client_id)
    return receipt, True


def live_claim(receipt: ExpenseReceipt) -> TravelClaim | None:
    """The claim awaiting decision or paid that holds this receipt, if any."""
    return db.session.execute(
        select(TravelClaim).join(TravelClaimReceipt, TravelClaimReceipt.travel_claim_id == TravelClaim.id)
        .where(TravelClaimReceipt.receipt_id == receipt.id, TravelClaim.status.in_(LIVE))).scalars().first()


def void_receipt(receipt: ExpenseReceipt, actor: User, reason: str) -> ExpenseReceipt:
    """Take a receipt out of play with a reason; its row and photo stay on record. A receipt on a live claim is
    not voided: the claim is decided (rejected, or its payment reversed) first."""
    if not permissions.may_void_receipt(actor):
        permissions.require(False, _("You cannot void this receipt."))
    if receipt.voided_at is not None:
        raise Conflict(_("This receipt is already voided."))
    if not permissions.may_void_receipt(actor, receipt):
        permissions.require(False, _("You cannot void this receipt."))
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", _("Say why the receipt is voided."))
    if len(reason) > MAX_REASON:
        raise FieldError("reason", _("At most %(n)s characters.", n=MAX_REASON))
    claim = live_claim(receipt)
    if claim is not None:
        raise Conflict(_("This receipt is on claim %(code)s: that claim is rejected or its payment reversed first.",
                         code=claim.code))
    receipt.voided_at, receipt.voided_by_id, receipt.void_reason = now(), actor.id, reason
    db.session.flush()
    audit.record("receipt.void", receipt, actor=actor, reason=reason, amount=receipt.amount)
    return receipt


def claimable(rep: User, first: date, last: date) -> list[ExpenseReceipt]:
    """The rep's receipts of the period a new claim may take: not voided, on no live claim; oldest first."""
    held = select(TravelClaimReceipt.receipt_id).join(
        TravelClaim, TravelClaim.id == TravelClaimReceipt.travel_claim_id).where(TravelClaim.status.in_(LIVE))
    return list(db.session.execute(
        scope.expense_receipts(rep).where(ExpenseReceipt.rep_id == rep.id, ExpenseReceipt.voided_at.is_(None),
                                          ExpenseReceipt.spent_on >= first, ExpenseReceipt.spent_on <= last,
                                          ExpenseReceipt.id.not_in(held))
        .order_by(ExpenseReceipt.spent_on, ExpenseReceipt.id)).scalars())


def recent(viewer: User, rep: User, limit: int = 50) -> list[ExpenseReceipt]:
    """A rep's receipts, newest first, as the viewer may see them."""
    return list(db.session.execute(
        scope.expense_receipts(viewer).where(ExpenseReceipt.rep_id == rep.id)
        .order_by(ExpenseReceipt.spent_on.desc(), ExpenseReceipt.id.desc()).limit(limit)).scalars())


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))
