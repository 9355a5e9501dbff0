"""Where an activity stands at its stores: the check periods each store owes, the evidence it has
for one, what runs at a store on a day (and which of those still need evidence), and compliance
per store and per activity.

Every query starts from field.scope; callers outside a request pass the user."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from field import scope
from field.activities import rules
from field.activities.models import Activity, ActivityStatus as S, ActivityStore, Evidence, Review, Verdict
from field.activities.rules import Compliance, Period
from field.extensions import db
from field.photos.models import Photo

# An activity that runs (or is approved and due to run) owes evidence on its days.
LIVE = (S.APPROVED, S.RUNNING)


def store_periods(activity_store: ActivityStore) -> list[Period]:
    """The check periods one store of an activity owes evidence for."""
    activity = activity_store.activity
    return rules.periods(activity.period_start, activity.period_end, activity.type.check_period,
                         activity_store.store.frequency_days)


@dataclass(frozen=True)
class StorePeriod:
    """One store of a running activity and the check period a given day falls in."""

    activity_store: ActivityStore
    period: Period

    @property
    def activity(self) -> Activity:
        return self.activity_store.activity


def _running(stmt, day: date) -> list[StorePeriod]:
    rows = db.session.execute(
        stmt.join(ActivityStore.activity)
        .where(Activity.status.in_(LIVE), Activity.period_start <= day, Activity.period_end >= day)
        # One query: the activity is joined already, its type and the store come along (Today asks on every view).
        .options(contains_eager(ActivityStore.activity).joinedload(Activity.type), joinedload(ActivityStore.store))
        .order_by(Activity.period_end, Activity.id, ActivityStore.id)).scalars()
    out = []
    for activity_store in rows:
        period = rules.period_at(store_periods(activity_store), day)
        if period is not None:
            out.append(StorePeriod(activity_store, period))
    return out


def running_for_store(store_ids: Iterable[int], day: date, user=None) -> dict[int, list[StorePeriod]]:
    """The approved or running activities at these stores on `day`, each with its current period.

    Keyed by store id (stores with none are left out); only what `user` may see. The dates
    decide, not the stored status, so a store shows its activity from the first day on."""
    ids = sorted(set(store_ids))
    out: dict[int, list[StorePeriod]] = {}
    for i in range(0, len(ids), 1000):
        stmt = scope.activity_stores(user).where(ActivityStore.store_id.in_(ids[i:i + 1000]))
        for item in _running(stmt, day):
            out.setdefault(item.activity_store.store_id, []).append(item)
    return out


def running_on(day: date, user=None) -> list[StorePeriod]:
    """Every store of a live activity the user may see, on `day`, with its current period."""
    return _running(scope.activity_stores(user), day)


def latest_verdicts(activity_store_ids: Iterable[int], periods: Iterable[int] | None = None
                    ) -> dict[tuple[int, int], Review]:
    """The review that stands for each (activity store, period index): the latest one appended.

    `periods` narrows the read to those period indices (the current ones, say)."""
    ids = sorted(set(activity_store_ids))
    out: dict[tuple[int, int], Review] = {}
    for chunk in (ids[i:i + 1000] for i in range(0, len(ids), 1000)):
        stmt = select(Review).where(Review.activity_store_id.in_(chunk))
        if periods is not None:
            stmt = stmt.where(Review.period_index.in_(sorted(set(periods))))
        for review in db.session.execute(stmt.order_by(Review.id)).scalars():
            out[(review.activity_store_id, review.period_index)] = review
    return out


def live_evidence():
    """Evidence that counts: a checklist on its own, or a photo not voided (Photo outer-joined)."""
    return or_(Evidence.photo_id.is_(None), Photo.voided_at.is_(None))


@dataclass(frozen=True)
class Tally:
    """What one store has bound for one period: live photos, live rows, the newest live row's id."""

    photos: int = 0
    rows: int = 0
    newest: int = 0


def tallies(activity_store_ids: Iterable[int], periods: Iterable[int] | None = None
            ) -> dict[tuple[int, int], Tally]:
    """Per (activity store, period index): live photos, live evidence rows, the newest live evidence id.

    `periods` narrows the read to those period indices."""
    ids = sorted(set(activity_store_ids))
    out: dict[tuple[int, int], Tally] = {}
    for i in range(0, len(ids), 1000):
        stmt = (select(Evidence.activity_store_id, Evidence.period_index, func.count(Evidence.photo_id),
                       func.count(Evidence.id), func.max(Evidence.id))
                .outerjoin(Photo, Photo.id == Evidence.photo_id)
                .where(Evidence.activity_store_id.in_(ids[i:i + 1000]), live_evidence()))
        if periods is not None:
            stmt = stmt.where(Evidence.period_index.in_(sorted(set(periods))))
        rows = db.session.execute(stmt.group_by(Evidence.activity_store_id, Evidence.period_index))
        for as_id, index, photos, count, newest in rows:
            out[(as_id, index)] = Tally(photos, count, newest)
    return out


@dataclass(frozen=True)
class EvidenceStatus:
    """What one store has for one check period: photos required and present, checklist, the standing
    verdict, and whether evidence came in after it (`has_new`: newer than what the verdict covered)."""

    photos_required: int
    photos_have: int
    checklist_items: int
    verdict: str | None = None
    reason: str = ""
    note: str = ""
    rows: int = 0
    has_new: bool = False

    @property
    def photos_missing(self) -> int:
        return max(0, self.photos_required - self.photos_have)

    @property
    def verified(self) -> bool:
        return self.verdict == Verdict.APPROVED

    @property
    def rejected(self) -> bool:
        return self.verdict == Verdict.REJECTED

    @property
    def needs_evidence(self) -> bool:
        """The rep still has to act: photos (or the checklist) are missing, or the evidence was
        rejected and nothing came in since."""
        if self.verified:
            return False
        if self.rejected and not self.has_new:
            return True
        return self.photos_missing > 0 or self.rows == 0

    @property
    def awaiting_review(self) -> bool:
        return not self.needs_evidence and not self.verified


def _status(activity_store: ActivityStore, period: Period, review: Review | None, counted: Tally) -> EvidenceStatus:
    kind = activity_store.activity.type
    covered = review.evidence_upto if review is not None else 0
    return EvidenceStatus(photos_required=kind.photos_per_period, photos_have=counted.photos,
                          checklist_items=len(kind.checklist or []),
                          verdict=review.verdict if review else None, reason=review.reason if review else "",
                          note=review.note if review else "", rows=counted.rows, has_new=counted.newest > covered)


def evidence_status(activity_store: ActivityStore, period: Period,
                    verdicts: dict[tuple[int, int], Review] | None = None) -> EvidenceStatus:
    """Counts for one store and check period (pass `verdicts` from latest_verdicts() to save a query)."""
    if verdicts is None:
        verdicts = latest_verdicts([activity_store.id])
    counted = tallies([activity_store.id]).get((activity_store.id, period.index), Tally())
    return _status(activity_store, period, verdicts.get((activity_store.id, period.index)), counted)


def evidence_statuses(items: Iterable[tuple[ActivityStore, Period]]) -> dict[tuple[int, int], EvidenceStatus]:
    """evidence_status() for many (activity store, period) pairs in two queries, keyed by (store id, index)."""
    items = list(items)
    ids, indices = [a.id for a, _p in items], {p.index for _a, p in items}
    verdicts, counted = latest_verdicts(ids, indices), tallies(ids, indices)
    return {(a.id, p.index): _status(a, p, verdicts.get((a.id, p.index)), counted.get((a.id, p.index), Tally()))
            for a, p in items}


def needs_evidence(store_ids: Iterable[int], day: date, user=None) -> dict[int, list[str]]:
    """Stores with a live activity whose current period still needs evidence on `day`: store id →
    the activities' titles (what Today and a visit's Plan say); only what `user` may see."""
    running = running_for_store(store_ids, day, user)
    pairs = [(item.activity_store, item.period) for items in running.values() for item in items]
    statuses = evidence_statuses(pairs)
    out: dict[int, list[str]] = {}
    for store_id, items in running.items():
        titles = [i.activity.title for i in items if statuses[(i.activity_store.id, i.period.index)].needs_evidence]
        if titles:
            out[store_id] = titles
    return out


def verified_indices(verdicts: dict[tuple[int, int], Review]) -> dict[int, set[int]]:
    """Activity store id → the period indices whose standing review approved them (one pass)."""
    out: dict[int, set[int]] = {}
    for (as_id, index), review in verdicts.items():
        if review.verdict == Verdict.APPROVED:
            out.setdefault(as_id, set()).add(index)
    return out


def store_compliance(activity_store: ActivityStore, as_of: date) -> Compliance:
    verified = verified_indices(latest_verdicts([activity_store.id])).get(activity_store.id, set())
    return rules.compliance(store_periods(activity_store), verified, as_of)


def compliance_by_store(activity_stores: list[ActivityStore], as_of: date) -> dict[int, Compliance]:
    """Compliance of each given activity store on `as_of` (one query for all their reviews).

    The verdicts are grouped by store once: scanning them all for each store was quadratic, and
    took three minutes of the ROI page over 30,000 activity stores (bench/roi.py)."""
    verified = verified_indices(latest_verdicts([a.id for a in activity_stores]))
    return {a.id: rules.compliance(store_periods(a), verified.get(a.id, set()), as_of) for a in activity_stores}


def activity_compliance(activity_ids: Iterable[int], as_of: date, user=None) -> dict[int, Compliance]:
    """Each activity's roll-up over the stores of it that `user` may see."""
    ids = sorted(set(activity_ids))
    if not ids:
        return {}
    stores = db.session.execute(
        scope.activity_stores(user).where(ActivityStore.activity_id.in_(ids))
        .options(selectinload(ActivityStore.activity).selectinload(Activity.type),
                 selectinload(ActivityStore.store))).scalars().all()
    per_store = compliance_by_store(list(stores), as_of)
    out = {i: Compliance(0, 0) for i in ids}
    for activity_store in stores:
        out[activity_store.activity_id] = out[activity_store.activity_id] + per_store[activity_store.id]
    return out
