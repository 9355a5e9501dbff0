"""Channel budget (issue 17): the dealer scorecard < 300 ms of server time, on SQLite and PostgreSQL, at
20,000 stores, 1,000 dealers and 1,000,000 order lines.

Builds a throw-away database (a SQLite file, and the PostgreSQL database in BENCH_PG_URL, default
field_channel_bench): a country of 5 regions × 6 areas, a country manager, 1,000 dealers spread over the
areas, 20,000 stores (20 a dealer, each linked by stores.dealer_id), 1,000,000 sales lines over the last
400 days (what the recompute sums; on this branch they stand in for the order lines, which come with
field/orders: `add_order_lines` is where the lead adds them after the merge), 200,000 completed visits over
the last 60 days, three tiers with criteria. Then `flask dealers-recompute` for last month is timed once
(a monthly job, not budgeted) and the scorecard of one dealer through the Flask test client (median of RUNS
after WARMUP): `dealer scorecard: median X ms` with `app CPU X ms`.

Another page over the same database (the competitor report, bench/channel_competitors.py) adds its own
line: this script calls `channel_competitors.measure(app, setup, client_for)` when that module exists.
`build(app, postgres)` is importable and returns the Setup it needs.

    .venv/bin/python bench/channel.py              # both databases
    .venv/bin/python bench/channel.py sqlite       # one
"""
from __future__ import annotations

import importlib
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from bench.benchkit import country_and_manager, both_databases, bulk_insert, signed_in, time_pages  # noqa: E402
from field import create_app  # noqa: E402
from field.audit import SYSTEM  # noqa: E402
from field.auth.models import Role, User  # noqa: E402
from field.channel import operations as channel_ops  # noqa: E402
from field.channel.models import Tier, TierCriterion  # noqa: E402
from field.channel.tiers import add_months  # noqa: E402
from field.core import company_today  # noqa: E402
from field.dealers.models import Dealer  # noqa: E402
from field.extensions import db  # noqa: E402
from field.stores.models import Channel, Store  # noqa: E402
from field.visits.models import VisitStatus, VisitType  # noqa: E402

BUDGET_MS = 300.0
RUNS, WARMUP = 7, 2
STORES, DEALERS, LINES, VISITS, REPS = 20_000, 1_000, 1_000_000, 200_000, 2_000
HISTORY_DAYS = 400
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_channel_bench")
NOW = datetime.now(timezone.utc)


@dataclass
class Setup:
    """What build() made, for the pages timed over it (here and in bench/channel_competitors.py)."""
    postgres: bool
    manager_id: int
    rep_ids: list[int]
    dealer_ids: list[int]
    store_ids: list[int]
    area_ids: list[int]
    counts: dict = field(default_factory=dict)


def _company(rnd: random.Random) -> Setup:
    areas, manager_id = country_and_manager()
    db.session.execute(insert(User), [{"login": f"rep{i}", "name": f"业务员{i}", "role": Role.REP,
                                       "password_hash": "x", "active": True} for i in range(REPS)])
    reps = list(db.session.execute(select(User.id).where(User.role == Role.REP).order_by(User.id)).scalars())
    db.session.execute(insert(Dealer), [{"code": f"D{i:05d}", "name": f"经销商{i}", "contact_name": "", "phone": "",
                                         "address": "", "region_id": areas[i % len(areas)], "tier": "",
                                         "active": True, "created_at": NOW} for i in range(DEALERS)])
    dealers = list(db.session.execute(select(Dealer.id, Dealer.region_id).order_by(Dealer.id)).all())
    channels = [c.value for c in Channel]
    rows = []
    for i in range(STORES):
        dealer_id, region_id = dealers[i % DEALERS]
        rows.append({"code": f"S{i:06d}", "name": f"门店{i}", "address": "", "lat": 31.2 + rnd.random() / 5,
                     "lng": 121.4 + rnd.random() / 5, "datum": "wgs84", "geofence_m": 200,
                     "tier": rnd.choices("ABCD", weights=(10, 20, 40, 30))[0],
                     "channel": rnd.choice(channels), "dealer": f"经销商{i % DEALERS}", "dealer_id": dealer_id,
                     "owner_rep_id": reps[i % REPS], "region_id": region_id, "active": True, "created_at": NOW})
    db.session.execute(insert(Store), rows)
    db.session.commit()
    stores = list(db.session.execute(select(Store.id).order_by(Store.id)).scalars())
    return Setup(False, manager_id, reps, [d for d, _ in dealers], stores, areas)


def _sales(rnd: random.Random, stores: list[int], today: date):
    for n in range(LINES):
        day = today - timedelta(days=rnd.randint(1, HISTORY_DAYS))
        yield (rnd.choice(stores), day, "饮料", rnd.randint(1, 20), rnd.randint(500, 50_000), "import",
               f"bench-{n}", NOW)


def _visits(rnd: random.Random, setup: Setup, type_id: int, today: date):
    owners = dict(db.session.execute(select(Store.id, Store.owner_rep_id)).all())
    for _ in range(VISITS):
        sid = rnd.choice(setup.store_ids)
        day = today - timedelta(days=rnd.randint(1, 60))
        start = datetime(day.year, day.month, day.day, rnd.randint(0, 9), rnd.randint(0, 59), tzinfo=timezone.utc)
        yield (owners[sid], sid, type_id, day, VisitStatus.COMPLETED, start, start + timedelta(minutes=20),
               "[]", "", "", "", start)


def add_order_lines(app, setup: Setup) -> None:
    """1,000,000 order lines (bench/orders.py's shape: 4 lines an order, every status) on orders to the
    stores' dealers over the last HISTORY_DAYS, so the scorecard's orders section (the provider
    dealer_orders_summary) is timed at scale."""
    from bench.orders import LINE_COLUMNS, ORDER_COLUMNS, PER_ORDER, STATUSES
    rnd = random.Random(20261218)
    stores = db.session.execute(select(Store.id, Store.dealer_id, Store.owner_rep_id)
                                .where(Store.dealer_id.is_not(None)).order_by(Store.id)).all()
    first = (db.session.execute(text("SELECT MAX(id) FROM orders")).scalar_one() or 0) + 1
    orders = LINES // PER_ORDER

    def order_rows():
        for i in range(orders):
            store_id, dealer_id, rep_id = stores[i % len(stores)]
            placed = NOW - timedelta(minutes=rnd.randrange(HISTORY_DAYS * 24 * 60))
            yield (first + i, dealer_id, store_id, rep_id, STATUSES[i % len(STATUSES)], 4 * 12 * 350, placed, placed)

    def line_rows():
        for i in range(orders):
            delivered = STATUSES[i % len(STATUSES)] in ("delivered", "partly_delivered")
            for n in range(PER_ORDER):
                yield (first + i, n, f"SKU{n}", f"产品{n}", 12, 350, 12 if delivered else None)
    bulk_insert("orders", ORDER_COLUMNS, order_rows(), setup.postgres)
    bulk_insert("order_lines", LINE_COLUMNS, line_rows(), setup.postgres)
    if setup.postgres:
        db.session.execute(text("SELECT setval('orders_id_seq', (SELECT MAX(id) FROM orders))"))
        db.session.commit()


def _tiers() -> None:
    top = Tier(name="价值渠道", rank=3)
    mid = Tier(name="战略渠道", rank=2)
    db.session.add_all([top, mid, Tier(name="潜力渠道", rank=1)])
    db.session.add_all([TierCriterion(tier=top, metric="sales_3m", threshold=1_500_000),
                        TierCriterion(tier=top, metric="coverage", threshold=50),
                        TierCriterion(tier=mid, metric="sales_month", threshold=400_000),
                        TierCriterion(tier=mid, metric="growth_yoy", threshold=0)])
    db.session.commit()


def build(app, postgres: bool) -> Setup:
    """The whole database (see the module's docstring); the Setup says what is in it."""
    rnd = random.Random(20261217)
    with app.app_context():
        upgrade()
        t = time.perf_counter()
        setup = _company(rnd)
        setup.postgres = postgres
        kind = VisitType(code="routine", name="例行拜访", name_en="Routine visit", goals=[])
        db.session.add(kind)
        db.session.commit()
        _tiers()
        today = company_today()
        if postgres:  # as bench/roi.py: COPY past the daily-sums trigger, then the sums in one statement
            db.session.execute(text("ALTER TABLE sales DISABLE TRIGGER sales_daily_sync"))
            db.session.commit()
        bulk_insert("sales", ("store_id", "sold_on", "category", "quantity", "amount", "source", "source_key",
                        "created_at"), _sales(rnd, setup.store_ids, today), postgres)
        if postgres:
            db.session.execute(text("INSERT INTO sales_daily (store_id, day, amount, quantity, lines) "
                                    "SELECT store_id, sold_on, SUM(amount), SUM(quantity), COUNT(*) FROM sales "
                                    "GROUP BY store_id, sold_on"))
            db.session.execute(text("ALTER TABLE sales ENABLE TRIGGER sales_daily_sync"))
            db.session.commit()
        bulk_insert("visits", ("rep_id", "store_id", "visit_type_id", "planned_for", "status", "checkin_at",
                         "checkout_at", "flags", "checkin_reason", "checkout_reason", "cancel_reason", "created_at"),
              _visits(rnd, setup, kind.id, today), postgres)
        add_order_lines(app, setup)
        setup.counts["build_s"] = time.perf_counter() - t
        if postgres:
            db.session.commit()
            db.session.close()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        t = time.perf_counter()
        month = add_months(today.replace(day=1), -1)
        for back in range(11, -1, -1):  # a year of kept months, as twelve monthly runs would leave them
            channel_ops.recompute(add_months(month, -back), actor=SYSTEM)
            db.session.commit()
        setup.counts["recompute_s"] = (time.perf_counter() - t) / 12
        for name in ("stores", "dealers", "sales", "visits", "order_lines", "dealer_months", "dealer_tier_proposals"):
            setup.counts[name] = db.session.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
    return setup


def measure(name: str, url: str) -> bool:
    postgres = url.startswith("postgresql")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SERVER_NAME": None,
                      "LOGIN_RATE_LIMIT": "100000 per minute"})
    setup = build(app, postgres)
    c = setup.counts
    print(f"\n{name}: {c['stores']:,} stores, {c['dealers']:,} dealers, {c['sales']:,} sales lines, "
          f"{c['visits']:,} visits, {c['order_lines']:,} order lines (built in {c['build_s']:.0f} s); "
          f"dealers-recompute of a month "
          f"{c['recompute_s']:.1f} s ({c['dealer_months']:,} dealer months, {c['dealer_tier_proposals']:,} proposals)")

    def client_for(user_id):
        return signed_in(app, user_id)

    manager = client_for(setup.manager_id)
    dealer_id = setup.dealer_ids[len(setup.dealer_ids) // 2]
    pages = [("dealer scorecard", manager, f"/dealers/{dealer_id}/scorecard"),
             ("dealer list", manager, "/dealers?q=经销商5"),
             ("dealer tiers", manager, "/dealer-tiers")]
    with app.app_context():
        ok = time_pages(pages, RUNS, WARMUP, BUDGET_MS)
        try:
            competitors = importlib.import_module("bench.channel_competitors")
        except ImportError:
            competitors = None
        if competitors is not None:
            ok = competitors.measure_in(app, setup, client_for) and ok
    return ok


def main() -> int:
    return both_databases(measure, PG_URL)


if __name__ == "__main__":
    sys.exit(main())
