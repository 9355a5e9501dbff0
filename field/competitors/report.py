"""The competitor report: which competitor promotions were seen where, at what shelf price, week by week.

Prices are summed up as min / median / max from a histogram ({price in fen: sightings}) that the database
groups for us, so the app reads one row per distinct price, never one per sighting (bench/
channel_competitors.py). The median of an even count is the mean of the two middle prices, rounded down to
a fen."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from field import scope
from field.auth.models import Region, User
from field.competitors.models import CompetitorPromotionType, CompetitorSighting as CS
from field.core import local_today
from field.extensions import db
from field.photos.models import Photo

WEEK_CHOICES = (4, 13, 26)
DEFAULT_WEEKS = 13
TREND_BRANDS = 5
NO_PROMOTION = "none"


@dataclass(frozen=True)
class PriceStats:
    sightings: int
    low: int | None
    median: int | None
    high: int | None


def price_stats(histogram: dict[int, int]) -> PriceStats:
    """min / median / max of prices given as {price: how many sightings at it}."""
    total = sum(histogram.values())
    if not total:
        return PriceStats(0, None, None, None)
    prices = sorted(histogram)
    lower_i, upper_i = (total - 1) // 2, total // 2  # the middle one, or the middle two
    lower = upper = None
    seen = 0
    for price in prices:
        seen += histogram[price]
        if lower is None and seen > lower_i:
            lower = price
        if seen > upper_i:
            upper = price
            break
    return PriceStats(total, prices[0], (lower + upper) // 2, prices[-1])


@dataclass
class Filters:
    weeks: int = DEFAULT_WEEKS
    region: Region | None = None
    channel: str = ""
    brand: str = ""
    promotion: str = ""      # a promotion type's id, NO_PROMOTION, or "" for all

    def args(self, **override) -> dict:
        out = {"weeks": self.weeks, "region": self.region.id if self.region else None, "channel": self.channel,
               "brand": self.brand, "promotion": self.promotion}
        out.update(override)
        return {k: v for k, v in out.items() if v not in (None, "")}


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_range(user: User, weeks: int) -> list[date]:
    """The Mondays of the last `weeks` weeks, this week last."""
    this = week_of(local_today(user))
    return [this - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _where(user: User, filters: Filters, first_week: date) -> list:
    clauses = [scope.rule(CS, user), CS.week >= first_week]
    if filters.region is not None:
        clauses.append(CS.region_id.in_(select(Region.id).where(Region.path.startswith(filters.region.path))))
    if filters.channel:
        clauses.append(CS.channel == filters.channel)
    if filters.brand:
        clauses.append(CS.brand == filters.brand)
    if filters.promotion == NO_PROMOTION:
        clauses.append(CS.promotion_type_id.is_(None))
    elif filters.promotion:
        clauses.append(CS.promotion_type_id == int(filters.promotion))
    return clauses


@dataclass
class Row:
    brand: str
    promotion_id: int | None
    promotion: str
    stats: PriceStats
    where: list[tuple[str, int]] = field(default_factory=list)   # [(region name, sightings)], most first


@dataclass
class Report:
    weeks: list[date]
    rows: list[Row]
    trend: dict[str, list[PriceStats]]   # brand → one PriceStats per week
    total: int
    brands: list[str]                    # the brands in the table, for the filter's list


def promotion_names(locale: str | None) -> dict[int, str]:
    return {t.id: t.label(locale) for t in db.session.execute(select(CompetitorPromotionType)).scalars()}


def _streamed(stmt, wide: bool) -> list:
    """The rows of a GROUP BY in the order of ix_competitor_sightings_week_prices; when the read is `wide` (most of
    the weeks' sightings pass), grouped as the index streams them.

    PostgreSQL's planner prices a sequential scan and a hash of every sighting's (week, brand, promotion,
    price) below reading the index in order, once the weeks cover most of the table (26 weeks: all of it).
    Hashing half a million keys with a text column in them is what costs: measured on the 520,000 sightings
    of bench/channel_competitors.py, the hashed plan took about twice the time of the index-only scan that
    counts each group as it passes (EXPLAIN: HashAggregate over Seq Scan vs GroupAggregate over Index Only
    Scan). So hashing is turned off for this one query (SET LOCAL, then back to the default); SQLite already streams."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return db.session.execute(stmt).all()
    connection.exec_driver_sql("SET LOCAL enable_hashagg = off")
    try:
        return db.session.execute(stmt).all()
    finally:
        connection.exec_driver_sql("SET LOCAL enable_hashagg TO DEFAULT")


def report(user: User, filters: Filters, locale: str | None, no_promotion: str) -> Report:
    """The report's table (brand × promotion: sightings, prices; where, once a brand is picked) and trend
    (median price per week of the most seen brands), over what `user` may see. One query, grouped in the
    order of ix_competitor_sightings_week_prices so the database streams the groups out of one range of it
    (_streamed): one row per week, brand, promotion and price, never one per sighting."""
    weeks = week_range(user, filters.weeks)
    by_row: dict[tuple, Counter] = defaultdict(Counter)
    by_week: dict[tuple, Counter] = defaultdict(Counter)
    regions: dict[tuple, Counter] = defaultdict(Counter)
    columns = [CS.week, CS.brand, CS.promotion_type_id, CS.price]
    if filters.brand:
        columns.append(CS.region_id)  # one brand: where it was seen, from the same read
    stmt = select(*columns, func.count()).where(*_where(user, filters, weeks[0])).group_by(*columns)
    wide = not (filters.brand or filters.channel or filters.region)
    for week, brand, promo, price, *region, n in _streamed(stmt, wide):
        by_row[(brand, promo)][price] += n
        by_week[(brand, week)][price] += n
        if region:
            regions[(brand, promo)][region[0]] += n
    names = promotion_names(locale)
    region_names = dict(db.session.execute(select(Region.id, Region.name)).all()) if regions else {}
    rows = []
    for (brand, promo), hist in by_row.items():
        where_list = [(region_names.get(rid, "—"), n) for rid, n in regions[(brand, promo)].most_common()]
        rows.append(Row(brand, promo, names.get(promo, "") if promo else no_promotion, price_stats(hist), where_list))
    rows.sort(key=lambda r: (-r.stats.sightings, r.brand, r.promotion))
    brand_counts = Counter()
    for row in rows:
        brand_counts[row.brand] += row.stats.sightings
    top = [b for b, _ in brand_counts.most_common(TREND_BRANDS)]
    trend = {b: [price_stats(by_week.get((b, w), {})) for w in weeks] for b in top}
    return Report(weeks, rows, trend, sum(brand_counts.values()), sorted(brand_counts))


def sightings(user: User, filters: Filters, page: int, per_page: int) -> tuple[list[CS], bool]:
    """One page of the sightings behind the report (drill-down), newest first, and whether an older page
    follows. No total is counted: walking ix_competitor_sightings_seen_on_id backwards stops at the page's
    end, where a count would read every sighting of the weeks."""
    weeks = week_range(user, filters.weeks)
    found = list(db.session.execute(
        select(CS).where(*_where(user, filters, weeks[0])).order_by(CS.seen_on.desc(), CS.id.desc())
        .options(joinedload(CS.store), joinedload(CS.rep), joinedload(CS.promotion_type))
        .offset((page - 1) * per_page).limit(per_page + 1)).scalars())
    return found[:per_page], len(found) > per_page


def photos_of(user: User, rows: list[CS]) -> dict[tuple[int, int], list]:
    """The photos of the sightings' steps the user may see: {(visit id, step id): [Photo]}, live ones."""
    visit_ids = {r.visit_id for r in rows}
    if not visit_ids:
        return {}
    out: dict[tuple[int, int], list] = defaultdict(list)
    for photo in db.session.execute(scope.photos(user).where(Photo.visit_id.in_(visit_ids), Photo.voided_at.is_(None))
                                    .order_by(Photo.id)).scalars():
        out[(photo.visit_id, photo.step_id)].append(photo)
    return out
