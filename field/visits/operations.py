"""Everything that changes a visit: plan, check in, save steps, check, act, check out, co-visit.

Each function checks its rule, stages its writes and audits them, or raises a DomainError (4xx
with a message for the user); the request (or the command) that called it commits or rolls back.
A write the phone names with a client id (a Write) acts once: its replays answer what the first
made (client_writes), and the phone's time is kept beside the server's.
What photos and activities know (a step's photos, the evidence a store still owes) comes through
field.providers: visits sits below both and imports neither."""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from field import audit, permissions, providers
from field.i18n import locale_code
from field.auth.models import User
from field.core import Conflict, DomainError, local_today, now
from field.extensions import db
from field.geo import Point
from field.products.models import Product
from field.sales.models import Sale
from field.stores.models import Store
from field.visits import checkin as rules
from field.visits import steps as step_rules
from field.visits.models import (ClientWrite, CoVisit, FollowUp, Objective, StepKind, StepResult, Visit, VisitStatus,
                                 VisitStep, VisitType, WriteKind)
from field.visits.words import word_list
from field.visits.workflow import can_move, transition

class ReasonNeeded(DomainError):
    """Outside the fence or without a position, a check-in needs the rep's typed reason (422)."""


def _flag(visit: Visit, code: str, **detail) -> None:
    visit.flags = [*(visit.flags or []), {"code": code, **detail}]


def _require_rep(visit: Visit, actor: User) -> None:
    if visit.rep_id != actor.id:
        raise DomainError(_("Only the rep doing this visit can change it."), 403)


def _require_in_progress(visit: Visit) -> None:
    if visit.status == VisitStatus.CANCELLED:
        raise Conflict(_("This visit was cancelled meanwhile: nothing was saved."))
    if visit.status == VisitStatus.COMPLETED:
        raise Conflict(_("This visit is already checked out: nothing was saved."))
    if visit.status != VisitStatus.IN_PROGRESS:
        raise Conflict(_("This visit is not in progress: check in first."))


# --- writes from the phone: once each, with the phone's time ------------------------------------

@dataclass(frozen=True)
class Write:
    """A write as the phone names it: its client id (None: acts every time it is sent), the moment the
    rep tapped by the phone's clock (None: when the server received it), and whether the phone's
    outbox sent it (X-Field-Replay) rather than the page straight away."""
    client_id: str | None = None
    phone_at: datetime | None = None
    via_outbox: bool = False

    def tapped(self, received: datetime) -> datetime:
        """When it happened: the phone's time, never later than the server's."""
        return min(self.phone_at, received) if self.phone_at is not None else received


NO_WRITE = Write()


def phone_time(raw: str | None) -> datetime | None:
    """The phone's time of a write (`phone_at`); None when not sent. Unreadable, or ahead of the server's
    clock by more than the slack (a device clock set days ahead): refused, nothing written."""
    if not (raw or "").strip():
        return None
    at = rules.parse_phone_time(raw)
    if at is None:
        raise DomainError(_("The phone's time of this item could not be read; nothing was saved."), 422)
    if at > now() + rules.CLOCK_SLACK:
        raise DomainError(_("The phone's clock is ahead of the server's: set the phone's date and time "
                            "(automatic), then send again. Nothing was saved."), 422)
    return at


def read_write(client_id: str | None, phone_at: str | None, via_outbox: bool = False) -> Write:
    """A Write from the posted `client_id` (a UUID) and `phone_at`; a malformed one is refused (422)."""
    key = (client_id or "").strip() or None
    if key is not None:
        try:
            key = str(uuid.UUID(key))
        except ValueError:
            raise DomainError(_("Reload the page and try again."), 422) from None
    return Write(key, phone_time(phone_at), via_outbox)


def earlier_write(write: Write, actor: User, kind: str, visit: Visit | None = None) -> ClientWrite | None:
    """What this client id already did, None when it is new. The same id for another user, another kind
    of write or another visit is refused (409): it names one write only."""
    if write.client_id is None:
        return None
    done = db.session.execute(select(ClientWrite).where(ClientWrite.client_id == write.client_id)).scalar_one_or_none()
    if done is None:
        return None
    if done.user_id != actor.id or done.kind != kind or (visit is not None and done.visit_id != visit.id):
        raise Conflict(_("This item's id was already used for a different write, so it was not saved again."))
    return done


def _once(write: Write, actor: User, kind: str, visit: Visit | None, act, replayed_record):
    """Run `act()` once per client id: the write's row claims the id first (a savepoint: of two replays
    at the same moment one acts, the other finds the winner's row), then `act()` returns the record it
    made or changed. A replay returns `replayed_record(row)` and does nothing."""
    if write.client_id is None:
        return act()
    earlier = earlier_write(write, actor, kind, visit)
    if earlier is not None:
        return replayed_record(earlier)
    row = ClientWrite(client_id=write.client_id, user_id=actor.id, kind=kind, visit_id=visit.id if visit else None,
                      phone_at=write.phone_at, received_at=now())
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
            record = act()
            db.session.flush()
            row.record_id = record.id
            row.visit_id = record.id if isinstance(record, Visit) else row.visit_id
            db.session.flush()
    except IntegrityError:
        earlier = earlier_write(write, actor, kind, visit)
        if earlier is None:
            raise
        return replayed_record(earlier)
    return record


def _flag_once(visit: Visit, code: str, **detail) -> None:
    """A flag the visit may earn from several writes, kept once per moment of the visit."""
    if not any(f.get("code") == code and f.get("at") == detail.get("at") for f in visit.flags or []):
        _flag(visit, code, **detail)


def _judge_time(visit: Visit, write: Write, received: datetime, at: str) -> None:
    """Flag a check-in's or check-out's timing for the supervisor (late sync, phone clock off)."""
    for code in rules.time_flags(write.phone_at, received, write.via_outbox):
        minutes = round((received - write.phone_at).total_seconds() / 60)
        _flag(visit, code, at=at, minutes=minutes)


def _in_order(visit: Visit, write: Write, at: str) -> None:
    """A write the phone says came before the check-in (its clock, or the outbox's order, is wrong): flagged."""
    if write.phone_at is not None and visit.checkin_at is not None \
            and write.phone_at < visit.checkin_at - rules.CLOCK_SLACK:
        _flag_once(visit, rules.Flag.OUT_OF_ORDER, at=at,
                   minutes=round((visit.checkin_at - write.phone_at).total_seconds() / 60))


# --- Plan -----------------------------------------------------------------------------

# Planning lives in planning.plan_visits (one or many stores, one transaction).


def objectives_preview(store: Store, visit_type: VisitType, viewer: User) -> list[tuple[str, str, FollowUp | None]]:
    """Plan: what the next visit to this store sets out to do, before anyone arrives."""
    out = [("follow_up", f.text, f) for f in db.session.execute(
        select(FollowUp).where(FollowUp.store_id == store.id, FollowUp.status == "open")
        .order_by(FollowUp.due_on.is_(None), FollowUp.due_on, FollowUp.id)).scalars()]
    out += [("goal", goal, None) for goal in (visit_type.goals or [])]
    titles = providers.ask("needs_evidence", [store.id], local_today(viewer), viewer, default={}).get(store.id, [])
    out += [("activity", _("Evidence for %(title)s", title=t), None) for t in titles]
    return out


# --- Do: check-in ---------------------------------------------------------------------------

def _planned_today(rep: User, store: Store, visit_type: VisitType) -> Visit | None:
    """The visit of this type planned for the rep at this store today, which a check-in from the
    store's page starts rather than leaving it planned beside a second visit."""
    return db.session.execute(select(Visit).where(
        Visit.rep_id == rep.id, Visit.store_id == store.id, Visit.visit_type_id == visit_type.id,
        Visit.status == VisitStatus.PLANNED, Visit.planned_for == local_today(rep))
        .order_by(Visit.id).limit(1)).scalar_one_or_none()


def _finite_speed(kmh: float) -> int | None:
    """A speed fit to store and show; None when no time passed between two places (the flag says
    "impossible travel" without a figure, and JSON never carries Infinity)."""
    return round(kmh) if math.isfinite(kmh) else None


def check_in(rep: User, store: Store, visit_type: VisitType, *, position: Point | None,
             accuracy_m: float | None, position_at: datetime | None, reason: str,
             client_key: str | None, visit: Visit | None = None, write: Write = NO_WRITE) -> Visit:
    """Start a visit at `store` (a planned one, or a new one). Out of the fence needs a reason.

    The same client_key twice returns the first visit: a double tap makes one visit. The check-in
    happened when the rep tapped (`write.phone_at`); when the server got it is kept beside."""
    client_key = client_key or write.client_id
    if client_key:
        earlier = db.session.execute(select(Visit).where(Visit.client_key == client_key)).scalar_one_or_none()
        if earlier is not None:
            if earlier.rep_id != rep.id:
                raise DomainError(_("This form was already used."), 409)
            return earlier
    write = Write(client_key, write.phone_at, write.via_outbox)
    return _once(write, rep, WriteKind.CHECK_IN, visit, lambda: _check_in(
        rep, store, visit_type, position=position, accuracy_m=accuracy_m, position_at=position_at, reason=reason,
        client_key=client_key, visit=visit, write=write), lambda done: db.session.get(Visit, done.record_id))


def _check_in(rep: User, store: Store, visit_type: VisitType, *, position: Point | None,
              accuracy_m: float | None, position_at: datetime | None, reason: str,
              client_key: str | None, visit: Visit | None, write: Write) -> Visit:
    if visit is not None and visit.status == VisitStatus.CANCELLED:
        raise Conflict(_("This visit was cancelled meanwhile: nothing was saved."))
    if not permissions.may_run_visits(rep):
        raise permissions.NotAllowed(_("Only reps check in to visits."))
    if not store.active:
        raise DomainError(_("This store is deactivated."))
    busy = db.session.execute(select(Visit).where(
        Visit.rep_id == rep.id, Visit.status == VisitStatus.IN_PROGRESS)).scalar_one_or_none()
    if busy is not None:
        raise Conflict(_("You are still in a visit at %(store)s: check out or cancel it first.",
                         store=busy.store.name))
    received = now()
    if position_at is not None and position_at > received + rules.CLOCK_SLACK:
        raise DomainError(_("The position's time is in the future; check the phone's clock."))
    tapped = write.tapped(received)
    previous = db.session.execute(
        select(Visit.checkin_lat, Visit.checkin_lng, Visit.checkin_at)
        .where(Visit.rep_id == rep.id, Visit.checkin_at.is_not(None), Visit.checkin_lat.is_not(None))
        .order_by(Visit.checkin_at.desc()).limit(1)).first()
    prev = (Point(previous[0], previous[1]), previous[2]) if previous else None
    verdict = rules.assess(position, accuracy_m, position_at, tapped, store.point, store.geofence_m, prev)
    reason = (reason or "").strip()
    if verdict.needs_reason and not reason:
        if rules.Flag.NO_POSITION in verdict.flags:
            raise ReasonNeeded(_("No position from the phone. Say why to check in without one."))
        raise ReasonNeeded(_("You are %(m)s m from the store, outside its %(r)s m fence. Say why to check in here.",
                             m=round(verdict.distance_m), r=store.geofence_m))
    if len(reason) > 500:
        raise ReasonNeeded(_("At most %(n)s characters.", n=500))

    try:
        with db.session.begin_nested():
            if visit is None:
                visit = _planned_today(rep, store, visit_type)
            if visit is None:
                visit = Visit(rep=rep, store=store, visit_type=visit_type, status=VisitStatus.PLANNED,
                              planned_for=local_today(rep), flags=[])
                db.session.add(visit)
                db.session.flush()
            elif visit.rep_id != rep.id or visit.store_id != store.id:
                raise DomainError(_("This visit is not yours."), 404)
            visit.client_key = client_key
            visit.checkin_at, visit.checkin_received_at = tapped, received
            if position is not None:
                visit.checkin_lat, visit.checkin_lng = position.lat, position.lng
            visit.checkin_accuracy_m = accuracy_m
            visit.checkin_position_at = position_at
            visit.checkin_distance_m = verdict.distance_m
            visit.checkin_reason = reason
            for code in verdict.flags:
                detail = {}
                if code == rules.Flag.OUTSIDE_GEOFENCE:
                    detail = {"distance_m": round(verdict.distance_m), "fence_m": store.geofence_m, "reason": reason}
                elif code == rules.Flag.NO_POSITION:
                    detail = {"reason": reason}
                elif code == rules.Flag.POOR_ACCURACY:
                    detail = {"accuracy_m": round(accuracy_m)}
                elif code == rules.Flag.IMPLAUSIBLE_ACCURACY:
                    detail = {"accuracy_m": accuracy_m}
                elif code == rules.Flag.IMPOSSIBLE_TRAVEL and prev is not None:
                    kmh = rules.speed_kmh(prev[0], prev[1], position, position_at or tapped)
                    detail = {"speed_kmh": _finite_speed(kmh)}
                _flag(visit, code, at="check_in", **detail)
            _judge_time(visit, write, received, "check_in")
            for source, text, follow_up in objectives_preview(store, visit.visit_type, rep):
                db.session.add(Objective(visit=visit, source=source, text=text, follow_up=follow_up))
            transition(visit, VisitStatus.IN_PROGRESS, rep, distance_m=verdict.distance_m, flags=verdict.flags)
    except IntegrityError:
        # The partial unique index or the client key: another tap got there first. The savepoint
        # undid this tap's writes and nothing else of the request.
        if client_key:
            earlier = db.session.execute(select(Visit).where(Visit.client_key == client_key)).scalar_one_or_none()
            if earlier is not None:
                return earlier
        raise Conflict(_("You are already in a visit: check out or cancel it first.")) from None
    providers.notify("visit.checked_in", visit)  # alerts evaluate the rules about this rep
    return visit


# --- Do: steps ----------------------------------------------------------------------------------

def _step_of(visit: Visit, step_id: int) -> VisitStep:
    step = db.session.get(VisitStep, step_id)
    if step is None or step.visit_type_id != visit.visit_type_id:
        raise DomainError(_("Not found, or not yours to see."), 404)
    return step


def products_by_sku(skus) -> dict[str, Product]:
    skus = [s for s in skus if s]
    if not skus:
        return {}
    return {p.sku: p for p in db.session.execute(select(Product).where(Product.sku.in_(skus))).scalars()}


def _step_result(done: ClientWrite) -> StepResult | None:
    return db.session.get(StepResult, done.record_id)


def save_step(visit: Visit, step_id: int, form, actor: User, write: Write = NO_WRITE) -> StepResult:
    """Save one step on its own; re-saving replaces it while the visit is in progress."""
    _require_rep(visit, actor)

    def act() -> StepResult:
        _require_in_progress(visit)
        step = _step_of(visit, step_id)
        promotions = (providers.ask("competitor_promotion_types", default={})
                      if step.kind == StepKind.COMPETITOR else None)
        value = step_rules.parse(step, form, products_by_sku(form.getlist("sku")), promotions)
        result = _result(visit, step)
        result.status, result.value, result.skip_reason, result.saved_at = "done", value, "", write.tapped(now())
        _in_order(visit, write, "step")
        audit.record("visit.step", visit, actor=actor, step=step.id, kind=step.kind)
        providers.notify("visit.step_saved", visit, step, result, actor)  # competitors derive their sightings; orders: an order step goes to the dealer
        return result
    return _once(write, actor, WriteKind.STEP, visit, act, _step_result)


def skip_step(visit: Visit, step_id: int, reason: str, actor: User, write: Write = NO_WRITE) -> StepResult:
    _require_rep(visit, actor)

    def act() -> StepResult:
        _require_in_progress(visit)
        step = _step_of(visit, step_id)
        why = (reason or "").strip()
        if not why:
            raise step_rules.StepInvalid({"skip_reason": _("Say why the step is skipped.")})
        if len(why) > 500:
            raise step_rules.StepInvalid({"skip_reason": _("At most %(n)s characters.", n=500)})
        result = _result(visit, step)
        result.status, result.value, result.skip_reason, result.saved_at = "skipped", {}, why, write.tapped(now())
        _in_order(visit, write, "step")
        audit.record("visit.step_skip", visit, actor=actor, step=step.id, reason=why)
        providers.notify("visit.step_saved", visit, step, result, actor)
        return result
    return _once(write, actor, WriteKind.STEP_SKIP, visit, act, _step_result)


def _result(visit: Visit, step: VisitStep) -> StepResult:
    result = db.session.execute(select(StepResult).where(
        StepResult.visit_id == visit.id, StepResult.step_id == step.id)).scalar_one_or_none()
    if result is None:
        result = StepResult(visit=visit, step=step)
        db.session.add(result)
    return result


# --- Check ------------------------------------------------------------------------------

def photo_counts(visit: Visit) -> dict[int, int]:
    """How many photos each step of the visit holds that are not voided: {step id: count} (photos
    answer; without them no step has any)."""
    return providers.ask("step_photo_counts", visit, default={})


def step_states(visit: Visit, counts: dict[int, int] | None = None) -> dict[int, str | None]:
    """Each step of the visit's type: "done", "skipped" or None; photo steps by their photos."""
    counts = photo_counts(visit) if counts is None else counts
    saved = {r.step_id: r.status for r in visit.results}
    return {s.id: step_rules.step_state(s, saved.get(s.id), counts.get(s.id, 0)) for s in visit.visit_type.steps}


def missing_required(visit: Visit, counts: dict[int, int] | None = None) -> list[VisitStep]:
    """Required steps neither done nor skipped with a reason (a photo step: short of its photos)."""
    states = step_states(visit, counts)
    return [s for s in visit.visit_type.steps if s.required and states[s.id] is None]


def _photo_checks(visit: Visit, counts: dict[int, int], states: dict, locale: str | None) -> list[dict]:
    """Required photos present: every required photo step, and optional ones that have photos.
    A step skipped with a reason is left to the required-steps check."""
    checks = []
    for step in visit.visit_type.steps:
        have = counts.get(step.id, 0)
        if step.kind != StepKind.PHOTO or states[step.id] == "skipped" or not (step.required or have):
            continue
        need = step_rules.min_photos(step)
        checks.append({"code": "photos", "step": step.label(locale), "ok": have >= need, "have": have,
                       "need": need})
    return checks


def auto_checks(visit: Visit, locale: str | None, counts: dict[int, int] | None = None) -> list[dict]:
    """The automatic Check beside the objectives: required steps, photos, checklist score, stock floors.
    Steps are named in `locale` ("en" or "zh_CN"), the reader's language."""
    counts = photo_counts(visit) if counts is None else counts
    missing = missing_required(visit, counts)
    checks = [{"code": "required_steps", "ok": not missing, "missing": [s.label(locale) for s in missing]}]
    checks += _photo_checks(visit, counts, step_states(visit, counts), locale)
    for result in visit.results:
        if result.status != "done":
            continue
        if result.step.kind == StepKind.CHECKLIST and result.value.get("total"):
            passed, total = result.value["passed"], result.value["total"]
            checks.append({"code": "checklist", "step": result.step.label(locale), "ok": passed == total,
                           "passed": passed, "total": total})
        if result.step.kind == StepKind.STOCK_COUNT:
            floors = result.step.config.get("floor", {})
            low = [line for line in result.value.get("lines", [])
                   if line["sku"] in floors and line["shelf"] + line["back"] < int(floors[line["sku"]])]
            checks.append({"code": "stock_floor", "step": result.step.label(locale), "ok": not low,
                           "low": [f"{line['name']} ({line['shelf'] + line['back']})" for line in low]})
    return checks


def mark_objective(visit: Visit, objective_id: int, met: bool, note: str, actor: User,
                   write: Write = NO_WRITE) -> Objective:
    _require_rep(visit, actor)

    def act() -> Objective:
        _require_in_progress(visit)
        objective = db.session.get(Objective, objective_id)
        if objective is None or objective.visit_id != visit.id:
            raise DomainError(_("Not found, or not yours to see."), 404)
        objective.met, objective.note = met, (note or "").strip()[:500]
        _in_order(visit, write, "objective")
        audit.record("visit.objective", visit, actor=actor, objective=objective.id, met=met)
        return objective
    return _once(write, actor, WriteKind.OBJECTIVE, visit, act, lambda done: db.session.get(Objective, done.record_id))


# --- Act --------------------------------------------------------------------------------

def follow_up_owners(visit: Visit) -> list[User]:
    """Who can own a follow-up from this visit: the rep, their supervisor, their teammates."""
    rep = visit.rep
    people = [rep]
    if rep.supervisor is not None:
        people.append(rep.supervisor)
        people += db.session.execute(select(User).where(
            User.supervisor_id == rep.supervisor_id, User.id != rep.id, User.active.is_(True))
            .order_by(User.name)).scalars().all()
    return people


def add_follow_up(visit: Visit, text: str, owner_id: int, due_on: date | None, actor: User,
                  write: Write = NO_WRITE) -> FollowUp:
    _require_rep(visit, actor)
    return _once(write, actor, WriteKind.FOLLOW_UP, visit, lambda: _add_follow_up(visit, text, owner_id, due_on,
                                                                                  actor, write),
                 lambda done: db.session.get(FollowUp, done.record_id))


def _add_follow_up(visit: Visit, text: str, owner_id: int, due_on: date | None, actor: User,
                   write: Write) -> FollowUp:
    _require_in_progress(visit)
    text = (text or "").strip()
    errors = {}
    if not text:
        errors["text"] = _("Say what needs doing.")
    elif len(text) > 500:
        errors["text"] = _("At most %(n)s characters.", n=500)
    owner = next((u for u in follow_up_owners(visit) if u.id == owner_id), None)
    if owner is None:
        errors["owner"] = _("Pick someone from the list.")
    if due_on is not None and due_on < local_today(actor, write.tapped(now())):
        errors["due_on"] = _("The due date is in the past.")
    if errors:
        raise step_rules.StepInvalid(errors)
    follow_up = FollowUp(store_id=visit.store_id, visit=visit, text=text, owner=owner, due_on=due_on,
                         created_by_id=actor.id, status="open")
    db.session.add(follow_up)
    _in_order(visit, write, "follow_up")
    audit.record("follow_up.create", follow_up, actor=actor, visit=visit.id, owner=owner.login)
    return follow_up


# --- Check-out --------------------------------------------------------------------------

def check_out(visit: Visit, actor: User, *, position: Point | None, accuracy_m: float | None,
              position_at: datetime | None, reason: str = "", write: Write = NO_WRITE) -> Visit:
    """Finish the visit: every required step done or skipped; dwell and position judged;
    order lines not sent to a dealer become Sales; follow-ups whose objective was met are closed. The visit ends when the
    rep tapped (`write.phone_at`); a tap the phone puts before the check-in is flagged out of order."""
    _require_rep(visit, actor)
    return _once(write, actor, WriteKind.CHECK_OUT, visit, lambda: _check_out(
        visit, actor, position=position, accuracy_m=accuracy_m, position_at=position_at, reason=reason, write=write),
        lambda done: visit)


def _check_out(visit: Visit, actor: User, *, position: Point | None, accuracy_m: float | None,
               position_at: datetime | None, reason: str, write: Write) -> Visit:
    _require_in_progress(visit)
    missing = missing_required(visit)
    if missing:
        raise DomainError(_("Finish or skip these steps first: %(steps)s",
                            steps=word_list([s.label(locale_code()) for s in missing])))
    received = now()
    tapped = write.tapped(received)
    if tapped < visit.checkin_at:
        _flag(visit, rules.Flag.OUT_OF_ORDER, at="check_out",
              minutes=round((visit.checkin_at - tapped).total_seconds() / 60))
        tapped = visit.checkin_at
    verdict = rules.assess(position, accuracy_m, position_at, tapped, visit.store.point,
                           visit.store.geofence_m)
    visit.checkout_at, visit.checkout_received_at = tapped, received
    if position is not None:
        visit.checkout_lat, visit.checkout_lng = position.lat, position.lng
    visit.checkout_accuracy_m = accuracy_m
    visit.checkout_position_at = position_at
    _judge_time(visit, write, received, "check_out")
    visit.checkout_distance_m = verdict.distance_m
    visit.checkout_reason = (reason or "").strip()[:500]
    for code in verdict.flags:
        if code != rules.Flag.STALE_POSITION:
            detail = {"distance_m": round(verdict.distance_m)} if verdict.distance_m is not None else {}
            if code == rules.Flag.IMPLAUSIBLE_ACCURACY:
                detail["accuracy_m"] = accuracy_m
            _flag(visit, code, at="check_out", **detail)
    minimum = visit.visit_type.min_dwell_minutes or 0
    dwell = (tapped - visit.checkin_at).total_seconds() / 60
    if minimum and dwell < minimum:
        _flag(visit, rules.Flag.SHORT_DWELL, minutes=round(dwell, 1), minimum=minimum)
    sold_on = local_today(visit.rep, tapped)
    for result in visit.results:
        # An order step that went to a dealer becomes sales when the dealer delivers (field/orders).
        if result.status == "done" and result.step.kind == StepKind.ORDER_LINES and not providers.ask(
                "order_replaces_visit_sales", result, default=False):
            products = products_by_sku([line["sku"] for line in result.value.get("lines", [])])
            for i, line in enumerate(result.value.get("lines", [])):
                product = products.get(line["sku"])
                db.session.add(Sale(store_id=visit.store_id, sold_on=sold_on, product=product,
                                    category=product.category if product else "", quantity=line["quantity"],
                                    amount=line["amount"], source="visit", visit_id=visit.id,
                                    source_key=f"visit:{visit.id}:step:{result.step_id}:line:{i}"))
    for objective in visit.objectives:
        if objective.follow_up is not None and objective.met and objective.follow_up.status == "open":
            objective.follow_up.status = "done"
            objective.follow_up.closed_visit_id = visit.id
            objective.follow_up.closed_at = tapped
    transition(visit, VisitStatus.COMPLETED, actor, dwell_minutes=round(dwell, 1))
    providers.notify("visit.checked_out", visit)  # alerts evaluate the rules about this rep
    return visit


def cancel(visit: Visit, actor: User, reason: str) -> Visit:
    """Cancel a planned or running visit, with the reason (permissions.may_cancel_visit says who)."""
    can_move(visit, VisitStatus.CANCELLED)
    permissions.require(permissions.may_cancel_visit(actor, visit))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the visit is cancelled."))
    visit.cancel_reason = reason[:500]
    transition(visit, VisitStatus.CANCELLED, actor, reason=reason)
    return visit


# --- Co-visit -----------------------------------------------------------------------------

def scorecard(visit_types) -> list[dict]:
    """The co-visit type's scorecard items [{label, max}]."""
    covisit = db.session.execute(select(VisitType).where(VisitType.code == "co_visit")).scalar_one_or_none()
    if covisit is None:
        return []
    for step in covisit.steps:
        if step.kind == StepKind.SCORECARD:
            return step.config.get("items", [])
    return []


def score_visit(visit: Visit, supervisor: User, form, comment: str) -> CoVisit:
    """A supervisor scores a rep's visit (in progress or done) on the co-visit scorecard; once."""
    if not permissions.supervises(supervisor, visit.rep):
        raise permissions.NotAllowed(_("Only the rep's supervisor can score this visit."))
    if not permissions.may_score_visit(supervisor, visit):
        raise Conflict(_("Score a visit once it has started."))
    items = scorecard(None)
    if not items:
        raise DomainError(_("The co-visit type has no scorecard."))
    scores, errors = {}, {}
    for i, item in enumerate(items):
        raw = (form.get(f"score-{i}") or "").strip()
        try:
            score = int(raw)
        except ValueError:
            errors[f"score-{i}"] = _("Score “%(item)s” from 0 to %(max)s.", item=item["label"], max=item["max"])
            continue
        if not 0 <= score <= int(item["max"]):
            errors[f"score-{i}"] = _("Score “%(item)s” from 0 to %(max)s.", item=item["label"], max=item["max"])
            continue
        scores[item["label"]] = score
    if errors:
        raise step_rules.StepInvalid(errors)
    co = CoVisit(visit=visit, supervisor=supervisor, scores=scores, total=sum(scores.values()),
                 max_total=sum(int(i["max"]) for i in items), comment=(comment or "").strip()[:1000])
    try:
        with db.session.begin_nested():  # one score per supervisor and visit, even for two taps at once
            db.session.add(co)
            audit.record("visit.co_visit", visit, actor=supervisor, total=co.total)
    except IntegrityError:
        raise Conflict(_("You have already scored this visit.")) from None
    return co


def answer_co_visit(co: CoVisit, rep: User, text: str) -> CoVisit:
    if co.visit.rep_id != rep.id:
        raise DomainError(_("Not found, or not yours to see."), 404)
    text = (text or "").strip()
    if not text or len(text) > 1000:
        raise DomainError(_("Write a comment of at most %(n)s characters.", n=1000))
    co.rep_comment = text
    audit.record("visit.co_visit_answer", co.visit, actor=rep)
    return co
