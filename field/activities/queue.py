"""The verification queue (活动检核): what a supervisor has to look at. The verdicts they give are
field/activities/reviews.py's.

One item per store × check period. An item waits for review when live evidence came in after the
standing review covered it (or there is no review yet); it is overdue when its period ended with no
evidence and nobody reviewed it. Items that need attention come first (needs_attention: a flagged
photo, fewer photos than the type asks for, a checklist item left unconfirmed) then the longest
waiting (by the first evidence received after the standing review)."""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, NamedTuple, Sequence

from flask_babel import gettext as _
from sqlalchemy import ARRAY, BigInteger, Integer, Row, and_, any_, case, cast, func, literal, null, or_, select, \
    tuple_, union_all
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from field import scope
from field.activities import progress, rules
from field.activities.models import Activity, ActivityStatus as S, ActivityStore, ActivityType, Evidence, Review, \
    Verdict
from field.activities.rules import Period
from field.core import DomainError
from field.extensions import db
from field.photos.models import Photo
from field.stores.models import Store, frequency_days
from field.web import Page

Key = tuple[int, int]  # (activity store id, period index)
# Evidence of an activity is reviewed from its approval on, and after it ended (the last periods).
REVIEWABLE = (S.APPROVED, S.RUNNING, S.ENDED)
PAGE_SIZE = 20


def needs_attention(flagged, unconfirmed, photos, required):
    """A period needs a look of its own: a live photo is flagged, the newest checklist answers leave an
    item unconfirmed, or there are fewer live photos than the type asks for.

    Written once for both readers: with numbers it answers a bool (Item.attention), with SQL columns
    the condition the census ranks by (_periods)."""
    return (flagged > 0) | (unconfirmed > 0) | (photos < required)


def reviewable(user=None):
    """The activity stores whose evidence `user` verifies: live or ended activities at stores in scope."""
    return (select(ActivityStore).join(ActivityStore.activity)
            .where(Activity.status.in_(REVIEWABLE), scope.rule(ActivityStore, user)))


# --- what waits ----------------------------------------------------------------------------------

class Waiting(NamedTuple):
    """One item of the queue before its details are loaded."""

    key: Key
    # How long it waits, as a number that sorts: the first evidence id not yet reviewed (ids grow
    # with time, and an integer is cheaper to read than a timestamp), or the day an overdue period ended.
    age: int
    attention: bool = False
    overdue: bool = False
    newest: int = 0         # the newest live evidence id
    rows: int = 0           # live evidence rows
    reviewed: bool = False  # a review stands


@dataclass
class Census:
    """Everything the queue ranks by, for the store lines one user reviews: read once per page.

    `periods` holds thousands of rows on a busy team, so an item is made of one only for the page shown."""

    lines: dict[int, Row]   # line id → (id, photos required, start, end, check period, tier, every)
    periods: list[Row]      # (line, period, first evidence not reviewed, attention, newest, rows, reviewed)
    waits: int              # how many of them wait for review: they come first

    def waiting(self, start: int = 0, stop: int | None = None) -> list[Waiting]:
        """The items waiting for review in the queue's order, or a slice of them."""
        stop = self.waits if stop is None else min(stop, self.waits)
        return [Waiting((as_id, index), first_new, bool(attention), False, newest, rows, bool(reviewed))
                for as_id, index, first_new, attention, newest, rows, reviewed in self.periods[start:stop]]

    def overdue(self, today: date) -> list[Waiting]:
        seen = {(as_id, index) for as_id, index, *_rest in self.periods}
        ended: dict[tuple, list[Period]] = {}  # the lines of one activity share their periods
        out = []
        for line in self.lines.values():
            if line.period_start >= today:
                continue
            rule = (line.period_start, line.period_end, line.check_period,
                    frequency_days(line.tier, line.visit_every_days))
            if rule not in ended:
                ended[rule] = [p for p in rules.periods(*rule) if p.end < today]
            for period in ended[rule]:
                key = (line.id, period.index)
                if key not in seen:
                    out.append(Waiting(key, period.end.toordinal(), overdue=True))
        return sorted(out, key=lambda w: (w.age, w.key))


def _reviewed_lines(user):
    """The store lines whose evidence the user reviews, with the photos their type asks for a period.

    Built on the tables rather than the mapped classes, as _periods is: a statement that names a
    mapped class anywhere has its rows — plain numbers, thousands a page — passed one by one through
    the ORM's loading machinery (a millisecond a page)."""
    line, activity, kind = ActivityStore.__table__.c, Activity.__table__.c, ActivityType.__table__.c
    # One bound value per status rather than an "expanding" list, which has the whole statement
    # rendered again at each execution.
    return (select(line.id, kind.photos_per_period.label("required"))
            .join(Activity.__table__, activity.id == line.activity_id)
            .join(ActivityType.__table__, kind.id == activity.type_id)
            .where(activity.status.in_([literal(status, activity.status.type) for status in REVIEWABLE]),
                   scope.rule(ActivityStore, user)))


# The newest row's unticked count rides along with its id in one integer, so one aggregate finds both
# ("arg max"): id × 1000 + unconfirmed. A checklist has far fewer than 1000 items (MAX_CHECKLIST_ITEMS).
_PACK = 1000


def _among(column, lines):
    """`column` IN the lines' ids. On PostgreSQL as = ANY(array of them): from a subquery the planner
    guesses most of the company's lines and reads all its evidence; an array's it reads by index
    (bench/review_queue.py: 14 ms → 6 ms)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(cast(select(func.array_agg(lines.c.id)).scalar_subquery(), ARRAY(Integer)))
    return column.in_(select(lines.c.id))


def _periods(user):
    """Each period of the user's store lines with live evidence or a standing review, ranked: those
    waiting for review first — needing attention first, then the longest waiting — then the others.
    Rows of (line, period, first evidence after the standing review or None, attention, newest
    evidence id, evidence rows, whether a review stands).

    The database sums up the live evidence of each period — the rows and photos, whether one is
    flagged, the first evidence after what the standing review covered, how many checklist items the
    newest answers left unticked — and ranks, so the page reads a few integers per period."""
    ev, photo, review = Evidence.__table__.c, Photo.__table__.c, Review.__table__.c
    lines = _reviewed_lines(user).cte("lines").prefix_with("MATERIALIZED", dialect="postgresql")
    latest = (select(func.max(review.id)).where(_among(review.activity_store_id, lines))
              .group_by(review.activity_store_id, review.period_index))
    head = (select(review.activity_store_id.label("as_id"), review.period_index.label("pi"),
                   review.evidence_upto.label("upto")).where(review.id.in_(latest))
            .cte("head").prefix_with("MATERIALIZED", dialect="postgresql"))
    flagged = case((func.json_array_length(photo.flags) > 0, 1), else_=0)
    top = func.max(cast(ev.id, BigInteger) * _PACK + ev.unconfirmed)
    attention = case((needs_attention(func.max(flagged), top % _PACK, func.count(ev.photo_id),
                                      func.max(lines.c.required)), 1), else_=0)
    bound = (select(ev.activity_store_id.label("as_id"), ev.period_index.label("pi"),
                    func.min(case((ev.id > func.coalesce(head.c.upto, 0), ev.id))).label("first_new"),
                    attention.label("attention"), (top // _PACK).label("newest"), func.count(ev.id).label("rows"),
                    func.count(head.c.upto).label("reviewed"))
             .select_from(Evidence.__table__)
             .join(lines, lines.c.id == ev.activity_store_id)
             .outerjoin(Photo.__table__, photo.id == ev.photo_id)
             .outerjoin(head, and_(head.c.as_id == ev.activity_store_id, head.c.pi == ev.period_index))
             .where(_among(ev.activity_store_id, lines), or_(ev.photo_id.is_(None), photo.voided_at.is_(None)))
             .group_by(ev.activity_store_id, ev.period_index))
    reviewed_only = select(head.c.as_id, head.c.pi, null(), null(), null(), null(), literal(1))
    both = union_all(bound, reviewed_only).subquery()
    return select(both).order_by(both.c.first_new.is_(None), both.c.attention.desc(), both.c.first_new)


def census(user=None) -> Census:
    """Two reads, whatever the number of items: the user's store lines with the rule of their periods,
    and their periods summed up and ranked (_periods)."""
    line, activity, kind, store = (model.__table__.c for model in (ActivityStore, Activity, ActivityType, Store))
    lines = {row.id: row for row in db.session.execute(
        _reviewed_lines(user).add_columns(activity.period_start, activity.period_end, kind.check_period, store.tier,
                                          store.visit_every_days)
        .join(Store.__table__, store.id == line.store_id)).all()}
    periods = db.session.execute(_periods(user)).all()
    return Census(lines, periods, bisect_left(periods, True, key=lambda row: row.first_new is None))


def waiting(user=None) -> list[Waiting]:
    """Items with live evidence not yet reviewed, in the user's scope: attention first, then oldest."""
    return census(user).waiting()


def overdue(user, today: date) -> list[Waiting]:
    """Periods over with no live evidence and no review, in the user's scope: oldest first."""
    return census(user).overdue(today)


# --- one page of items ----------------------------------------------------------------------------

@dataclass
class Item:
    """One store × check period with everything a reviewer looks at."""

    line: ActivityStore
    period: Period
    photos: list[Photo] = field(default_factory=list)  # bound to the period, voided ones too
    answers: dict = field(default_factory=dict)        # the latest checklist answers
    review: Review | None = None                       # the one that stands
    newest: int = 0                                    # the newest live evidence id
    rows: int = 0                                      # live evidence rows
    reference: Photo | None = None                     # the store's last approved photo elsewhere
    today: date | None = None
    new_photo_ids: set[int] = field(default_factory=set)  # bound after what the standing review covered

    @property
    def key(self) -> Key:
        return (self.line.id, self.period.index)

    @property
    def slug(self) -> str:
        return f"{self.line.id}-{self.period.index}"

    @property
    def review_id(self) -> int:
        return self.review.id if self.review is not None else 0

    @property
    def covered(self) -> int:
        return self.review.evidence_upto if self.review is not None else 0

    @property
    def token(self) -> str:
        """What the reviewer saw, sent back with a bulk approval: store, period, review, evidence."""
        return f"{self.line.id}:{self.period.index}:{self.review_id}:{self.newest}"

    @property
    def live_photos(self) -> list[Photo]:
        return [p for p in self.photos if p.voided_at is None]

    @property
    def required(self) -> int:
        return self.line.activity.type.photos_per_period

    @property
    def flagged_photos(self) -> int:
        return sum(1 for p in self.live_photos if p.flags)

    @property
    def too_few(self) -> bool:
        return len(self.live_photos) < self.required

    @property
    def unconfirmed(self) -> list[str]:
        return [item for item, done in self.answers.items() if not done]

    @property
    def attention(self) -> bool:
        return needs_attention(self.flagged_photos, len(self.unconfirmed), len(self.live_photos), self.required)

    @property
    def pending(self) -> bool:
        return self.newest > self.covered

    @property
    def overdue(self) -> bool:
        return self.rows == 0 and self.today is not None and self.period.end < self.today

    @property
    def due(self) -> bool:
        return self.rows > 0 or self.overdue

    def is_new(self, photo: Photo) -> bool:
        """Bound after what the standing review covered."""
        return photo.id in self.new_photo_ids


def _lines(ids: Iterable[int], user=None) -> dict[int, ActivityStore]:
    found = db.session.execute(
        reviewable(user).where(ActivityStore.id.in_(sorted(set(ids))))
        .options(contains_eager(ActivityStore.activity).joinedload(Activity.type),
                 joinedload(ActivityStore.store).joinedload(Store.owner_rep))).unique().scalars()
    return {line.id: line for line in found}


def standing(keys: Sequence[Key]) -> dict[Key, Review]:
    """The standing review of each (activity store, period), with its reviewer."""
    if not keys:
        return {}
    latest = (select(func.max(Review.id)).where(tuple_(Review.activity_store_id, Review.period_index).in_(list(keys)))
              .group_by(Review.activity_store_id, Review.period_index))
    found = db.session.execute(select(Review).where(Review.id.in_(latest))
                               .options(joinedload(Review.reviewer))).scalars()
    return {(r.activity_store_id, r.period_index): r for r in found}


def references(items: Sequence[Item], user=None) -> None:
    """Give each item the last approved photo of its store from another period (or activity).

    An approved photo is one the approving review covered: bound no later than its evidence_upto."""
    store_ids = sorted({item.line.store_id for item in items})
    if not store_ids:
        return
    latest = (select(Review.activity_store_id.label("as_id"), Review.period_index.label("pi"),
                     func.max(Review.id).label("rid"))
              .join(ActivityStore, ActivityStore.id == Review.activity_store_id)
              .where(ActivityStore.store_id.in_(store_ids))
              .group_by(Review.activity_store_id, Review.period_index).subquery())
    head = aliased(Review)
    rows = db.session.execute(
        select(ActivityStore.store_id, Evidence.activity_store_id, Evidence.period_index, func.max(Evidence.photo_id))
        .join(latest, and_(latest.c.as_id == Evidence.activity_store_id, latest.c.pi == Evidence.period_index))
        .join(head, head.id == latest.c.rid)
        .join(ActivityStore, ActivityStore.id == Evidence.activity_store_id)
        .join(Photo, Photo.id == Evidence.photo_id)
        .where(head.verdict == Verdict.APPROVED, Evidence.id <= head.evidence_upto, Photo.voided_at.is_(None))
        .group_by(ActivityStore.store_id, Evidence.activity_store_id, Evidence.period_index)).all()
    best: dict[Key, int] = {}
    for item in items:
        candidates = [photo_id for store_id, as_id, pi, photo_id in rows
                      if store_id == item.line.store_id and (as_id, pi) != item.key]
        if candidates:
            best[item.key] = max(candidates)
    photos = {p.id: p for p in db.session.execute(
        scope.photos(user).where(Photo.id.in_(sorted(set(best.values()))))).scalars()} if best else {}
    for item in items:
        item.reference = photos.get(best.get(item.key))


def _bound(keys: Sequence[Key], user=None) -> tuple[dict[Key, list[tuple[Photo, int]]], dict[Key, dict]]:
    """What evidence.bound_photos and evidence.latest_checklists tell, in one read: the photos bound to
    each period that the user may see, voided ones too, oldest first, each with the id of the evidence
    row that binds it; and the latest checklist answers given in live evidence."""
    keys = sorted(set(keys))
    photos: dict[Key, list[tuple[Photo, int]]] = {}
    answers: dict[Key, dict] = {}
    for i in range(0, len(keys), 500):
        rows = db.session.execute(
            select(Evidence.activity_store_id, Evidence.period_index, Evidence.id, Evidence.checklist, Photo,
                   scope.rule(Photo, user).label("visible"))
            .outerjoin(Photo, Photo.id == Evidence.photo_id)
            .where(tuple_(Evidence.activity_store_id, Evidence.period_index).in_(keys[i:i + 500]))
            .order_by(Evidence.id))
        for as_id, index, evidence_id, checklist, photo, visible in rows:
            if photo is not None and visible:
                photos.setdefault((as_id, index), []).append((photo, evidence_id))
            if checklist and (photo is None or photo.voided_at is None):
                answers[(as_id, index)] = checklist
    return photos, answers


def load(keys: Sequence[Key], today: date, user=None, counted: dict[Key, Waiting] | None = None) -> list[Item]:
    """The items for these keys, in the order given; keys outside the user's scope or periods are dropped.

    A page passes what its census read already — the evidence counts, which items a review stands
    on — a verdict does not, so it reads them afresh."""
    lines = _lines([k[0] for k in keys], user)
    items = []
    for as_id, index in keys:
        line = lines.get(as_id)
        if line is None:
            continue
        periods = progress.store_periods(line)
        if 0 <= index < len(periods):
            items.append(Item(line, periods[index], today=today))
    found = [i.key for i in items]
    photos, answers = _bound(found, user)
    reviews = standing([k for k in found if counted is None or counted[k].reviewed])
    counts = counted if counted is not None else progress.tallies({k[0] for k in found})
    for item in items:
        item.photos = [photo for photo, _ev in photos.get(item.key, [])]
        item.answers = answers.get(item.key, {})
        item.review = reviews.get(item.key)
        found_here = counts.get(item.key)
        item.newest, item.rows = (found_here.newest, found_here.rows) if found_here is not None else (0, 0)
        item.new_photo_ids = {photo.id for photo, ev_id in photos.get(item.key, []) if ev_id > item.covered}
    references(items, user)
    return items


def one(line: ActivityStore, period_index: int, today: date, user=None) -> Item:
    """One item by its store line (already found through scope) and period index; 404 if no such period."""
    found = load([(line.id, period_index)], today, user)
    if not found:
        raise DomainError(_("Not found, or not yours to see."), 404)
    return found[0]


def history(item: Item) -> list[Review]:
    """Every review of the item, oldest first: the chain the latest one stands at the end of."""
    return list(db.session.execute(
        select(Review).where(Review.activity_store_id == item.line.id, Review.period_index == item.period.index)
        .options(selectinload(Review.reviewer)).order_by(Review.id)).scalars())


@dataclass
class QueuePage(Page):
    """A page of the queue (a web.Page of items) with the counts of both tabs."""

    waiting: int = 0
    overdue: int = 0


def page_of(user, today: date, show: str = "review", number: int = 1, size: int = PAGE_SIZE) -> QueuePage:
    """One page of the queue: items waiting for review, or overdue periods; with both counts."""
    found = census(user)
    late = found.overdue(today)
    total = len(late) if show == "overdue" else found.waits
    number = min(max(1, number), Page([], 1, size, total).pages)
    start, stop = (number - 1) * size, number * size
    chosen = late[start:stop] if show == "overdue" else found.waiting(start, stop)
    return QueuePage(load([w.key for w in chosen], today, user, {w.key: w for w in chosen}), number, size, total,
                     found.waits, len(late))
