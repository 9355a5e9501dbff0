"""Starting and ending the working day, and closing the days nobody ended. Operations stage and raise
DomainError; they never commit (field/transaction.py does).

A start or an end may carry the phone's client id (the outbox sends a write again until it is answered):
the same id again answers the day it made and changes nothing; the id is unique in the table, so two sends
at the same moment cannot both write."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, time

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from field import audit
from field.auth.models import User
from field.core import Conflict, DomainError, local_today, now, user_zone
from field.extensions import db
from field.geo import Point
from field.photos import own
from field.photos.ingest import Upload
from field.photos.models import OwnPurpose
from field.workday import rules
from field.workday.models import Workday


@dataclass(frozen=True)
class Fix:
    """A position from the phone (None: the phone gave none) and the moment of the tap (the phone's time,
    already checked not to be ahead of the server's: field/visits/operations.phone_time)."""
    point: Point | None = None
    accuracy_m: float | None = None
    tapped_at: datetime | None = None
    client_id: str | None = None


def expected_hours() -> tuple[time, time, time]:
    cfg = current_app.config
    return (rules.parse_hhmm(cfg.get("WORKDAY_START"), rules.DEFAULT_START),
            rules.parse_hhmm(cfg.get("WORKDAY_END"), rules.DEFAULT_END),
            rules.parse_hhmm(cfg.get("WORKDAY_CLOSE_AT"), rules.DEFAULT_CLOSE_AT))


def day_of(rep: User, day) -> Workday | None:
    return db.session.execute(select(Workday).where(Workday.rep_id == rep.id, Workday.day == day)).scalar_one_or_none()


def open_day(rep: User) -> Workday | None:
    """The rep's latest day still open (started, not ended)."""
    return db.session.execute(select(Workday).where(Workday.rep_id == rep.id, Workday.ended_at.is_(None))
                              .order_by(Workday.day.desc()).limit(1)).scalar_one_or_none()


def _by_client_id(client_id: str | None, rep: User, column) -> Workday | None:
    if client_id is None:
        return None
    done = db.session.execute(select(Workday).where(
        or_(Workday.start_client_id == client_id, Workday.end_client_id == client_id))).scalar_one_or_none()
    if done is None:
        return None
    if done.rep_id != rep.id or getattr(done, column.key) != client_id:
        raise Conflict(_("This item's id was already used for a different write, so it was not saved again."))
    return done


def _selfie(rep: User, fix: Fix, selfie: Upload | None, side: str) -> int | None:
    """Store the optional selfie of a start or an end through the photo pipeline (field/photos/own.py): its id.
    Its client id comes from the tap's, so the outbox sending the tap again names the same photo; a bad file
    raises (4xx) and the caller's start or end is not written either."""
    if selfie is None or not selfie.data:
        return None
    key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"field:workday:{side}:{fix.client_id}")) if fix.client_id \
        else str(uuid.uuid4())
    photo, _created = own.add_own_photo(replace(selfie, client_id=key), rep, OwnPurpose.SELFIE)
    return photo.id


def start_day(rep: User, fix: Fix, selfie: Upload | None = None) -> Workday:
    """Start the rep's day (their local today), with an optional selfie. Twice is refused (409); a replay of the
    same tap answers the day."""
    replayed = _by_client_id(fix.client_id, rep, Workday.start_client_id)
    if replayed is not None:
        return replayed
    received = now()
    at = min(fix.tapped_at, received) if fix.tapped_at is not None else received
    day = local_today(rep, at)
    if day_of(rep, day) is not None:
        raise Conflict(_("Your day was already started; it cannot be started twice."))
    earlier = open_day(rep)
    if earlier is not None:
        raise Conflict(_("Your day of %(day)s is still open: end it first.", day=earlier.day.isoformat()))
    start, end, _close = expected_hours()
    workday = Workday(rep_id=rep.id, day=day, started_at=at, start_received_at=received,
                      start_lat=fix.point.lat if fix.point else None, start_lng=fix.point.lng if fix.point else None,
                      start_accuracy_m=fix.accuracy_m, start_client_id=fix.client_id,
                      flags=rules.day_flags(at, None, user_zone(rep), start, end))
    try:
        with db.session.begin_nested():
            db.session.add(workday)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Your day was already started; it cannot be started twice.")) from None
    workday.start_photo_id = _selfie(rep, fix, selfie, "start")
    db.session.flush()
    audit.record("workday.start", workday, actor=rep, day=day.isoformat(), flags=workday.flags,
                 photo=workday.start_photo_id)
    return workday


def end_day(rep: User, fix: Fix, selfie: Upload | None = None) -> Workday:
    """End the rep's open day, with an optional selfie. With none open (not started, or ended already): refused
    (409)."""
    replayed = _by_client_id(fix.client_id, rep, Workday.end_client_id)
    if replayed is not None:
        return replayed
    workday = open_day(rep)
    if workday is None:
        raise Conflict(_("There is no started day to end: start your day first."))
    received = now()
    at = min(fix.tapped_at, received) if fix.tapped_at is not None else received
    if at < workday.started_at:
        raise DomainError(_("The day cannot end before it started. Check the phone's clock and try again."), 422)
    start, end, _close = expected_hours()
    workday.ended_at, workday.end_received_at, workday.end_client_id = at, received, fix.client_id
    workday.end_lat = fix.point.lat if fix.point else None
    workday.end_lng = fix.point.lng if fix.point else None
    workday.end_accuracy_m = fix.accuracy_m
    workday.flags = rules.day_flags(workday.started_at, at, user_zone(rep), start, end)
    workday.end_photo_id = _selfie(rep, fix, selfie, "end")
    db.session.flush()
    audit.record("workday.end", workday, actor=rep, day=workday.day.isoformat(), flags=workday.flags,
                 photo=workday.end_photo_id)
    return workday


def close_open_days(at: datetime | None = None) -> list[Workday]:
    """Close every open day whose local close time has passed (at its close time), flagged no_end."""
    at = at or now()
    start, end, close_at = expected_hours()
    closed = []
    for workday in db.session.execute(select(Workday).where(Workday.ended_at.is_(None))
                                      .order_by(Workday.id)).scalars():
        zone = user_zone(workday.rep)
        moment = rules.close_moment(workday.day, zone, close_at)
        if moment > at:
            continue
        workday.ended_at = max(moment, workday.started_at)
        workday.end_received_at = at
        workday.auto_closed = True
        workday.flags = rules.day_flags(workday.started_at, workday.ended_at, zone, start, end, auto_closed=True)
        audit.record("workday.close", workday, actor=audit.SYSTEM, day=workday.day.isoformat())
        closed.append(workday)
    db.session.flush()
    return closed
