"""The demo's promotions: activity types, a dozen activities in every state, the sales they moved,
the photo evidence reps shot for them, the supervisors' verdicts, and the claims and write-offs
that paid them — so the ROI page, the verification queue, the claims and the ledger of a fresh
demo show a real picture.

The last three months are lived through rather than written: every step goes through the app's
own operations (apply, submit, approve, check in, ingest a photo, bind it, review, claim, approve
and pay, reverse), in the order of its date, on a demo clock that reads those dates. So the
rules hold as they would have (a period takes evidence only while it lasts, a claim pays by the
compliance reviewed by then) and the audit log, transitions, photos' watermarks and ledger
dates read like history (clock.py). Only the sales are bulk-inserted, like an import: the
daily-sales table follows them by its triggers.

The plans are data (plans.toml), the pictures come from pictures.py. Nothing here commits, nor
counts on the operations to: the seed commits its work once (field/demo/__init__.py).

Everything comes from one seeded random generator; dates are relative to the day of seeding."""
from __future__ import annotations

import io
import random
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image
from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from field import audit, core
from field.activities import evidence, operations as activity_ops, queue, reviews, rules
from field.activities.models import Activity, ActivityStore, ActivityType, CheckPeriod
from field.auth.models import Region, User
from field.claims import operations as claim_ops
from field.claims.models import Claim, LedgerLine
from field.demo.clock import Clock, Timeline
from field.demo.pictures import ZONE, jpeg, near, shelf_picture
from field.extensions import db
from field.geo import distance_m
from field.permissions import is_rep
from field.photos import ingest
from field.products.models import Product
from field.roi.models import SalesDaily
from field.sales.importer import natural_key
from field.sales.models import Sale
from field.stores.models import Channel, Store
from field.visits.builtin import ensure_builtin_types
from field.visits.models import StepKind, Visit, VisitStatus, VisitStep, VisitType
from field.core import company_today

# name, English name, check period, photos per period, checklist, compliance floor %, margin %
TYPES = [
    ("堆头租赁", "End-cap rental", CheckPeriod.WEEKLY, 2, ["堆头已搭好", "价签可见"], "60", "30"),
    ("陈列租赁", "Display rental", CheckPeriod.WEEKLY, 1, ["陈列排面达标", "POSM 到位"], "60", "30"),
    ("试吃推广", "Tasting", CheckPeriod.EACH_VISIT, 1, ["试吃台已摆放", "促销员在岗"], "50", "35"),
    ("海报物料 POSM", "POSM posters", CheckPeriod.ONCE, 1, ["海报已张贴"], "60", "30"),
    ("特价促销", "Price promotion", CheckPeriod.WEEKLY, 1, ["特价牌已摆放", "收银价已调整"], "60", "20"),
]

MEASURED, SUBMITTED, DRAFT, REJECTED = "measured", "submitted", "draft", "rejected"


@dataclass(frozen=True)
class Plan:
    """One demo activity: what, where, who, when (days from today), and how it went.

    `roi` is what the ROI page should show today for it: the stores' budgets are set from their
    sales, the lift and the margin so that it does (give or take the noise in the sales)."""

    title: str
    kind: str
    area: str
    applicant: str
    approver: str | None
    start: int
    days: int
    stores: int
    groups: tuple[tuple[str, str], ...]  # (channel, tiers) the stores are picked from
    status: str = MEASURED
    lift: float = 0.0
    roi: float = 0.0
    evidence: float = 0.9                # share of store periods the rep shoots evidence for
    claims: tuple[str, ...] = ()         # per store, in order: approve | override | policy | pending | reverse
    weak: int = 0                        # stores that miss most of their periods (compliance under the floor)
    notes: str = ""
    comment: str = ""                    # the approver's words (a rejection's reason)


def _read_plans() -> list[Plan]:
    """The plans of plans.toml, with what a plan leaves out at its default."""
    with open(Path(__file__).with_name("plans.toml"), "rb") as f:
        rows = tomllib.load(f)["plan"]
    return [Plan(**{"approver": None, **row, "groups": tuple((Channel(c), tiers) for c, tiers in row["groups"]),
                    "claims": tuple(row.get("claims", ()))}) for row in rows]


PLANS = _read_plans()


# The supervisors review in batches: evidence younger than this many days still waits for them.
BEHIND_DAYS = {"sup1": 3, "sup2": 3, "sup3": 5, "sup4": 3}

# A store's sales of our products on an ordinary day (fen), by channel and tier.
CHANNEL_SALES = {Channel.KA: 450_000, Channel.SUPERMARKET: 120_000, Channel.CONVENIENCE: 45_000,
                 Channel.TRADITIONAL: 22_000, Channel.CATERING: 38_000, Channel.WHOLESALE: 180_000}
TIER_FACTOR = {"A": 1.5, "B": 1.0, "C": 0.7, "D": 0.45}
ASSORTMENT = {Channel.KA: ("饮料", "零食", "乳品", "酒水", "日化"), Channel.SUPERMARKET: ("饮料", "零食", "乳品", "日化"),
              Channel.CONVENIENCE: ("饮料", "零食", "乳品"), Channel.TRADITIONAL: ("饮料", "零食", "酒水"),
              Channel.CATERING: ("饮料", "酒水"), Channel.WHOLESALE: ("饮料", "零食", "酒水")}
WEEKEND_LIFT = {Channel.KA: 1.3, Channel.SUPERMARKET: 1.2, Channel.CONVENIENCE: 1.1, Channel.CATERING: 1.25}

REVIEW_NOTES = {reviews.Reason.UNCLEAR: "照片太暗，看不清价签，请补拍。",
                reviews.Reason.NOT_IN_PLACE: "堆头只摆了一半，请按方案补齐后重拍。",
                reviews.Reason.CHECKLIST: "清单勾选与照片不符。",
                reviews.Reason.REUSED: "与之前的照片是同一张，请现场重新拍摄。",
                reviews.Reason.NO_EVIDENCE: "本周期没有举证。"}


# --- the build ------------------------------------------------------------------------------------

@dataclass
class Line:
    """A planned store of a plan, and what it gets."""

    store: Store
    budget: int
    weak: bool = False
    row: ActivityStore | None = None


@dataclass
class Built:
    """A plan with its stores picked, and the activity it became once applied for."""

    plan: Plan
    lines: list[Line]
    activity: Activity | None = None
    kind: ActivityType | None = None


@dataclass
class Demo:
    """What the build needs at hand, and what it counts."""

    rnd: random.Random
    today: date
    zone: ZoneInfo
    users: dict[str, User]
    timeline: Timeline
    step_id: int = 0
    visit_type_id: int = 0
    base: dict[int, int] = field(default_factory=dict)  # store id → ordinary daily sales (fen)
    busy: dict[tuple[int, date], datetime] = field(default_factory=dict)  # rep, day → next free moment
    photos: dict[int, list[tuple[bytes, int]]] = field(default_factory=dict)  # store id → (bytes, visit id)
    counts: dict[str, int] = field(default_factory=dict)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.zone).astimezone(timezone.utc)

    def user(self, login: str) -> User:
        return db.session.get(User, self.users[login].id)


def build(seed: int) -> dict:
    """Add the promotions to the demo company staged in the session; returns what was made."""
    rnd = random.Random(seed + 2)
    zone = ZoneInfo(current_app.config.get("DEFAULT_TIMEZONE", ZONE))
    today = company_today()
    clock = Clock()
    users = {u.login: u for u in db.session.scalars(select(User))}
    demo = Demo(rnd, today, zone, users, Timeline(clock, core.now()))
    ensure_builtin_types()
    promotion = db.session.scalar(select(VisitType).where(VisitType.code == "promotion"))
    demo.visit_type_id = promotion.id
    demo.step_id = next(s.id for s in promotion.steps if s.kind == StepKind.PHOTO)

    built = _plan_stores(demo)
    # The operations speak to a person (their messages are translated): give them a request of their own.
    with current_app.test_request_context("/", environ_base={"REMOTE_ADDR": ""}), clock:
        clock.set(demo.at(today - timedelta(days=100), 9, 30))
        kinds = _activity_types(demo)
        for item in built:
            item.kind = kinds[item.plan.kind]
            _schedule_activity(demo, item)
        demo.timeline.run()
    # Whatever the calendar moved since (an activity that ended yesterday), as the next page view would.
    activity_ops.advance_by_dates(select(Activity), today)
    sales = _sales(demo, built)
    demo.counts.update(
        activity_types=len(kinds), activities=len(built), sales=sales,
        photos=_count("photos"), reviews=_count("reviews"), claims=_count("claims"),
        ledger_lines=_count("ledger_lines"))
    return demo.counts


def _count(table: str) -> int:
    return db.session.scalar(select(func.count()).select_from(db.metadata.tables[table]))


def _activity_types(demo: Demo) -> dict[str, ActivityType]:
    admin = demo.user("admin")
    kinds = {}
    for name, name_en, period, photos, checklist, floor, margin in TYPES:
        kinds[name] = activity_ops.create_type(
            {"name": name, "name_en": name_en, "check_period": str(period), "photos_per_period": photos,
             "checklist": checklist, "compliance_floor_pct": Decimal(floor), "margin_pct": Decimal(margin)}, admin)
    return kinds


def _daily_base(rnd: random.Random, store: Store) -> int:
    spread = min(1.6, max(0.6, rnd.lognormvariate(0, 0.25)))
    return int(CHANNEL_SALES[Channel(store.channel)] * TIER_FACTOR[store.tier] * spread)


def _plan_stores(demo: Demo) -> list[Built]:
    """Pick each plan's stores — never a store of another plan, and at most half of a tier-channel
    group of an area, so the rest can serve as control stores — and set their budgets."""
    regions = {r.code: r.id for r in db.session.scalars(select(Region))}
    stores = db.session.scalars(select(Store).order_by(Store.code)).all()
    for store in stores:
        demo.base[store.id] = _daily_base(demo.rnd, store)
    taken: set[int] = set()
    out = []
    for plan in PLANS:
        applicant = demo.users[plan.applicant]
        groups: dict[tuple[str, str], list[Store]] = {}
        for store in stores:
            if store.region_id == regions[plan.area]:
                groups.setdefault((store.channel, store.tier), []).append(store)
        pool = []
        for channel, tiers in plan.groups:
            for tier in tiers:
                members = groups.get((str(channel), tier), [])
                free = [s for s in members if s.id not in taken
                        and (not is_rep(applicant) or s.owner_rep_id == applicant.id)]
                pool.extend(demo.rnd.sample(free, min(len(free), max(1, len(members) // 2))))
        chosen = sorted(demo.rnd.sample(pool, min(plan.stores, len(pool))), key=lambda s: s.code)
        taken.update(s.id for s in chosen)
        kind = next(t for t in TYPES if t[0] == plan.kind)
        margin = Fraction(kind[6]) / 100
        start = demo.today + timedelta(days=plan.start)
        measured = max(1, min(plan.days, (demo.today - start).days)) if plan.start < 0 else plan.days
        lines = []
        for n, store in enumerate(chosen):
            gp = Fraction(demo.base[store.id]) * measured * Fraction(plan.lift).limit_denominator(1000) * margin
            lines.append(Line(store, _round_budget(gp / Fraction(1 + plan.roi).limit_denominator(1000)),
                              weak=n < plan.weak))
        out.append(Built(plan, lines))
    return out


def _round_budget(amount: Fraction) -> int:
    """A budget as people write them: to ¥50 from ¥500 up, else to ¥10; at least ¥50."""
    step = 5_000 if amount >= 50_000 else 1_000
    return max(5_000, int(round(amount / step)) * step)


# --- one activity's life --------------------------------------------------------------------------

def _schedule_activity(demo: Demo, item: Built) -> None:
    plan, rnd, t = item.plan, demo.rnd, demo.timeline
    start = demo.today + timedelta(days=plan.start)
    end = start + timedelta(days=plan.days - 1)
    if plan.status in (SUBMITTED, DRAFT, REJECTED):
        created = demo.today - timedelta(days={SUBMITTED: 3, DRAFT: 2, REJECTED: 8}[plan.status])
    else:
        created = start - timedelta(days=rnd.randint(11, 14))
    submitted = created + timedelta(days=1 if plan.status != MEASURED else rnd.randint(1, 2))
    decided = submitted + timedelta(days=rnd.randint(1, 2))

    def create():
        actor = demo.user(plan.applicant)
        activity = activity_ops.create_activity(
            {"title": plan.title, "type": item.kind, "period_start": start, "period_end": end,
             "expected_lift_pct": Decimal(str(round(plan.lift * 100, 2))), "margin_pct": item.kind.margin_pct,
             "notes": plan.notes}, actor)
        activity_ops.set_store_budgets(activity, {line.store: line.budget for line in item.lines}, actor,
                                       "activity.add_stores")
        item.activity = activity
        item.lines = [_with_row(line, activity) for line in item.lines]

    t.at(demo.at(created, 10, rnd.randrange(60)), create)
    if plan.status == DRAFT:
        return
    t.at(demo.at(submitted, 11, rnd.randrange(60)),
         lambda: activity_ops.submit(item.activity, demo.user(plan.applicant)))
    if plan.status == SUBMITTED:
        return
    if plan.status == REJECTED:
        t.at(demo.at(decided, 15, rnd.randrange(60)),
             lambda: activity_ops.reject(item.activity, demo.user(plan.approver), plan.comment))
        return
    t.at(demo.at(decided, 15, rnd.randrange(60)),
         lambda: activity_ops.approve(item.activity, demo.user(plan.approver), "同意，注意按周举证。"))
    # The calendar's moves, as the first page view of the day makes them.
    for day in (start, end + timedelta(days=1)):
        t.at(demo.at(day, 7, 30), lambda day=day: activity_ops.advance_by_dates(
            select(Activity).where(Activity.id == item.activity.id), day))
    for n, line in enumerate(item.lines):
        _schedule_evidence(demo, item, n)
    _schedule_claims(demo, item, end)


def _with_row(line: Line, activity: Activity) -> Line:
    line.row = next(r for r in activity.stores if r.store_id == line.store.id)
    return line


def _schedule_evidence(demo: Demo, item: Built, n: int) -> None:
    """Per check period of one store: a promotion visit with the photos the type asks for (most
    periods), each bound as evidence; then the supervisor's verdict, or a rejection for a period
    that ended with nothing."""
    plan, rnd = item.plan, demo.rnd
    line = item.lines[n]
    start = demo.today + timedelta(days=plan.start)
    end = start + timedelta(days=plan.days - 1)
    periods = rules.periods(start, end, item.kind.check_period, line.store.frequency_days)
    yesterday = demo.today - timedelta(days=1)
    for period in periods:
        if period.start > yesterday:
            break
        last = min(period.end, yesterday)
        current = period.end >= demo.today
        chance = plan.evidence * (0.75 if current else 1.0)
        if line.weak and period.index > 0:
            chance = 0.0
        twist = _twist(item, n, period)
        if twist or rnd.random() < chance:
            # Reps shoot in the last week of a period — the last days of one still running.
            first = max(period.start, last - timedelta(days=2 if current else 6))
            day = first + timedelta(days=rnd.randrange((last - first).days + 1))
            _schedule_visit(demo, item, n, period, day, twist=twist)
        elif period.end < yesterday:
            when = period.end + timedelta(days=rnd.randint(1, 3))
            _schedule_review(demo, item, n, period.index, when, missing=True)


def _schedule_visit(demo: Demo, item: Built, n: int, period: rules.Period, day: date, twist: str = "") -> None:
    rnd = demo.rnd
    line = item.lines[n]
    rep_id = line.store.owner_rep_id
    checkin = max(demo.at(day, 16, 30) + timedelta(minutes=rnd.randrange(0, 90)),
                  demo.busy.get((rep_id, day), demo.at(day, 0)))
    dwell = timedelta(minutes=rnd.randint(14, 30))
    demo.busy[(rep_id, day)] = checkin + dwell + timedelta(minutes=rnd.randint(15, 35))
    demo.timeline.at(checkin, lambda: _visit(demo, item, n, period, checkin, dwell, twist))


def _twist(item: Built, n: int, period: rules.Period) -> str:
    """The few photos that deserve a second look, placed where the demo shows them best."""
    title = item.plan.title
    if title == "乳品冷柜陈列" and n == 1 and period.index == 2:
        return "exact_reuse"   # the same file as last week's: rejected, then shot again
    if title == "春熙路商超堆头" and n == 2 and period.index == 1:
        return "near_reuse"    # a re-saved copy of another store's photo: waiting, flagged
    if title == "薯片新品试吃" and n == 0:
        return "far_exif"      # shot at the dealer's warehouse: waiting, flagged
    if title == "啤酒特价 · 浦东餐饮" and n == 3 and period.index == 1:
        return "early"         # shot before the check-in: waiting, flagged
    if title == "便利店饮料陈列" and n == 4 and period.index == 0:
        return "unticked"      # one checklist item left unticked: rejected
    return ""


def _visit(demo: Demo, item: Built, n: int, period: rules.Period, checkin: datetime, dwell: timedelta,
           twist: str) -> None:
    """Check in at the store, shoot, bind the photos to the period, check out."""
    rnd = demo.rnd
    line = item.lines[n]
    store = db.session.get(Store, line.store.id)
    rep = db.session.get(User, store.owner_rep_id)
    at_door = near(rnd, store.point, rnd.uniform(5, 60))
    visit = Visit(rep_id=rep.id, store_id=store.id, visit_type_id=demo.visit_type_id,
                  planned_for=checkin.astimezone(demo.zone).date(), status=VisitStatus.IN_PROGRESS,
                  checkin_at=checkin, checkin_lat=at_door.lat, checkin_lng=at_door.lng,
                  checkin_accuracy_m=rnd.randint(6, 30), checkin_position_at=checkin,
                  checkin_distance_m=distance_m(at_door, store.point), checkin_reason="", checkout_reason="",
                  flags=[], cancel_reason="", created_at=checkin)
    db.session.add(visit)
    db.session.flush()
    step = db.session.get(VisitStep, demo.step_id)
    photos = []
    wanted = item.kind.photos_per_period
    if wanted > 1 and rnd.random() < 0.08:
        wanted -= 1  # one photo short: the queue asks for a look
    for k in range(wanted):
        taken = checkin + timedelta(minutes=3 + 4 * k, seconds=rnd.randrange(60))
        demo.timeline.clock.set(taken + timedelta(seconds=rnd.randint(2, 40)))  # received a moment later
        data = _photo_bytes(demo, item, store, visit.id, taken, twist if k == 0 else "")
        phone = near(rnd, store.point, rnd.uniform(3, 40))
        photo, _created = ingest.add_photo(visit, step, ingest.Upload(
            data=data, client_id=str(uuid.UUID(int=rnd.getrandbits(128), version=4)), phone_point=phone,
            accuracy_m=rnd.randint(5, 25), captured_at=taken), rep)
        photos.append(photo)
        demo.photos.setdefault(store.id, []).append((data, visit.id))
    checklist = {text: True for text in item.kind.checklist}
    if twist == "unticked" or (rnd.random() < 0.03 and checklist):
        checklist[list(checklist)[-1]] = False
    demo.timeline.clock.set(checkin + dwell - timedelta(minutes=2))
    evidence.bind_photos(photos, db.session.get(ActivityStore, line.row.id), period.index, checklist, rep)
    visit = db.session.get(Visit, visit.id)
    leave = near(rnd, store.point, rnd.uniform(5, 60))
    visit.status, visit.checkout_at = VisitStatus.COMPLETED, checkin + dwell
    visit.checkout_lat, visit.checkout_lng = leave.lat, leave.lng
    visit.checkout_accuracy_m, visit.checkout_distance_m = rnd.randint(6, 30), distance_m(leave, store.point)
    sup = _supervisor_of(demo, store)
    when = (checkin + timedelta(days=rnd.randint(1, 3))).astimezone(demo.zone).date()
    _schedule_review(demo, item, n, period.index, when, reviewer=sup)


def _photo_bytes(demo: Demo, item: Built, store: Store, visit_id: int, taken: datetime, twist: str) -> bytes:
    rnd = demo.rnd
    gps = near(rnd, store.point, rnd.uniform(3, 35))
    if twist == "exact_reuse" and demo.photos.get(store.id):
        return demo.photos[store.id][-1][0]
    if twist == "near_reuse":
        others = [(data, vid) for sid, shots in sorted(demo.photos.items()) if sid != store.id
                  for data, vid in shots if vid != visit_id]
        if others:
            original = Image.open(io.BytesIO(others[-1][0]))
            w, h = original.size
            copy = original.convert("RGB").crop((8, 6, w - 8, h - 6)).resize((600, 450))
            return jpeg(copy, taken, gps, quality=72)
    if twist == "far_exif":
        gps = near(rnd, store.point, 1_500)
    if twist == "early":
        taken -= timedelta(minutes=48)
    slogan = {"堆头租赁": "整箱特惠", "陈列租赁": "新品上架", "试吃推广": "免费试吃", "海报物料 POSM": "夏日畅饮",
              "特价促销": "第二件半价"}.get(item.kind.name, "促销")
    return jpeg(shelf_picture(demo.rnd.getrandbits(32), slogan), taken, gps)


def _supervisor_of(demo: Demo, store: Store) -> str:
    rep = db.session.get(User, store.owner_rep_id)
    return db.session.get(User, rep.supervisor_id).login


def _schedule_review(demo: Demo, item: Built, n: int, index: int, day: date, reviewer: str | None = None,
                     missing: bool = False) -> None:
    """The supervisor's verdict on one store period, if they have got that far."""
    line = item.lines[n]
    reviewer = reviewer or _supervisor_of(demo, line.store)
    if day > demo.today - timedelta(days=BEHIND_DAYS[reviewer]):
        return  # still in their queue
    when = demo.at(day, 9, 30) + timedelta(minutes=demo.rnd.randrange(0, 150))
    demo.timeline.at(when, lambda: _review(demo, item, n, index, reviewer, missing))


def _review(demo: Demo, item: Built, n: int, index: int, login: str, missing: bool) -> None:
    rnd = demo.rnd
    reviewer = demo.user(login)
    line = db.session.get(ActivityStore, item.lines[n].row.id)
    today = company_today()
    found = queue.one(line, index, today, reviewer)
    if not found.pending and not (missing and found.overdue and found.review is None):
        return  # already decided, and nothing new came in
    reason = ""
    reused = [p for p in found.live_photos if found.is_new(p)
              and any(f["code"] in ("exact_reuse", "near_reuse") for f in p.flags or [])]
    if found.rows == 0:
        reason = reviews.Reason.NO_EVIDENCE
    elif reused:
        reason = reviews.Reason.REUSED
    elif found.unconfirmed:
        reason = reviews.Reason.CHECKLIST
    elif rnd.random() < 0.06 and today + timedelta(days=2) <= min(found.period.end, demo.today - timedelta(days=1)):
        reason = rnd.choice([reviews.Reason.UNCLEAR, reviews.Reason.NOT_IN_PLACE])  # with time left to shoot again
    verdict = "rejected" if reason else "approved"
    reviews.record(found, verdict, reviewer, reason=str(reason), note=REVIEW_NOTES.get(reason, ""),
                 seen_review=found.review_id, seen_evidence=found.newest)
    for photo in reused:  # out of play, kept for the record
        exact = any(f["code"] == "exact_reuse" for f in photo.flags)
        ingest.void(photo, reviewer, "与之前的举证照片是同一文件。" if exact else "与其他门店的照片雷同，疑似翻拍。")
    if reason and reason != reviews.Reason.NO_EVIDENCE:
        # The rep sees the rejection and shoots again while the period lasts.
        again = today + timedelta(days=rnd.randint(1, 2))
        if again <= min(found.period.end, demo.today - timedelta(days=1)):
            _schedule_visit(demo, item, n, found.period, again)


# --- claims and the ledger ---------------------------------------------------------------------

def _schedule_claims(demo: Demo, item: Built, end: date) -> None:
    """After the activity ends, its reps claim the stores' budgets; the manager pays what the
    compliance says, overrides one with a reason, rejects what the rules or the policy refuse,
    and reverses a payment found to be a double claim."""
    rnd, plan = demo.rnd, item.plan
    for n, what in enumerate(plan.claims):
        filed = end + timedelta(days=rnd.randint(2, 4) if what != "pending" else rnd.randint(5, 7))
        decided = filed + timedelta(days=rnd.randint(2, 3))
        if filed >= demo.today:
            continue
        demo.timeline.at(demo.at(filed, 18, rnd.randrange(60)), lambda n=n: _file(demo, item, n))
        if what != "pending":
            demo.timeline.at(demo.at(decided, 14, rnd.randrange(60)),
                             lambda n=n, what=what: _decide(demo, item, n, what))
        if what == "reverse":
            demo.timeline.at(demo.at(decided + timedelta(days=9), 16, 10), lambda n=n: _reverse(demo, item, n))


def _file(demo: Demo, item: Built, n: int) -> None:
    line = db.session.get(ActivityStore, item.lines[n].row.id)
    rep = db.session.get(User, line.store.owner_rep_id)
    claim_ops.file_claim(line, rep, str(Decimal(line.budget) / 100),
                         note=f"{item.plan.title}：按合同核销，费用凭证已交经销商财务。")


def _manager_of(plan: Plan) -> str:
    """Claims are decided by the manager of the stores' region."""
    return "manager1" if plan.area.startswith("SH") else "manager2"


def _claim_of(item: Built, n: int) -> Claim:
    return db.session.scalar(select(Claim).where(Claim.activity_store_id == item.lines[n].row.id)
                             .order_by(Claim.id.desc()).limit(1))


def _decide(demo: Demo, item: Built, n: int, what: str) -> None:
    claim = _claim_of(item, n)
    manager = demo.user(_manager_of(item.plan))
    figures = claim_ops.payout(claim)
    if what == "policy":
        claim_ops.reject(claim, manager, "海报物料由总部统一采购配送，门店张贴不另付费，不予核销。")
    elif figures.payable == 0:
        claim_ops.reject(claim, manager, f"举证合规率 {figures.compliance.percent} %，低于 "
                                         f"{figures.floor_pct} % 的下限，按规则不予核销。")
    elif what == "override":
        paid = figures.payable * 4 // 5 // 100 * 100
        claim_ops.approve(claim, manager, str(Decimal(paid) / 100),
                          "冷柜第一层第三周被竞品占用两天，按实际陈列天数核减。")
    else:
        claim_ops.approve(claim, manager)


def _reverse(demo: Demo, item: Built, n: int) -> None:
    """Reverse the planned store's payment — or, had the rules refused that claim, another of the activity's."""
    claim = _claim_of(item, n)
    payment = db.session.scalar(select(LedgerLine).where(LedgerLine.claim_id == claim.id)) \
        or db.session.scalar(select(LedgerLine).where(LedgerLine.activity_id == item.activity.id)
                             .order_by(LedgerLine.id).limit(1))
    if payment is not None:
        claim_ops.reverse(payment, demo.user(_manager_of(item.plan)), "经销商已直接向门店支付堆头费，本笔重复核销，冲回。")


# --- sales ------------------------------------------------------------------------------------------

def _load_sales(rows: list[dict]) -> None:
    """Insert the sales; sales_daily follows them. On PostgreSQL its row trigger (sales_daily_sync,
    migration 0005) costs about half a millisecond a row, most of the seed's time there: it is held
    off for this one transaction (ALTER TABLE is transactional) and the store-days are added up here
    and merged in once, as the trigger would have (amounts, quantities and lines added on conflict)."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        db.session.execute(text("ALTER TABLE sales DISABLE TRIGGER sales_daily_sync"))
    for i in range(0, len(rows), 5_000):
        db.session.execute(insert(Sale), rows[i:i + 5_000])
    if not postgres:
        return
    days: dict[tuple[int, date], list[int]] = {}
    for row in rows:
        day = days.setdefault((row["store_id"], row["sold_on"]), [0, 0, 0])
        day[0] += row["amount"]
        day[1] += row["quantity"]
        day[2] += 1
    merged = [{"store_id": store_id, "day": day, "amount": a, "quantity": q, "lines": n}
              for (store_id, day), (a, q, n) in days.items()]
    for i in range(0, len(merged), 5_000):
        stmt = pg_insert(SalesDaily).values(merged[i:i + 5_000])
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=[SalesDaily.store_id, SalesDaily.day],
            set_={"amount": SalesDaily.amount + stmt.excluded.amount,
                  "quantity": SalesDaily.quantity + stmt.excluded.quantity,
                  "lines": SalesDaily.lines + stmt.excluded.lines}))
    db.session.execute(text("ALTER TABLE sales ENABLE TRIGGER sales_daily_sync"))


def _sales(demo: Demo, built: list[Built]) -> int:
    """Daily sell-out of every store that an activity's ROI reads — its stores and the stores
    of the same tier, channel and area that serve as its controls — from the first pre-period to
    yesterday, loaded like an import. Activity stores sell more while their activity runs."""
    rnd = random.Random(demo.rnd.random())
    measured = [b for b in built if b.plan.status == MEASURED]
    first = min(demo.today + timedelta(days=b.plan.start - 28) for b in measured)
    last = demo.today - timedelta(days=1)
    groups = {(ln.store.region_id, ln.store.tier, ln.store.channel) for b in measured for ln in b.lines}
    stores = [s for s in db.session.scalars(select(Store).order_by(Store.id))
              if (s.region_id, s.tier, s.channel) in groups]
    lifted: dict[int, tuple[date, date, float]] = {}
    for b in measured:
        start = demo.today + timedelta(days=b.plan.start)
        for ln in b.lines:
            lifted[ln.store.id] = (start, start + timedelta(days=b.plan.days - 1), b.plan.lift)
    products = db.session.scalars(select(Product).order_by(Product.sku)).all()
    by_category: dict[str, list[Product]] = {}
    for p in products:
        by_category.setdefault(p.category, []).append(p)
    # A market that drifts week by week, the same for every store of a city: what controls correct for.
    days = (last - first).days + 1
    city_week = {(city, w): rnd.uniform(0.94, 1.06) for city in ("SH", "CD") for w in range(days // 7 + 2)}
    rows = []
    loaded_at = datetime.combine(last, time(6), demo.zone).astimezone(timezone.utc)
    for store in stores:
        channel = Channel(store.channel)
        assortment = [p for c in ASSORTMENT[channel] for p in by_category.get(c, [])]
        mine = rnd.sample(assortment, min(len(assortment), rnd.randint(5, 9)))
        window = lifted.get(store.id)
        for offset in range(days):
            day = first + timedelta(days=offset)
            level = demo.base[store.id] * (1 + 0.0008 * offset) * city_week[(store.code[:2], offset // 7)]
            if day.weekday() >= 5:
                level *= WEEKEND_LIFT.get(channel, 1.0)
            if window and window[0] <= day <= window[1]:
                level *= 1 + window[2]
            level *= rnd.uniform(0.85, 1.15)
            picks = rnd.sample(mine, rnd.randint(1, min(3, len(mine))))
            weights = [rnd.uniform(0.5, 1.5) for _ in picks]
            for product, weight in zip(picks, weights):
                share = level * weight / sum(weights)
                quantity = max(1, round(share / product.unit_price))
                rows.append({"store_id": store.id, "sold_on": day, "product_id": product.id,
                             "category": product.category, "quantity": quantity,
                             "amount": quantity * product.unit_price, "source": "import",
                             "source_key": natural_key(store.code, day, product.sku), "created_at": loaded_at})
    _load_sales(rows)
    audit.record("sales.import", None, actor=demo.user("admin"), filename="demo-sell-out.xlsx", rows=len(rows),
                 created=len(rows), updated=0, unchanged=0, first_day=first, last_day=last, via="demo")
    return len(rows)
