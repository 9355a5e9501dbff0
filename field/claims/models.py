"""Claims (费用核销) against an activity's store, and the write-off ledger that pays them.

A claim is filed for one store of an approved activity; its approver sees what the type's rule
makes payable and approves that or an amount of their own with a reason. Approval appends a
payment line to the ledger. The ledger is append-only: a mistake is corrected by a reversing
line. The database holds the money rules that must survive a race or a bug:

- one payment per claim (a unique index on claim_id where kind = 'payment');
- a line is reversed at most once (reverses_id is unique);
- only a payment can be reversed: (reverses_id, reverses_kind) references (id, kind) of the
  reversed line and reverses_kind can only be 'payment', so a reversal of a reversal has no
  row to point at;
- at most one live claim (submitted or approved) per activity store;
- UPDATE of a ledger line is refused by a trigger (and DELETE on PostgreSQL; see the migration);
- a line pays exactly one claim: a promotion claim or a travel claim (check one_claim, migration 0018)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, ForeignKeyConstraint, Index, Integer, Numeric, String, \
    Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from field.activities.models import Activity, ActivityStore
from field.auth.models import User
from field.core import UTCDateTime, now
from field.extensions import db
from field.photos.models import OwnPhoto, Photo
from field.stores.models import Store


class ClaimStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"    # paid: its payment line is in the ledger
    REJECTED = "rejected"
    REVERSED = "reversed"    # its payment was reversed; the store may claim again


class LedgerCategory(StrEnum):
    PROMOTION = "promotion"   # a promotion claim's payment (claim_id, activity, store)
    TRAVEL = "travel"         # a travel-expense claim's payment (travel_claim_id): mileage and receipts


class LedgerKind(StrEnum):
    PAYMENT = "payment"
    REVERSAL = "reversal"


LIVE_CLAIM = "status IN ('submitted', 'approved')"


class Claim(db.Model):
    """An expense claim for one store of an activity: what was claimed, and what was decided.

    The decision keeps the figures the approver saw (budget, compliance, floor, payable), so a
    later change of budget or reviews never rewrites why an amount was paid."""

    __tablename__ = "claims"
    __table_args__ = (
        Index("uq_claims_live_activity_store", "activity_store_id", unique=True,
              sqlite_where=text(LIVE_CLAIM), postgresql_where=text(LIVE_CLAIM)),
        CheckConstraint("amount > 0", name="amount_positive"),
    )
    scope_via = ("activity_store", ActivityStore)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_store_id: Mapped[int] = mapped_column(ForeignKey("activity_stores.id"), index=True)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ClaimStatus.SUBMITTED, index=True)
    amount: Mapped[int] = mapped_column(Integer)  # claimed, minor units (fen)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    # The decision, with the computation it was made on.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    budget: Mapped[int | None] = mapped_column(Integer)
    verified_periods: Mapped[int | None] = mapped_column(Integer)
    required_periods: Mapped[int | None] = mapped_column(Integer)
    floor_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    payable: Mapped[int | None] = mapped_column(Integer)
    approved_amount: Mapped[int | None] = mapped_column(Integer)
    rejected_amount: Mapped[int | None] = mapped_column(Integer)  # claimed − approved: the remainder refused
    reason: Mapped[str] = mapped_column(Text, default="")  # why an override, or why rejected

    activity_store: Mapped[ActivityStore] = relationship()
    claimant: Mapped[User] = relationship(foreign_keys=[claimant_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    receipts: Mapped[list[Photo]] = relationship(secondary="claim_receipts", order_by="Photo.id")

    @property
    def overridden(self) -> bool:
        return self.approved_amount is not None and self.payable is not None and self.approved_amount != self.payable

    @property
    def code(self) -> str:
        return f"CLM-{self.id:06d}" if self.id else ""

    def __repr__(self) -> str:
        return f"<Claim {self.id} {self.status}>"


class ClaimReceipt(db.Model):
    """A receipt photo of a claim: a photo that went through the evidence pipeline (hashed,
    flagged, watermarked), taken at the claim's store."""

    __tablename__ = "claim_receipts"

    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id"), primary_key=True, index=True)


class LedgerLine(db.Model):
    """One write-off line (the design's WriteOff): a payment of a claim, or the reversal of one.

    `amount` is signed minor units: a payment ≥ 0, its reversal the same amount negated. Store,
    activity and activity store are copied from the claim so finance can slice the ledger
    without walking back through claims. `posted_on` is the company date (the export's period).
    `category` says which claim a line pays: 'promotion' (claim_id, activity, store) or 'travel'
    (travel_claim_id, a rep's travel-expense claim: no activity, no store) — one ledger for both."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        UniqueConstraint("id", "kind", name="uq_ledger_lines_id_kind"),
        UniqueConstraint("reverses_id", name="uq_ledger_lines_reverses_id"),
        ForeignKeyConstraint(["reverses_id", "reverses_kind"], ["ledger_lines.id", "ledger_lines.kind"],
                             name="fk_ledger_lines_reverses_payment"),
        CheckConstraint(
            "(kind = 'payment' AND reverses_id IS NULL AND reverses_kind IS NULL AND amount >= 0)"
            " OR (kind = 'reversal' AND reverses_id IS NOT NULL AND reverses_kind = 'payment' AND amount <= 0)",
            name="shape"),
        Index("uq_ledger_lines_one_payment_per_claim", "claim_id", unique=True,
              sqlite_where=text("kind = 'payment'"), postgresql_where=text("kind = 'payment'")),
        Index("uq_ledger_lines_one_payment_per_travel_claim", "travel_claim_id", unique=True,
              sqlite_where=text("kind = 'payment'"), postgresql_where=text("kind = 'payment'")),
        # A line pays one claim: a promotion claim (with its activity store) or a travel claim (migration 0018).
        CheckConstraint(
            "(category = 'promotion' AND claim_id IS NOT NULL AND activity_id IS NOT NULL"
            " AND activity_store_id IS NOT NULL AND store_id IS NOT NULL AND travel_claim_id IS NULL)"
            " OR (category = 'travel' AND travel_claim_id IS NOT NULL AND claim_id IS NULL)",
            name="one_claim"),
    )
    scope_via = ("activity_store", ActivityStore)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20), default=LedgerCategory.PROMOTION,
                                          server_default=LedgerCategory.PROMOTION.value)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"), index=True)
    activity_store_id: Mapped[int | None] = mapped_column(ForeignKey("activity_stores.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    travel_claim_id: Mapped[int | None] = mapped_column(ForeignKey("travel_claims.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    reverses_id: Mapped[int | None] = mapped_column(Integer)
    reverses_kind: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    posted_on: Mapped[date] = mapped_column(Date, index=True)

    claim: Mapped[Claim | None] = relationship()
    activity: Mapped[Activity | None] = relationship()
    activity_store: Mapped[ActivityStore | None] = relationship()
    store: Mapped[Store | None] = relationship()
    travel_claim: Mapped[TravelClaim | None] = relationship()
    actor: Mapped[User] = relationship()

    @property
    def is_reversal(self) -> bool:
        return self.kind == LedgerKind.REVERSAL

    def __repr__(self) -> str:
        return f"<LedgerLine {self.id} {self.kind} {self.amount}>"


class TravelClaim(db.Model):
    """A rep's travel-expense claim for a period: the kilometres claimed × the vehicle's rate, plus receipts
    (parking, tolls, transit) with their amounts. The mileage the workdays computed is kept beside it as filed
    (field/workday computes it), so the approver sees claimed, computed and the difference. Paid by a ledger
    line of category 'travel'; reversed like any payment."""

    __tablename__ = "travel_claims"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("period_end >= period_start", name="period_order"),
    )
    scope_rep_column = "rep_id"
    scope_region_column = None

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    vehicle: Mapped[str] = mapped_column(String(20))
    rate: Mapped[int] = mapped_column(Integer)                 # minor units per km, as it was when filed
    claimed_km: Mapped[Decimal] = mapped_column(Numeric(8, 1))
    computed_m: Mapped[int] = mapped_column(Integer)           # the workdays' mileage over the period, when filed
    mileage_amount: Mapped[int] = mapped_column(Integer)       # claimed_km × rate, rounded to the fen
    receipts_amount: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)               # mileage + receipts
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ClaimStatus.SUBMITTED, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_amount: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")

    rep: Mapped[User] = relationship(foreign_keys=[rep_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    receipts: Mapped[list[TravelReceipt]] = relationship(order_by="TravelReceipt.photo_id")
    expense_receipts: Mapped[list[ExpenseReceipt]] = relationship(secondary="travel_claim_receipts",
                                                                   order_by="ExpenseReceipt.id", viewonly=True)

    @property
    def code(self) -> str:
        return f"TRV-{self.id:06d}" if self.id else ""

    @property
    def computed_km(self) -> Decimal:
        return (Decimal(self.computed_m) / 1000).quantize(Decimal("0.1"))

    @property
    def difference_km(self) -> Decimal:
        return self.claimed_km - self.computed_km


class TravelReceipt(db.Model):
    """A receipt of a travel claim: one of the rep's photos (through the evidence pipeline), its kind and amount."""

    __tablename__ = "travel_receipts"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    travel_claim_id: Mapped[int] = mapped_column(ForeignKey("travel_claims.id"), primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id"), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(20))   # parking | toll | transit | other
    amount: Mapped[int] = mapped_column(Integer)

    photo: Mapped[Photo] = relationship()


class ExpenseReceipt(db.Model):
    """A receipt a rep adds on its own, when they pay (parking, toll, transit): its kind, amount, day and the photo
    taken of it (field/photos OwnPhoto, through the photo pipeline). A travel claim of the period then takes it
    (travel_claim_receipts). Never deleted: voided with a reason (an audit line), which takes it out of the
    receipts a claim may take."""

    __tablename__ = "expense_receipts"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)
    scope_rep_column = "rep_id"
    scope_region_column = None

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("own_photos.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))   # parking | toll | transit | other
    amount: Mapped[int] = mapped_column(Integer)    # minor units (fen)
    spent_on: Mapped[date] = mapped_column(Date)    # the rep's local day of the expense
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str] = mapped_column(Text, default="")

    rep: Mapped[User] = relationship(foreign_keys=[rep_id])
    photo: Mapped[OwnPhoto] = relationship()
    voided_by: Mapped[User | None] = relationship(foreign_keys=[voided_by_id])
    claims: Mapped[list[TravelClaim]] = relationship(secondary="travel_claim_receipts", order_by="TravelClaim.id",
                                                     viewonly=True)

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


class TravelClaimReceipt(db.Model):
    """A stand-alone receipt taken by a travel claim (as filed; rows are only added). A receipt is on at most one
    live claim (submitted or approved): field/workday/travel.py checks it; a rejected or reversed claim frees it."""

    __tablename__ = "travel_claim_receipts"

    travel_claim_id: Mapped[int] = mapped_column(ForeignKey("travel_claims.id"), primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("expense_receipts.id"), primary_key=True, index=True)


class LedgerIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete a ledger line: correct it with a reversal."""


@event.listens_for(Session, "before_flush")
def _refuse_ledger_edits(session, _context, _instances):
    """The ORM path to an UPDATE or DELETE of a ledger line is closed too (the database refuses
    it as well); a line once written is only ever read."""
    for obj in session.deleted:
        if isinstance(obj, LedgerLine):
            raise LedgerIsAppendOnly("ledger lines are never deleted; post a reversal")
    for obj in session.dirty:
        if isinstance(obj, LedgerLine) and session.is_modified(obj, include_collections=False):
            raise LedgerIsAppendOnly("ledger lines are never changed; post a reversal")
