"""The alert rules: what each one watches, its thresholds, and the findings it makes for one region.

Each rule is a function `(ctx, params) -> list[Finding]` over one region (ctx.region and what a manager
of exactly that region may see, ctx.viewer), written as a few set-based queries — never a query per rep
or per store — that reuse the domains' own functions where they exist (planning.overdue_days,
queue.overdue, progress.compliance_by_store, roi.figures.rollups). A finding is one condition in one
period; field/alerts/evaluate.py turns new findings into alerts and clears the alerts whose finding
is gone.

The decision itself — is this over the threshold? — is a small pure function beside each rule
(`fires_*`), so tests pin each rule at its threshold without a database too."""
from __future__ import annotations

import re

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace
from typing import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, and_, cast, func, select
from sqlalchemy.orm import selectinload

from field import scope
from field.activities import progress, queue
from field.activities.models import Activity, ActivityStatus, ActivityStore
from field.auth.models import Region, Role, User
from field.core import company_zone
from field.extensions import db
from field.photos.flags import Flag as PhotoFlag
from field.photos.models import Photo
from field.roi import figures
from field.roi.queries import Filters
from field.stores.models import Store, frequency_days
from field.visits.history import day_bounds
from field.visits.models import Visit, VisitStatus
from field.visits.planning import overdue_days
from field.workday.models import Workday

MAX_LISTED = 20  # record ids an alert keeps (its links); the counts are whole
RECENT_DAYS = 28  # evidence periods that ended longer ago than this are history, not an alert


# --- thresholds ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """One threshold of a rule: an integer in [low, high], or a time of day ("HH:MM") in [low, high]."""

    name: str
    label: object  # lazy text
    default: int | str
    low: int | str
    high: int | str
    kind: str = "int"  # int | time
    unit: object = ""

    def parse(self, raw) -> int | str:
        """The value a person typed, or ValueError with the sentence that says what is allowed."""
        text = str(raw if raw is not None else "").strip()
        if self.kind == "time":
            match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
            if match is None or int(match[1]) > 23 or int(match[2]) > 59:
                raise ValueError(_l("Write a time of day like 10:00."))
            shown = f"{int(match[1]):02d}:{match[2]}"
            if not self.low <= shown <= self.high:
                raise ValueError(_l("Between %(low)s and %(high)s.", low=self.low, high=self.high))
            return shown
        try:
            value = int(text)
        except ValueError:
            raise ValueError(_l("Write a whole number from %(low)s to %(high)s.", low=self.low,
                                high=self.high)) from None
        if not self.low <= value <= self.high:
            raise ValueError(_l("Write a whole number from %(low)s to %(high)s.", low=self.low, high=self.high))
        return value


@dataclass(frozen=True)
class Finding:
    """One condition in one period: the alert it becomes is keyed by rule, subject and period."""

    rule: str
    subject: str
    period: date
    rep_id: int | None = None
    store_id: int | None = None
    activity_id: int | None = None
    detail: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.subject}:{self.period.isoformat()}"


@dataclass
class Context:
    """One evaluation: the region, its day (company calendar), the moment, and what the region's
    manager would see (`viewer`, so every query goes through field/scope.py). `rep_id` narrows the rules
    about reps to one (an event: that rep checked in)."""

    region: Region
    day: date
    moment: datetime
    rep_id: int | None = None
    cache: dict = field(default_factory=dict)

    @property
    def viewer(self):
        # Not a person: the scope of a manager of exactly this region (scope.py reads role, id, regions).
        return SimpleNamespace(id=0, role=Role.MANAGER, regions=[self.region], is_authenticated=True,
                               timezone=None, locale=None)

    def rep_ids(self):
        """The region's active reps (one of them, for an event), as a subquery of ids."""
        stmt = scope.reps(self.viewer).with_only_columns(User.id)
        if self.rep_id is not None:
            stmt = stmt.where(User.id == self.rep_id)
        return stmt

    def rollups(self):
        """The ROI page's per-activity figures for this region today (read once for the rules that share them)."""
        if "rollups" not in self.cache:
            filters = Filters(start=self.day, end=self.day, region=self.region)
            self.cache["rollups"] = figures.rollups(filters, self.viewer, self.day)
        return self.cache["rollups"]

    def running(self, ids) -> dict[int, Activity]:
        """Which of these activities are running, with their type (one query)."""
        if not ids:
            return {}
        rows = db.session.execute(select(Activity).where(Activity.id.in_(sorted(ids)),
                                                         Activity.status == ActivityStatus.RUNNING)
                                  .options(selectinload(Activity.type))).scalars()
        return {a.id: a for a in rows}


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _pct(part: int, whole: int) -> Decimal:
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1")) if whole else Decimal(0)


# --- planned visits missed ------------------------------------------------------------------------

def fires_missed(missed: int, min_missed: int) -> bool:
    return missed >= min_missed


def missed_visits(ctx: Context, p: dict) -> list[Finding]:
    """Yesterday's planned visits still planned (neither done nor cancelled): one alert per rep and day."""
    yesterday = ctx.day - timedelta(days=1)
    rows = db.session.execute(
        select(Visit.rep_id, func.count(), func.min(Visit.id))
        .where(Visit.planned_for == yesterday, Visit.status == VisitStatus.PLANNED,
               Visit.rep_id.in_(ctx.rep_ids()))
        .group_by(Visit.rep_id)).all()
    return [Finding("missed_visits", f"rep:{rep_id}", yesterday, rep_id=rep_id,
                    detail={"missed": n, "threshold": p["min_missed"]})
            for rep_id, n, _first in rows if fires_missed(n, p["min_missed"])]


# --- coverage: due stores left unvisited ------------------------------------------------------------

def fires_coverage(covered: int, total: int, min_pct: int) -> bool:
    """Coverage below the floor (a rep with no stores has nothing to cover)."""
    return total > 0 and Fraction(covered * 100, total) < min_pct


def coverage(ctx: Context, p: dict) -> list[Finding]:
    """Per rep: the share of their active stores not left unvisited more than `overdue_days` past the
    day they fell due (planning.overdue_days; a store never visited counts from the day it was added).
    Under `min_coverage_pct`, one alert per rep and week. One query: each store's last completed
    visit is an index probe (visits' store, status, check-out index)."""
    last_at = (select(func.max(Visit.checkout_at))
               .where(Visit.store_id == Store.id, Visit.status == VisitStatus.COMPLETED)
               .correlate(Store).scalar_subquery())
    rows = db.session.execute(
        scope.stores(ctx.viewer)
        .where(Store.active.is_(True), Store.owner_rep_id.in_(ctx.rep_ids()))
        .with_only_columns(Store.id, Store.owner_rep_id, Store.tier, Store.visit_every_days, Store.created_at,
                           last_at)).all()
    zone = company_zone()
    per_rep: dict[int, list] = {}
    for store_id, rep_id, tier, every, created, last in rows:
        since = (last or created).astimezone(zone).date()
        late = overdue_days(since, frequency_days(tier, every), ctx.day)
        counts = per_rep.setdefault(rep_id, [0, 0, []])
        counts[1] += 1
        if late is not None and late > p["overdue_days"]:
            if len(counts[2]) < MAX_LISTED:
                counts[2].append(store_id)
        else:
            counts[0] += 1
    week = monday(ctx.day)
    return [Finding("coverage", f"rep:{rep_id}", week, rep_id=rep_id,
                    detail={"covered": covered, "total": total, "pct": str(_pct(covered, total)),
                            "threshold": p["min_coverage_pct"], "days": p["overdue_days"], "store_ids": late})
            for rep_id, (covered, total, late) in sorted(per_rep.items())
            if fires_coverage(covered, total, p["min_coverage_pct"])]


# --- no check-in by a time of day -----------------------------------------------------------------

def fires_no_checkin(local_now: time, by: time, checked_in: bool) -> bool:
    return local_now >= by and not checked_in


def works_weekday(day: date) -> bool:
    """Monday to Friday: the days a rep is out whether or not a visit is planned."""
    return day.weekday() < 5


def no_checkin(ctx: Context, p: dict) -> list[Finding]:
    """Reps with no check-in today once the company's clock has passed `by_time`. A check-in later in
    the day clears the alert (the supervisor wanted to know the rep had not started). Monday to Friday
    every rep is expected out; on a Saturday or Sunday only a rep with a visit planned for that day."""
    zone = company_zone()
    local = ctx.moment.astimezone(zone)
    by = time.fromisoformat(p["by_time"])
    if ctx.day > local.date() or (ctx.day == local.date() and not fires_no_checkin(local.time(), by, False)):
        return []
    start, end = day_bounds(ctx.day, zone)
    # The reps who checked in (or had a visit planned) that day as one list read by the day's range of
    # the check-in index, not a probe per rep through all of that rep's visits (SQLite's choice for an
    # EXISTS: 100 ms an area at bench scale).
    checked = User.id.not_in(select(Visit.rep_id).where(Visit.checkin_at >= start, Visit.checkin_at < end))
    expected = [] if works_weekday(ctx.day) else [
        User.id.in_(select(Visit.rep_id).where(Visit.planned_for == ctx.day))]
    rep_ids = db.session.execute(
        select(User.id).where(User.id.in_(ctx.rep_ids()), checked, *expected).order_by(User.id)).scalars()
    return [Finding("no_checkin", f"rep:{rep_id}", ctx.day, rep_id=rep_id, detail={"by": p["by_time"]})
            for rep_id in rep_ids]


# --- flagged visits ------------------------------------------------------------------------------

def fires_flagged(flagged: int, min_flagged: int) -> bool:
    return flagged >= min_flagged


def _by_checkin_of(rep_ids):
    """`visits.rep_id IN rep_ids` for visits read by a day or two's range of the check-in index. Spelled
    COALESCE(rep_id, 0) — the same value, rep_id is never NULL — so that no planner reads them instead
    through the rep index, each rep's whole history (SQLite's choice: 100 ms an area at bench scale,
    12 ms by the range)."""
    return func.coalesce(Visit.rep_id, 0).in_(rep_ids)


def _has_flags():
    # Flags are a JSON list; as text '[{"code": …}]' on SQLite and PostgreSQL alike (as field.visits.history reads them).
    return cast(Visit.flags, Text).like('%"code"%')


def flagged_visits(ctx: Context, p: dict) -> list[Finding]:
    """Visits checked in yesterday or today with a flag: one alert per rep and day at `min_flagged`."""
    zone = company_zone()
    start, _end = day_bounds(ctx.day - timedelta(days=1), zone)
    _start, end = day_bounds(ctx.day, zone)
    rows = db.session.execute(
        select(Visit.id, Visit.rep_id, Visit.checkin_at)
        .where(Visit.checkin_at >= start, Visit.checkin_at < end, _by_checkin_of(ctx.rep_ids()), _has_flags())
        .order_by(Visit.id)).all()
    per: dict[tuple[int, date], list[int]] = {}
    for visit_id, rep_id, at in rows:
        per.setdefault((rep_id, at.astimezone(zone).date()), []).append(visit_id)
    return [Finding("flagged_visits", f"rep:{rep_id}", day, rep_id=rep_id,
                    detail={"flagged": len(ids), "threshold": p["min_flagged"], "visit_ids": ids[:MAX_LISTED]})
            for (rep_id, day), ids in sorted(per.items()) if fires_flagged(len(ids), p["min_flagged"])]


# --- visits on a day never started (field/workday) ---------------------------------------------------

def fires_no_start(visits: int, started: bool, min_visits: int) -> bool:
    return not started and visits >= min_visits


def no_workday_start(ctx: Context, p: dict) -> list[Finding]:
    """Reps who checked in to stores yesterday or today without starting their working day (company calendar):
    one alert per rep and day at `min_visits`. Starting the day later clears it."""
    zone = company_zone()
    start, _end = day_bounds(ctx.day - timedelta(days=1), zone)
    _start, end = day_bounds(ctx.day, zone)
    rows = db.session.execute(
        select(Visit.id, Visit.rep_id, Visit.checkin_at)
        .where(Visit.checkin_at >= start, Visit.checkin_at < end, _by_checkin_of(ctx.rep_ids()),
               Visit.status != VisitStatus.CANCELLED).order_by(Visit.id)).all()
    per: dict[tuple[int, date], list[int]] = {}
    for visit_id, rep_id, at in rows:
        per.setdefault((rep_id, at.astimezone(zone).date()), []).append(visit_id)
    started = set(db.session.execute(
        scope.query(Workday, ctx.viewer).where(Workday.rep_id.in_(ctx.rep_ids()), Workday.day >= ctx.day - timedelta(days=1),
                                               Workday.day <= ctx.day).with_only_columns(Workday.rep_id, Workday.day)).all())
    return [Finding("no_workday_start", f"rep:{rep_id}", day, rep_id=rep_id,
                    detail={"visits": len(ids), "visit_ids": ids[:MAX_LISTED]})
            for (rep_id, day), ids in sorted(per.items())
            if fires_no_start(len(ids), (rep_id, day) in started, p["min_visits"])]


# --- evidence overdue -------------------------------------------------------------------------------

def fires_overdue(period_end: date, today: date, grace_days: int) -> bool:
    """A check period with no evidence is an alert `grace_days` after it ended (and for RECENT_DAYS)."""
    return grace_days <= (today - period_end).days - 1 < RECENT_DAYS


def evidence_overdue(ctx: Context, p: dict) -> list[Finding]:
    """Check periods over with no evidence and no review (the verification queue's overdue list,
    field/activities/queue.py), once `grace_days` have passed: one alert per activity and week."""
    items = [w for w in queue.overdue(ctx.viewer, ctx.day)
             if fires_overdue(date.fromordinal(w.age), ctx.day, p["grace_days"])]
    if not items:
        return []
    lines = {row.id: row for row in db.session.execute(
        select(ActivityStore.id, ActivityStore.activity_id, Store.owner_rep_id)
        .join(Store, Store.id == ActivityStore.store_id)
        .where(ActivityStore.id.in_(sorted({w.key[0] for w in items})))).all()}
    per: dict[int, dict] = {}
    for w in items:
        line = lines[w.key[0]]
        entry = per.setdefault(line.activity_id, {"periods": 0, "line_ids": [], "rep_ids": []})
        entry["periods"] += 1
        if line.id not in entry["line_ids"] and len(entry["line_ids"]) < MAX_LISTED:
            entry["line_ids"].append(line.id)
        if line.owner_rep_id and line.owner_rep_id not in entry["rep_ids"]:
            entry["rep_ids"].append(line.owner_rep_id)
    week = monday(ctx.day)
    return [Finding("evidence_overdue", f"activity:{aid}@{ctx.region.id}", week, activity_id=aid,
                    detail={**entry, "threshold": p["grace_days"]}) for aid, entry in sorted(per.items())]


# --- compliance under the payout floor ----------------------------------------------------------------

def fires_floor(verified: int, required: int, floor_pct: Decimal, min_periods: int) -> bool:
    """A store under its type's payout floor — once it owes at least `min_periods` periods."""
    return required >= min_periods and Fraction(verified * 100, required) < Fraction(floor_pct)


def compliance_floor(ctx: Context, p: dict) -> list[Finding]:
    """Running activities with stores in the region under the type's payout floor (they would be paid
    nothing): one alert per activity and week, listing those stores (progress.compliance_by_store)."""
    lines = db.session.execute(
        scope.activity_stores(ctx.viewer).join(ActivityStore.activity)
        .where(Activity.status == ActivityStatus.RUNNING)
        .options(selectinload(ActivityStore.activity).selectinload(Activity.type),
                 selectinload(ActivityStore.store))).scalars().all()
    if not lines:
        return []
    per_store = progress.compliance_by_store(list(lines), ctx.day)
    per: dict[int, dict] = {}
    for line in lines:
        c = per_store[line.id]
        entry = per.setdefault(line.activity_id, {"under": 0, "stores": 0, "line_ids": [], "rep_ids": [],
                                                  "floor": str(line.activity.type.compliance_floor_pct)})
        entry["stores"] += 1
        if fires_floor(c.verified, c.required, line.activity.type.compliance_floor_pct, p["min_periods"]):
            entry["under"] += 1
            if len(entry["line_ids"]) < MAX_LISTED:
                entry["line_ids"].append(line.id)
            if line.store.owner_rep_id and line.store.owner_rep_id not in entry["rep_ids"]:
                entry["rep_ids"].append(line.store.owner_rep_id)
    week = monday(ctx.day)
    return [Finding("compliance_floor", f"activity:{aid}@{ctx.region.id}", week, activity_id=aid,
                    detail={**entry, "threshold": p["min_periods"]})
            for aid, entry in sorted(per.items()) if entry["under"]]


# --- budget used while compliance is low ----------------------------------------------------------------

def fires_budget(written_off: int, budget: int, verified: int, required: int, used_pct: int,
                 compliance_pct: int) -> bool:
    """At least `used_pct` of the budget written off while compliance is under `compliance_pct`."""
    if budget <= 0 or required <= 0:
        return False
    return Fraction(written_off * 100, budget) >= used_pct and Fraction(verified * 100, required) < compliance_pct


def budget_compliance(ctx: Context, p: dict) -> list[Finding]:
    """Running activities whose region's lines have spent much of their budget with little verified
    evidence (the ROI page's figures, field/roi/figures.py): one alert per activity and week."""
    rollups = ctx.rollups().activities
    running = ctx.running([r.key for r in rollups])
    week = monday(ctx.day)
    out = []
    for r in rollups:
        if r.key in running and fires_budget(r.written_off, r.budget, r.compliance.verified, r.compliance.required,
                                              p["used_pct"], p["compliance_pct"]):
            out.append(Finding("budget_compliance", f"activity:{r.key}@{ctx.region.id}", week, activity_id=r.key,
                               detail={"used": str(_pct(r.written_off, r.budget)),
                                       "compliance": str(r.compliance.percent),
                                       "threshold": p["used_pct"], "compliance_threshold": p["compliance_pct"]}))
    return out


# --- negative ROI ----------------------------------------------------------------------------------

def fires_roi(roi: Fraction | None, roi_pct: int) -> bool:
    """ROI (a fraction: -0.25 is -25 %) under `roi_pct` percent; no ROI measured yet is no alert."""
    return roi is not None and roi * 100 < roi_pct


def negative_roi(ctx: Context, p: dict) -> list[Finding]:
    """Running activities whose ROI in the region is under `roi_pct` (0: negative): one alert per activity and week."""
    rollups = ctx.rollups().activities
    running = ctx.running([r.key for r in rollups])
    week = monday(ctx.day)
    return [Finding("negative_roi", f"activity:{r.key}@{ctx.region.id}", week, activity_id=r.key,
                    detail={"roi": str((Decimal(r.roi.numerator * 100) / r.roi.denominator).quantize(Decimal("0.1"))),
                            "threshold": p["roi_pct"]})
            for r in rollups if r.key in running and fires_roi(r.roi, p["roi_pct"])]


# --- repeated photo reuse ------------------------------------------------------------------------------

REUSE_FLAGS = (PhotoFlag.EXACT_REUSE, PhotoFlag.NEAR_REUSE)


def fires_reuse(flagged: int, min_flags: int) -> bool:
    return flagged >= min_flags


def photo_reuse(ctx: Context, p: dict) -> list[Finding]:
    """A rep whose photos of the last seven days were flagged as reused `min_flags` times or more:
    one alert per rep and week (voided photos count too: the attempt is what it is about)."""
    zone = company_zone()
    start, _end = day_bounds(ctx.day - timedelta(days=6), zone)
    _start, end = day_bounds(ctx.day, zone)
    text = cast(Photo.flags, Text)
    reused = [text.like(f'%"code": "{code}"%') for code in REUSE_FLAGS]
    rows = db.session.execute(
        select(Photo.rep_id, Photo.visit_id)
        .where(Photo.created_at >= start, Photo.created_at < end, Photo.rep_id.in_(ctx.rep_ids()),
               reused[0] | reused[1])
        .order_by(Photo.id)).all()
    per: dict[int, list[int]] = {}
    for rep_id, visit_id in rows:
        per.setdefault(rep_id, []).append(visit_id)
    week = monday(ctx.day)
    return [Finding("photo_reuse", f"rep:{rep_id}", week, rep_id=rep_id,
                    detail={"flagged": len(visits), "threshold": p["min_flags"],
                            "visit_ids": sorted(set(visits))[:MAX_LISTED]})
            for rep_id, visits in sorted(per.items()) if fires_reuse(len(visits), p["min_flags"])]


# --- the list -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    code: str
    label: object
    gather: Callable[[Context, dict], list[Finding]]
    params: tuple[Param, ...]
    per_rep: bool  # about one rep (evaluated again when that rep checks in or out)

    def periods(self, day: date) -> set[date]:
        """The periods an evaluation on `day` decides about: alerts of other periods are left as they are."""
        if self.code == "missed_visits":
            return {day - timedelta(days=1)}
        if self.code in ("flagged_visits", "no_workday_start"):
            return {day - timedelta(days=1), day}
        if self.code == "no_checkin":
            return {day}
        return {monday(day)}

    def defaults(self) -> dict:
        return {param.name: param.default for param in self.params}


RULES = (
    Rule("missed_visits", _l("Planned visits missed"), missed_visits,
         (Param("min_missed", _l("Alert at this many missed visits a day"), 1, 1, 50),), True),
    Rule("coverage", _l("Stores left unvisited"), coverage,
         (Param("overdue_days", _l("A store is unvisited this many days after it fell due"), 7, 0, 90,
                unit=_l("days")),
          Param("min_coverage_pct", _l("Alert when a rep's coverage falls under"), 80, 1, 100, unit="%")), True),
    Rule("no_checkin", _l("No check-in by a time of day"), no_checkin,
         (Param("by_time", _l("Alert when a rep has not checked in by"), "10:00", "06:00", "18:00", kind="time"),),
         True),
    Rule("flagged_visits", _l("Flagged visits"), flagged_visits,
         (Param("min_flagged", _l("Alert at this many flagged visits a day"), 1, 1, 50),), True),
    Rule("evidence_overdue", _l("Evidence overdue"), evidence_overdue,
         (Param("grace_days", _l("Alert this many days after a check period ended without evidence"), 2, 0, 27,
                unit=_l("days")),), False),
    Rule("compliance_floor", _l("Compliance under the payout floor"), compliance_floor,
         (Param("min_periods", _l("Once a store owes at least this many check periods"), 2, 1, 52),), False),
    Rule("budget_compliance", _l("Budget used while compliance is low"), budget_compliance,
         (Param("used_pct", _l("Alert when the budget written off reaches"), 80, 1, 100, unit="%"),
          Param("compliance_pct", _l("while compliance is under"), 60, 1, 100, unit="%")), False),
    Rule("negative_roi", _l("Negative ROI on a running activity"), negative_roi,
         (Param("roi_pct", _l("Alert when ROI falls under"), 0, -100, 100, unit="%"),), False),
    Rule("photo_reuse", _l("Repeated photo reuse"), photo_reuse,
         (Param("min_flags", _l("Alert at this many reused photos by one rep in seven days"), 3, 1, 100),), True),
    Rule("no_workday_start", _l("Visits without starting the day"), no_workday_start,
         (Param("min_visits", _l("Alert at this many visits on a day never started"), 1, 1, 50),), True),
)
BY_CODE = {rule.code: rule for rule in RULES}
