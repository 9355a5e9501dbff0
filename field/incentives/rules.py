"""The points rules: which verified outcomes a task pays for, granting them once, and reversing them.

Points come only from verified outcomes:

- route_days — 'complete the route on N days': a day counts when the rep had visits on it and every one of
  them (cancelled ones aside) was completed without a flag; the task pays once, on the day the N-th counts;
- first_approved — 'evidence approved at first submission': a store's evidence for a check period whose
  first review approved it pays the reps who shot it; a later rejection of that period reverses the points;
- a_tier — 'all A-tier stores visited on frequency': every active A-tier store the rep owns had, inside the
  task's period, as many completed visits without flags as its frequency asks (one per `frequency_days`);
- follow_up — 'a follow-up closed on time': one the rep owned, closed at a completed visit without flags on
  or before its due day;
- new_store — 'a new store opened': a store added (its record created) inside the task's period whose FIRST
  completed visit — checked out inside the period too — has no flags pays the rep of that visit, once per store
  (outcome new_store:<store id>). A flagged first visit pays nobody (a later clean one does not make up for it);
  if that visit is later flagged or stops being completed, the grant is reversed (as the nightly run or the rep's
  next check-out finds), and a reversed store is not paid to that rep again.

evaluate(task) writes what is missing and reverses what stopped holding; running it again writes nothing
(the ledger's unique key keeps a grant for one (task, rep, outcome) single even when two run at once).
Nothing here commits: the request or the command does."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from field import scope
from field.activities.models import Evidence, Review, Verdict
from field.auth.models import User
from field.core import company_day, company_today, company_zone
from field.extensions import db
from field.incentives.models import EntryKind, IncentiveLevel, IncentiveTask, PointsEntry
from field.stores.models import Store
from field.visits.models import FollowUp, Visit, VisitStatus

ROUTE_DAYS, FIRST_APPROVED, A_TIER, FOLLOW_UP = "route_days", "first_approved", "a_tier", "follow_up"
NEW_STORE = "new_store"
KINDS = {
    ROUTE_DAYS: _l("Complete the route on N days"),
    FIRST_APPROVED: _l("Evidence approved at first submission"),
    A_TIER: _l("All A-tier stores visited on frequency"),
    FOLLOW_UP: _l("A follow-up closed on time"),
    NEW_STORE: _l("A new store opened"),
}
MAX_POINTS = 10_000
MAX_DAYS = 366


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


# --- the ledger ---------------------------------------------------------------------------------------

def _granted(task_id: int, rep_ids: Iterable[int] | None = None) -> dict[tuple[int, str], PointsEntry]:
    stmt = select(PointsEntry).where(PointsEntry.task_id == task_id, PointsEntry.kind == EntryKind.GRANT)
    if rep_ids is not None:
        stmt = stmt.where(PointsEntry.rep_id.in_(list(rep_ids)))
    return {(e.rep_id, e.outcome): e for e in db.session.execute(stmt).scalars()}


def _reversed(task_id: int) -> set[int]:
    return set(db.session.execute(select(PointsEntry.reverses_id).where(
        PointsEntry.task_id == task_id, PointsEntry.kind == EntryKind.REVERSAL)).scalars())


def _append(entry: PointsEntry) -> PointsEntry | None:
    """Stage one ledger line; None when the database already holds its twin (a grant raced by another)."""
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:
        return None
    return entry


def grant(task: IncentiveTask, rep_id: int, outcome: str, earned_on: date, note: str = "") -> PointsEntry | None:
    """The task's points for one outcome, at today's worth of the task; None when already granted."""
    if db.session.execute(select(PointsEntry.id).where(
            PointsEntry.task_id == task.id, PointsEntry.rep_id == rep_id, PointsEntry.outcome == outcome,
            PointsEntry.kind == EntryKind.GRANT)).first() is not None:
        return None
    return _append(PointsEntry(rep_id=rep_id, task_id=task.id, outcome=outcome, kind=EntryKind.GRANT,
                               points=task.points, earned_on=earned_on, task_name=task.name, note=note))


def reverse(entry: PointsEntry, earned_on: date, note: str = "") -> PointsEntry | None:
    """Undo a grant with its negative (the points it granted, whatever the task is worth now); once."""
    if entry.kind != EntryKind.GRANT:
        return None
    return _append(PointsEntry(rep_id=entry.rep_id, task_id=entry.task_id, outcome=entry.outcome,
                               kind=EntryKind.REVERSAL, points=-entry.points, earned_on=earned_on,
                               reverses_id=entry.id, task_name=entry.task_name, note=note))


# --- the outcomes of each kind ------------------------------------------------------------------------

@dataclass
class Outcomes:
    """What a task's rules find: outcomes to pay (rep, outcome) → day, and outcomes that stopped holding."""
    pay: dict[tuple[int, str], date]
    undo: set[tuple[int, str]]


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = company_zone()
    return (datetime.combine(start, time.min, zone).astimezone(timezone.utc),
            datetime.combine(end + timedelta(days=1), time.min, zone).astimezone(timezone.utc))


def _clean(visit_flags) -> bool:
    return not visit_flags


def _route_days(task: IncentiveTask, reps: list[int], today: date) -> Outcomes:
    end = min(task.period_end, today)
    days: dict[int, dict[date, bool]] = defaultdict(dict)
    rows = db.session.execute(select(Visit.rep_id, Visit.planned_for, Visit.status, Visit.flags).where(
        Visit.rep_id.in_(reps), Visit.planned_for >= task.period_start, Visit.planned_for <= end,
        Visit.status != VisitStatus.CANCELLED))
    for rep_id, day, status, flags in rows:
        ok = status == VisitStatus.COMPLETED and _clean(flags)
        days[rep_id][day] = days[rep_id].get(day, True) and ok
    pay = {}
    for rep_id, by_day in days.items():
        complete = sorted(d for d, ok in by_day.items() if ok)
        if len(complete) >= task.target:
            pay[(rep_id, f"route:{task.target}")] = complete[task.target - 1]
    return Outcomes(pay, set())


def _first_approved(task: IncentiveTask, reps: list[int], today: date) -> Outcomes:
    start, end = _utc_bounds(task.period_start, task.period_end)
    later = aliased(Review)
    rejected_later = exists().where(later.activity_store_id == Review.activity_store_id,
                                    later.period_index == Review.period_index, later.id > Review.id,
                                    later.verdict == Verdict.REJECTED)
    rows = db.session.execute(
        select(Review.id, Review.created_at, Evidence.created_by_id, rejected_later.label("undone"))
        .join(Evidence, and_(Evidence.activity_store_id == Review.activity_store_id,
                             Evidence.period_index == Review.period_index, Evidence.id <= Review.evidence_upto))
        .where(Review.previous_id == 0, Review.verdict == Verdict.APPROVED, Review.created_at >= start,
               Review.created_at < end, Evidence.created_by_id.in_(reps))
        .distinct())
    pay, undo = {}, set()
    for review_id, at, rep_id, undone in rows:
        key = (rep_id, f"review:{review_id}")
        if undone:
            undo.add(key)
        else:
            pay[key] = company_day(at)
    return Outcomes(pay, undo)


def _a_tier(task: IncentiveTask, reps: list[int], today: date) -> Outcomes:
    end = min(task.period_end, today)
    span = (task.period_end - task.period_start).days + 1
    stores = db.session.execute(select(Store.id, Store.owner_rep_id, Store.tier, Store.visit_every_days).where(
        Store.owner_rep_id.in_(reps), Store.tier == "A", Store.active.is_(True))).all()
    if not stores:
        return Outcomes({}, set())
    start_at, end_at = _utc_bounds(task.period_start, end)
    done: dict[tuple[int, int], int] = defaultdict(int)
    for rep_id, store_id, flags in db.session.execute(select(Visit.rep_id, Visit.store_id, Visit.flags).where(
            Visit.store_id.in_([s.id for s in stores]), Visit.status == VisitStatus.COMPLETED,
            Visit.checkout_at >= start_at, Visit.checkout_at < end_at)):
        if _clean(flags):
            done[(rep_id, store_id)] += 1
    met: dict[int, bool] = {}
    for store_id, rep_id, tier, every in stores:
        required = math.ceil(span / (every or _frequency(tier)))
        met[rep_id] = met.get(rep_id, True) and done[(rep_id, store_id)] >= required
    return Outcomes({(rep_id, "a_tier"): end for rep_id, ok in met.items() if ok}, set())


def _frequency(tier: str) -> int:
    from field.stores.models import frequency_days
    return frequency_days(tier, None)


def _follow_up(task: IncentiveTask, reps: list[int], today: date) -> Outcomes:
    start, end = _utc_bounds(task.period_start, task.period_end)
    rows = db.session.execute(
        select(FollowUp.id, FollowUp.owner_id, FollowUp.due_on, FollowUp.closed_at, Visit.flags)
        .join(Visit, Visit.id == FollowUp.closed_visit_id)
        .where(FollowUp.owner_id.in_(reps), FollowUp.status == "done", FollowUp.due_on.is_not(None),
               FollowUp.closed_at >= start, FollowUp.closed_at < end, Visit.status == VisitStatus.COMPLETED))
    pay = {}
    for fid, rep_id, due, closed_at, flags in rows:
        day = company_day(closed_at)
        if day <= due and _clean(flags):
            pay[(rep_id, f"follow_up:{fid}")] = day
    return Outcomes(pay, set())


def _new_store(task: IncentiveTask, reps: list[int], today: date) -> Outcomes:
    """Stores added inside the period; each one's first completed visit, if checked out inside the period without
    flags, pays its rep (new_store:<store id>). Grants of this task whose store no longer meets that (its first
    visit flagged since, or no longer completed) are undone."""
    start, end = _utc_bounds(task.period_start, task.period_end)
    first: dict[int, tuple] = {}
    rows = db.session.execute(
        select(Visit.store_id, Visit.rep_id, Visit.checkout_at, Visit.flags)
        .join(Store, Store.id == Visit.store_id)
        .where(Store.created_at >= start, Store.created_at < end, Visit.status == VisitStatus.COMPLETED,
               Visit.checkout_at.is_not(None))
        .order_by(Visit.store_id, Visit.checkout_at, Visit.id))
    for store_id, rep_id, checkout_at, flags in rows:
        first.setdefault(store_id, (rep_id, checkout_at, flags))
    wanted = set(reps)
    pay = {}
    for store_id, (rep_id, checkout_at, flags) in first.items():
        if rep_id in wanted and checkout_at < end and _clean(flags):
            pay[(rep_id, f"{NEW_STORE}:{store_id}")] = company_day(checkout_at)
    paid = db.session.execute(select(PointsEntry.rep_id, PointsEntry.outcome).where(
        PointsEntry.task_id == task.id, PointsEntry.kind == EntryKind.GRANT, PointsEntry.rep_id.in_(reps)))
    return Outcomes(pay, {(rep_id, outcome) for rep_id, outcome in paid if (rep_id, outcome) not in pay})


UNDO_NOTES = {NEW_STORE: "first visit flagged later"}
FINDERS = {ROUTE_DAYS: _route_days, FIRST_APPROVED: _first_approved, A_TIER: _a_tier, FOLLOW_UP: _follow_up,
           NEW_STORE: _new_store}


# --- evaluating -------------------------------------------------------------------------------------

@dataclass
class Result:
    granted: int = 0
    reversed: int = 0


def task_reps(task: IncentiveTask, only: Iterable[int] | None = None) -> list[int]:
    stmt = scope.region_reps(task.region)
    if only is not None:
        stmt = stmt.where(User.id.in_(list(only)))
    return list(db.session.execute(stmt).scalars())


def evaluate(task: IncentiveTask, only: Iterable[int] | None = None, today: date | None = None) -> Result:
    """Grant the task's outcomes that hold and are not paid yet; reverse paid ones that stopped holding."""
    today = today or company_today()
    result = Result()
    if not task.active or task.period_start > today:
        return result
    reps = task_reps(task, only)
    if not reps:
        return result
    found = FINDERS[task.kind](task, reps, today)
    granted = _granted(task.id, reps)
    for (rep_id, outcome), day in sorted(found.pay.items()):
        if (rep_id, outcome) not in granted and grant(task, rep_id, outcome, day) is not None:
            result.granted += 1
    undone = _reversed(task.id)
    note = UNDO_NOTES.get(task.kind, "rejected later")
    for key in sorted(found.undo):
        entry = granted.get(key)
        if entry is not None and entry.id not in undone and reverse(entry, today, note) is not None:
            result.reversed += 1
    return result


def live_tasks(kinds: Iterable[str] | None = None, today: date | None = None) -> list[IncentiveTask]:
    """Active tasks that have started (ended ones too: a late rejection still reverses)."""
    today = today or company_today()
    stmt = select(IncentiveTask).where(IncentiveTask.active.is_(True), IncentiveTask.period_start <= today)
    if kinds is not None:
        stmt = stmt.where(IncentiveTask.kind.in_(list(kinds)))
    return list(db.session.execute(stmt.order_by(IncentiveTask.id)).scalars())


def evaluate_all(only: Iterable[int] | None = None, kinds: Iterable[str] | None = None,
                 today: date | None = None) -> Result:
    total = Result()
    only = list(only) if only is not None else None
    for task in live_tasks(kinds, today):
        r = evaluate(task, only, today)
        total.granted += r.granted
        total.reversed += r.reversed
    return total


# --- levels -----------------------------------------------------------------------------------------

@dataclass
class Standing:
    points: int
    level: IncentiveLevel | None
    next: IncentiveLevel | None
    to_go: int  # points to the next level (0 at the top)
    pct: int    # of the way from this level's threshold to the next one's


def standing(points: int, levels: list[IncentiveLevel]) -> Standing:
    """Where `points` stand among `levels` (by threshold): a level is reached AT its threshold."""
    levels = sorted(levels, key=lambda lv: lv.threshold)
    reached = [lv for lv in levels if points >= lv.threshold]
    level = reached[-1] if reached else None
    ahead = [lv for lv in levels if points < lv.threshold]
    nxt = ahead[0] if ahead else None
    if nxt is None:
        return Standing(points, level, None, 0, 100)
    floor = level.threshold if level else 0
    pct = max(0, min(100, (points - floor) * 100 // max(1, nxt.threshold - floor)))
    return Standing(points, level, nxt, nxt.threshold - points, pct)
