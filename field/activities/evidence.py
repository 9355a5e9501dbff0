"""Evidence (活动举证): photos, and checklist answers, bound to one store of an activity for one
check period.

A photo taken at a store with a live activity becomes that activity's evidence for the period it
was received in, and only while that period lasts; the rep who took it binds it, once (binding
the same photo again answers the row already stored). A photo counts while it is not voided.

Also what a visit's photo step shows about the activities running at its store, and the photos
and checklist answers of given store periods, for that step and the verification queue."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Sequence

from flask_babel import gettext as _
from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError

from field import audit, permissions, scope
from field.activities import progress, rules
from field.activities.models import ActivityStore, Evidence
from field.activities.rules import Period
from field.auth.models import User
from field.core import Conflict, DomainError, company_day, company_today
from field.extensions import db
from field.photos.models import Photo
from field.visits.models import Visit, VisitStep

Key = tuple[int, int]  # (activity store id, period index)


def latest_checklists(keys: Iterable[Key]) -> dict[Key, dict]:
    """The latest checklist answers given for each (activity store, period), from live evidence."""
    keys = sorted(set(keys))
    out: dict[Key, dict] = {}
    for i in range(0, len(keys), 500):
        rows = db.session.execute(
            select(Evidence.activity_store_id, Evidence.period_index, Evidence.checklist)
            .outerjoin(Photo, Photo.id == Evidence.photo_id)
            .where(tuple_(Evidence.activity_store_id, Evidence.period_index).in_(keys[i:i + 500]),
                   progress.live_evidence())
            .order_by(Evidence.id))
        for as_id, index, answers in rows:
            if answers:
                out[(as_id, index)] = answers
    return out


def bound_photos(keys: Iterable[Key], user=None) -> dict[Key, list[tuple[Photo, int]]]:
    """The photos bound to each (activity store, period) that `user` may see, voided ones too, oldest
    first, each with the id of the evidence row that binds it."""
    keys = sorted(set(keys))
    out: dict[Key, list[tuple[Photo, int]]] = {}
    for i in range(0, len(keys), 500):
        rows = db.session.execute(
            scope.photos(user).join(Evidence, Evidence.photo_id == Photo.id)
            .where(tuple_(Evidence.activity_store_id, Evidence.period_index).in_(keys[i:i + 500]))
            .add_columns(Evidence.activity_store_id, Evidence.period_index, Evidence.id)
            .order_by(Evidence.id))
        for photo, as_id, index, evidence_id in rows:
            out.setdefault((as_id, index), []).append((photo, evidence_id))
    return out


# --- binding ------------------------------------------------------------------------------------

def answers(checklist_items: Sequence[str], confirmed: Iterable[str]) -> dict[str, bool]:
    """The full answer map for a type's checklist: every item, True where the rep confirmed it.

    An item not on the checklist is refused: the rep's page was made from another checklist."""
    items = list(checklist_items or [])
    confirmed = set(confirmed)
    unknown = confirmed - set(items)
    if unknown:
        raise DomainError(_("This checklist has changed since the page was opened. Reload and answer it again."))
    return {item: item in confirmed for item in items}


def current_period(activity_store: ActivityStore, day: date) -> Period | None:
    """The check period of this store that `day` falls in, or None outside the activity."""
    return rules.period_at(progress.store_periods(activity_store), day)


def _check_live(activity_store: ActivityStore) -> None:
    if activity_store.activity.status not in progress.LIVE:
        raise Conflict(_("This activity is not running: it takes no evidence."))


def _open_period(activity_store: ActivityStore, period_index: int, day: date, today: date) -> Period:
    """The period evidence received on `day` belongs to; it must be `period_index` and still open."""
    period = current_period(activity_store, day)
    if period is None:
        raise DomainError(_("The activity does not run on that day, so it takes no evidence."))
    if period.index != period_index:
        raise DomainError(_("This photo belongs to another check period. Reload the page and try again."))
    if period.end < today:
        raise DomainError(_("This check period is over: evidence is added while the period lasts."))
    return period


def _check_photo(photo: Photo, activity_store: ActivityStore, actor: User) -> None:
    if photo.rep_id != actor.id:
        raise DomainError(_("Only the rep who took a photo can use it as evidence."), 403)
    if photo.voided_at is not None:
        raise Conflict(_("This photo is voided: it cannot be evidence."))
    if photo.store_id != activity_store.store_id:
        raise DomainError(_("This photo was taken at another store."))


def _earlier(photo: Photo, activity_store: ActivityStore, period_index: int) -> Evidence | None:
    """The row already binding this photo, if it binds it here; binding it elsewhere is a conflict."""
    row = db.session.execute(select(Evidence).where(Evidence.photo_id == photo.id)).scalar_one_or_none()
    if row is not None and (row.activity_store_id != activity_store.id or row.period_index != period_index):
        raise Conflict(_("This photo is already evidence for another activity or period."))
    return row


def _new_row(activity_store: ActivityStore, period_index: int, photo: Photo | None, checklist: dict[str, bool],
             actor: User) -> Evidence:
    row = Evidence(activity_store=activity_store, period_index=period_index, photo=photo, checklist=checklist,
                   unconfirmed=sum(1 for done in checklist.values() if not done), created_by=actor)
    db.session.add(row)
    return row


def _audit(row: Evidence, activity_store: ActivityStore, actor: User) -> None:
    audit.record("evidence.bind", row, actor=actor, activity=activity_store.activity_id,
                 store=activity_store.store.code, period=row.period_index, photo=row.photo_id,
                 checklist=row.checklist)


def bind_photos(photos: Sequence[Photo], activity_store: ActivityStore, period_index: int,
                checklist: dict[str, bool], actor: User, _retry: bool = True) -> tuple[list[Evidence], int]:
    """Bind these photos (with the checklist answers) to the store's period: (rows, how many new).

    All or nothing: one photo refused refuses them all. A photo already bound here is answered
    as it is; with no photo at all, the checklist answers are recorded on their own."""
    _check_live(activity_store)
    today = company_today()
    if not photos:
        if not any(checklist.values()):
            raise DomainError(_("Take a photo or tick the checklist first: there is nothing to save."))
        # Checklist answers without a photo come from a rep of the store, like its photos.
        permissions.require(permissions.may_answer_checklist(actor, activity_store.store_id),
                            _("Only the store's rep can answer its checklist."))
        _open_period(activity_store, period_index, today, today)
        row = _new_row(activity_store, period_index, None, checklist, actor)
        _audit(row, activity_store, actor)
        return [row], 1
    try:
        with db.session.begin_nested():
            rows, new = [], []
            for photo in photos:
                _check_photo(photo, activity_store, actor)
                _open_period(activity_store, period_index, company_day(photo.created_at), today)
                earlier = _earlier(photo, activity_store, period_index)
                rows.append(earlier if earlier is not None
                            else _new_row(activity_store, period_index, photo, checklist, actor))
                if earlier is None:
                    new.append(rows[-1])
            db.session.flush()
    except IntegrityError:
        # The same photo bound by a retry a moment ago: answer as if it had been bound before.
        if not _retry:
            raise
        return bind_photos(photos, activity_store, period_index, checklist, actor, _retry=False)
    for row in new:
        _audit(row, activity_store, actor)
    return rows, len(new)


def bind_photo(photo: Photo, activity_store: ActivityStore, period_index: int, checklist: dict[str, bool],
               actor: User) -> Evidence:
    """Bind one photo taken at the store to the activity store's check period (see bind_photos)."""
    rows, _new = bind_photos([photo], activity_store, period_index, checklist, actor)
    return rows[0]


def unbound_step_photos(visit: Visit, step: VisitStep, actor: User) -> list[Photo]:
    """The actor's live photos of this visit step that are no activity's evidence yet, oldest first."""
    return list(db.session.execute(
        scope.photos(actor).where(Photo.visit_id == visit.id, Photo.step_id == step.id, Photo.rep_id == actor.id,
                                  Photo.voided_at.is_(None),
                                  ~select(Evidence.id).where(Evidence.photo_id == Photo.id).exists())
        .order_by(Photo.id)).scalars())


# --- what a visit's photo step shows --------------------------------------------------------

@dataclass
class VisitEvidence:
    """One live activity at the visit's store: its current period, where the evidence stands,
    the photos already bound this period, and the checklist answers given last."""

    item: progress.StorePeriod
    status: progress.EvidenceStatus
    photos: list[Photo]
    answers: dict

    @property
    def activity_store(self) -> ActivityStore:
        return self.item.activity_store

    @property
    def checklist(self) -> list[str]:
        return list(self.item.activity.type.checklist or [])


def for_visit(visit: Visit, user=None) -> list[VisitEvidence]:
    """The live activities at the visit's store today, each with its evidence for the current period."""
    today = company_today()
    items = progress.running_for_store([visit.store_id], today, user).get(visit.store_id, [])
    if not items:
        return []
    keys = [(i.activity_store.id, i.period.index) for i in items]
    statuses = progress.evidence_statuses([(i.activity_store, i.period) for i in items])
    photos = bound_photos(keys, user)
    answered = latest_checklists(keys)
    return [VisitEvidence(i, statuses[k], [p for p, _e in photos.get(k, [])], answered.get(k, {}))
            for i, k in zip(items, keys)]
