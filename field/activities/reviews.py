"""Verdicts on the verification queue (活动检核): a reviewer approves or rejects one store × check
period, or approves many at once; field/activities/queue.py says what waits.

Reviews are appended, never edited; the latest stands. A reviewer sends back what they saw (the
standing review's id and the newest evidence id): if either moved on, the verdict is refused with
what is there now, and the database refuses a second review following the same one, so two
reviewers at the same moment never both land."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Iterable, Sequence

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from field import audit, notifications, permissions, providers
from field.activities.models import Review, Verdict
from field.activities.queue import REVIEWABLE, Item, Key, load, standing
from field.auth.models import User
from field.core import MAX_ID, Conflict, DomainError
from field.extensions import db
from field.photos.flags import Flag

MAX_NOTE = 500


class Reason(StrEnum):
    """Why evidence is rejected: the pick list, with 'other' asking for words."""

    UNCLEAR = "unclear"
    WRONG_STORE = "wrong_store"
    NOT_IN_PLACE = "not_in_place"
    TOO_FEW = "too_few"
    CHECKLIST = "checklist"
    REUSED = "reused"
    NO_EVIDENCE = "no_evidence"
    OTHER = "other"


REASON_LABELS = {
    Reason.UNCLEAR: _l("Photo unclear or too dark"),
    Reason.WRONG_STORE: _l("Not this store"),
    Reason.NOT_IN_PLACE: _l("Display or material not in place"),
    Reason.TOO_FEW: _l("Not enough photos"),
    Reason.CHECKLIST: _l("Checklist does not match the photos"),
    Reason.REUSED: _l("Old or reused photo"),
    Reason.NO_EVIDENCE: _l("No evidence"),
    Reason.OTHER: _l("Other (say what)"),
}
VERDICT_LABELS = {Verdict.APPROVED: _l("approved"), Verdict.REJECTED: _l("rejected")}


# What a photo's flags suggest as the reason to reject, strongest first.
_FLAG_REASONS = (
    ({Flag.EXACT_REUSE, Flag.NEAR_REUSE, Flag.ALBUM, Flag.TIME_OUTSIDE_VISIT}, Reason.REUSED),
    ({Flag.EXIF_OUTSIDE_GEOFENCE, Flag.PHONE_OUTSIDE_GEOFENCE}, Reason.WRONG_STORE),
)


def suggested_reason(item: Item) -> str:
    """The reason a rejection form starts with: no evidence, too few photos, or what the live photos'
    flags say (a reused or old photo; one taken away from the store); '' when nothing suggests one."""
    if not item.rows:
        return Reason.NO_EVIDENCE.value
    if item.too_few:
        return Reason.TOO_FEW.value
    kinds = {flag.get("code") for photo in item.live_photos for flag in (photo.flags or [])}
    for flagged, reason in _FLAG_REASONS:
        if kinds & flagged:
            return reason.value
    return ""


def reason_label(code: str) -> str:
    try:
        return str(REASON_LABELS[Reason(code)])
    except ValueError:
        return code


def verdict_label(verdict: str) -> str:
    try:
        return str(VERDICT_LABELS[Verdict(verdict)])
    except ValueError:
        return verdict


class ReviewConflict(Conflict):
    """Someone reviewed first, or new evidence came in: `standing` is the review that stands now."""

    def __init__(self, message: str, standing: Review | None):
        super().__init__(message)
        self.standing = standing


def _check_verdict(verdict: str, reason: str, note: str) -> tuple[Verdict, str, str]:
    try:
        verdict = Verdict(verdict)
    except ValueError:
        raise DomainError(_("Approve or reject.")) from None
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(_("At most %(n)s characters.", n=MAX_NOTE))
    if verdict == Verdict.APPROVED:
        return verdict, "", note
    try:
        reason = Reason(reason)
    except ValueError:
        raise DomainError(_("Pick the reason for the rejection.")) from None
    if reason == Reason.OTHER and not note:
        raise DomainError(_("Say what is wrong: the rep reads it."))
    return verdict, reason, note


def _check_due(item: Item, verdict: Verdict) -> None:
    if item.line.activity.status not in REVIEWABLE:
        raise Conflict(_("This activity is not running: its evidence is not reviewed."))
    if not item.due:
        raise DomainError(_("This period is not due yet: it has no evidence and has not ended."))
    if verdict == Verdict.APPROVED and item.rows == 0:
        raise DomainError(_("There is no evidence to approve: reject the period for missing evidence."))


def _moved_on(item: Item, seen_review: int, seen_evidence: int) -> None:
    if item.review_id != seen_review:
        who = item.review.reviewer.name if item.review is not None else ""
        raise ReviewConflict(_("%(name)s reviewed this in the meantime: %(verdict)s. Nothing of yours was saved; "
                               "look again and decide.", name=who, verdict=verdict_label(item.review.verdict))
                             if item.review is not None else
                             _("This item changed in the meantime. Look again and decide."), item.review)
    if item.newest > seen_evidence:
        raise ReviewConflict(_("New evidence came in after you opened this item. Look at it and decide again."),
                             item.review)


def _require_reviewer(actor: User) -> None:
    permissions.require(permissions.may_review(actor), _("Supervisors and managers verify evidence."))


def record(item: Item, verdict: str, actor: User, *, reason: str = "", note: str = "", seen_review: int,
           seen_evidence: int) -> Review:
    """Append the actor's verdict on the item, if what they saw still stands; stage and audit it."""
    _require_reviewer(actor)
    verdict, reason, note = _check_verdict(verdict, reason, note)
    _check_due(item, verdict)
    _moved_on(item, seen_review, seen_evidence)
    review = Review(activity_store_id=item.line.id, period_index=item.period.index, verdict=verdict, reason=reason,
                    note=note, reviewer=actor, previous_id=item.review_id, evidence_upto=item.newest)
    try:
        with db.session.begin_nested():  # the unique (follows) key: of two reviewers at once, one lands
            db.session.add(review)
            db.session.flush()
    except IntegrityError:
        winner = standing([item.key]).get(item.key)
        raise ReviewConflict(_("%(name)s reviewed this at the same moment: %(verdict)s. Nothing of yours was "
                               "saved; look again and decide.", name=winner.reviewer.name if winner else "",
                               verdict=verdict_label(winner.verdict) if winner else ""), winner) from None
    audit.record("review.approve" if verdict == Verdict.APPROVED else "review.reject", review, actor=actor,
                 activity=item.line.activity_id, store=item.line.store.code, period=item.period.index,
                 reason=reason, note=note, evidence_upto=item.newest, follows=item.review_id)
    if verdict == Verdict.REJECTED:
        _notify_rejected(item, review, reason, note)
    providers.notify("review.recorded", review)  # incentives grant (or reverse) points for first-time approvals
    return review


def _notify_rejected(item: Item, review: Review, reason: str, note: str) -> None:
    """Tell the reps who shot the evidence (the store's rep when there is none) that it was rejected."""
    reps = {p.rep for p in item.live_photos if p.rep is not None} or {item.line.store.owner_rep}
    activity, store = item.line.activity, item.line.store
    label = REASON_LABELS.get(Reason(reason)) if reason in set(Reason) and reason != Reason.OTHER else None
    if label is not None and note:
        body = _l("Reason: %(reason)s. %(note)s", reason=label, note=note)
    elif label is not None:
        body = _l("Reason: %(reason)s.", reason=label)
    else:
        body = note
    notifications.send(sorted((r for r in reps if r is not None), key=lambda u: u.id), "evidence.rejected",
                       _l("Evidence rejected: %(store)s, %(activity)s", store=store.name, activity=activity.title),
                       body=body, url=notifications.path_for("activities.show", activity_id=activity.id),
                       key=f"review:{review.id}")


@dataclass
class BulkOutcome:
    approved: list[Item] = field(default_factory=list)
    skipped: list[tuple[Item, str]] = field(default_factory=list)


def parse_tokens(raw: Iterable[str]) -> list[tuple[Key, int, int]]:
    """'store:period:review:evidence' tokens as ((store, period), review, evidence); a bad one is refused."""
    out = []
    for token in raw:
        parts = token.split(":")
        if len(parts) != 4 or not all(p.isascii() and p.isdigit() and len(p) <= 10 and int(p) <= MAX_ID
                                      for p in parts):
            raise DomainError(_("The page sent an item it does not know. Reload and try again."), 400)
        as_id, index, review_id, newest = (int(p) for p in parts)
        out.append(((as_id, index), review_id, newest))
    return out


def bulk_approve(tokens: Sequence[tuple[Key, int, int]], actor: User, today: date) -> BulkOutcome:
    """Approve each item as seen, those needing no attention only; a verdict refused (a lost race)
    skips that item and keeps the others. An item outside scope refuses them all."""
    _require_reviewer(actor)
    if not tokens:
        raise DomainError(_("Tick the items to approve."))
    items = {item.key: item for item in load([t[0] for t in tokens], today, actor)}
    if len(items) != len({t[0] for t in tokens}):
        raise DomainError(_("Not found, or not yours to see."), 404)
    outcome = BulkOutcome()
    for key, seen_review, seen_evidence in tokens:
        item = items[key]
        if item.attention:
            outcome.skipped.append((item, _("needs a look of its own")))
            continue
        try:
            record(item, Verdict.APPROVED, actor, seen_review=seen_review, seen_evidence=seen_evidence)
        except DomainError as exc:  # record() stages nothing when it refuses
            outcome.skipped.append((item, exc.message))
        else:
            outcome.approved.append(item)
    return outcome
