"""ROI budget: the manager's page (GET /roi) in < 300 ms of server time, on SQLite and PostgreSQL,
over 20,000 stores, 2,000 activities and 1,000,000 sales lines.

Builds a throw-away database (a SQLite file, and the PostgreSQL database in BENCH_PG_URL,
default field_help_g_bench) with a company of 30 areas under 5 regions, 500 reps, 200
products and 20,000 stores; 2,000 approved activities over the last 180 days and the next 30,
each on 3–8 stores of one area and channel, with weekly evidence reviews, claims and write-offs
on most ended ones; and 1,000,000 sales lines over 208 days (a store orders on a dozen days,
several SKUs an order; activity stores sell more during their activity). Sales are bulk
inserted (executemany on SQLite, COPY on PostgreSQL); the daily-sales table is kept by its
triggers on SQLite and rebuilt in one INSERT … SELECT after the COPY on PostgreSQL (the same
triggers are on for every later write).

Then times, for a manager who sees the whole country, through the Flask test client (median of
RUNS after WARMUP): GET /roi as opened on a Monday (the last 90 days), GET /roi right after a
sale (the sold-at store's group is measured again), GET /roi over a whole year, one activity's
page, and as yardsticks from the same run a plain COUNT(*) over sales and GET /login. The very
first GET /roi, with no figures kept yet, is timed once: it is what `flask roi-refresh` does
ahead each night (field/roi/figures.py).

    .venv/bin/python bench/roi.py            # both databases
    .venv/bin/python bench/roi.py sqlite     # one
"""
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, insert, select, text  # noqa: E402

from bench.benchkit import fresh_postgres, median_ms  # noqa: E402

from field import create_app  # noqa: E402
from field.activities import rules  # noqa: E402
from field.core import company_today  # noqa: E402
from field.activities.models import Activity, ActivityStore, ActivityType, Review  # noqa: E402
from field.auth.models import Region, Role, User, user_regions  # noqa: E402
from field.claims.models import Claim, LedgerLine  # noqa: E402
from field.extensions import db  # noqa: E402
from field.products.models import Product  # noqa: E402
from field.sales.models import Sale  # noqa: E402
from field.stores.models import Channel, Store  # noqa: E402

BUDGET_MS = 300.0
RUNS, WARMUP = 7, 2
STORES, ACTIVITIES, SALES = 20_000, 2_000, 1_000_000
REGIONS, AREAS_PER_REGION, REPS, PRODUCTS = 5, 6, 500, 200
SALES_DAYS = 208  # 180 days of activities plus their 28-day pre-periods
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_help_g_bench")
CHUNK = 50_000
NOW = datetime.now(timezone.utc)


def _regions() -> list[int]:
    """Country → 5 regions → 30 areas; the area ids."""
    country = Region(code="CN", name="中国")
    db.session.add(country)
    db.session.flush()
    country.set_parent(None)
    areas = []
    for r in range(REGIONS):
        region = Region(code=f"R{r}", name=f"大区{r}")
        db.session.add(region)
        db.session.flush()
        region.set_parent(country)
        for a in range(AREAS_PER_REGION):
            area = Region(code=f"R{r}A{a}", name=f"片区{r}-{a}")
            db.session.add(area)
            db.session.flush()
            area.set_parent(region)
            areas.append(area.id)
    db.session.commit()
    return areas


def _people(areas: list[int]) -> tuple[int, dict[int, list[int]]]:
    """The country manager's id, and each area's reps."""
    manager = User(login="manager", name="经理", role=Role.MANAGER, password_hash="x")
    db.session.add(manager)
    db.session.flush()
    db.session.execute(insert(user_regions), [{"user_id": manager.id, "region_id": db.session.execute(
        select(Region.id).where(Region.code == "CN")).scalar_one()}])
    reps: dict[int, list[int]] = {a: [] for a in areas}
    for i in range(REPS):
        area = areas[i % len(areas)]
        rep = User(login=f"rep{i}", name=f"业务员{i}", role=Role.REP, password_hash="x")
        db.session.add(rep)
        db.session.flush()
        reps[area].append(rep.id)
    db.session.commit()
    return manager.id, reps


def _stores(rnd: random.Random, areas: list[int], reps: dict[int, list[int]]) -> None:
    channels = [c.value for c in Channel]
    rows = []
    for i in range(STORES):
        area = rnd.choice(areas)
        rows.append({"code": f"S{i:06d}", "name": f"门店{i}", "address": "", "lat": 31.2 + rnd.random() / 5,
                     "lng": 121.4 + rnd.random() / 5, "datum": "wgs84", "geofence_m": 200,
                     "tier": rnd.choices("ABCD", weights=(10, 20, 40, 30))[0],
                     "channel": rnd.choices(channels, weights=(10, 20, 30, 30, 5, 5))[0], "dealer": "",
                     "owner_rep_id": rnd.choice(reps[area]), "region_id": area, "active": True, "created_at": NOW})
    db.session.execute(insert(Store), rows)
    db.session.commit()


def _activities(rnd: random.Random, today: date, manager_id: int) -> list[tuple[int, int, date, date, int]]:
    """2,000 activities on 3–8 stores of one area and channel; (activity store id, store, start, end, budget)."""
    kinds = []
    for n, (name, floor, margin) in enumerate([("陈列租赁", 60, 30), ("堆头", 60, 28), ("品鉴", 50, 35),
                                               ("POSM", 70, 30), ("特价", 60, 20), ("冰柜", 60, 32)]):
        kind = ActivityType(name=name, name_en=f"Type {n}", check_period="weekly", photos_per_period=1,
                            checklist=[], compliance_floor_pct=Decimal(floor), margin_pct=Decimal(margin))
        db.session.add(kind)
        kinds.append(kind)
    db.session.flush()
    by_group: dict[tuple[int, str], list[int]] = {}
    for sid, area, channel in db.session.execute(select(Store.id, Store.region_id, Store.channel)):
        by_group.setdefault((area, channel), []).append(sid)
    groups = [g for g, ids in by_group.items() if len(ids) >= 8]
    applicants = list(db.session.execute(select(User.id).where(User.role == Role.REP)).scalars())
    activities, lines = [], []
    for i in range(ACTIVITIES):
        start = today - timedelta(days=180) + timedelta(days=rnd.randrange(210))
        end = start + timedelta(days=rnd.randrange(13, 42))
        status = "ended" if end < today else "running" if start <= today else "approved"
        kind = rnd.choice(kinds)
        activities.append({"title": f"活动{i}", "type_id": kind.id, "applicant_id": rnd.choice(applicants),
                           "status": status, "period_start": start, "period_end": end, "budget_total": 0,
                           "margin_pct": kind.margin_pct, "notes": "", "created_at": NOW, "decided_at": NOW})
    db.session.execute(insert(Activity), activities)
    ids = list(db.session.execute(select(Activity.id, Activity.period_start, Activity.period_end)
                                  .order_by(Activity.id)).all())
    for activity_id, start, end in ids:
        for sid in rnd.sample(by_group[rnd.choice(groups)], rnd.randint(3, 8)):
            lines.append({"activity_id": activity_id, "store_id": sid, "budget": rnd.randrange(50, 500) * 1000})
    db.session.execute(insert(ActivityStore), lines)
    db.session.execute(text("UPDATE activities SET budget_total = (SELECT SUM(budget) FROM activity_stores "
                            "WHERE activity_stores.activity_id = activities.id)"))
    db.session.commit()
    return [tuple(r) for r in db.session.execute(
        select(ActivityStore.id, ActivityStore.store_id, Activity.period_start, Activity.period_end,
               ActivityStore.budget).join(Activity, Activity.id == ActivityStore.activity_id))]


def _settle(rnd: random.Random, lines, today: date, manager_id: int) -> None:
    """Weekly reviews and, for most ended activities, a claim paid by a ledger line."""
    reviews, claims = [], []
    for line_id, _sid, start, end, budget in lines:
        periods = rules.periods(start, end, "weekly")
        for p in periods:
            if p.end < today and rnd.random() < 0.75:
                reviews.append({"activity_store_id": line_id, "period_index": p.index, "verdict": "approved",
                                "reason": "", "note": "", "reviewer_id": manager_id, "created_at": NOW,
                                "previous_id": 0})
        if end < today and rnd.random() < 0.7:
            claims.append({"activity_store_id": line_id, "claimant_id": manager_id, "status": "approved",
                           "amount": budget, "note": "", "created_at": NOW, "reason": "",
                           "approved_amount": budget * 3 // 4, "rejected_amount": budget - budget * 3 // 4})
    db.session.execute(insert(Review), reviews)
    db.session.execute(insert(Claim), claims)
    store_of = {line_id: (sid, None) for line_id, sid, *_ in lines}
    activity_of = dict(db.session.execute(select(ActivityStore.id, ActivityStore.activity_id)).all())
    paid = db.session.execute(select(Claim.id, Claim.activity_store_id, Claim.approved_amount)).all()
    db.session.execute(insert(LedgerLine), [
        {"kind": "payment", "claim_id": cid, "activity_id": activity_of[lid], "activity_store_id": lid,
         "store_id": store_of[lid][0], "amount": amount, "reason": "", "actor_id": manager_id, "posted_at": NOW,
         "posted_on": today} for cid, lid, amount in paid])
    db.session.commit()


def _sales(rnd: random.Random, lines, today: date, products: list[int]):
    """1,000,000 sales lines: each store orders on ~12 days of the window, 4 SKUs on average;
    stores in an activity sell half as much again while it runs."""
    lifted: dict[int, list[tuple[date, date]]] = {}
    for _line, sid, start, end, _budget in lines:
        lifted.setdefault(sid, []).append((start, end))
    first = today - timedelta(days=SALES_DAYS)
    made, per_store = 0, SALES // STORES
    for sid in range(1, STORES + 1):
        n = per_store
        days = sorted(rnd.sample(range(SALES_DAYS), 13))
        skus = rnd.sample(products, 8)
        for day_offset in days:
            day = first + timedelta(days=day_offset)
            lift = 1.5 if any(s <= day <= e for s, e in lifted.get(sid, ())) else 1.0
            for sku in skus[:rnd.randint(2, 6)]:
                if n == 0:
                    break
                n -= 1
                made += 1
                yield {"store_id": sid, "sold_on": day, "product_id": sku, "category": "", "quantity": 6,
                       "amount": int(rnd.randrange(2_000, 30_000) * lift), "source": "import",
                       "source_key": f"{sid}|{day}|{sku}", "created_at": NOW}
        while n > 0:  # top up to exactly 50 lines a store on extra days
            day = first + timedelta(days=rnd.randrange(SALES_DAYS))
            sku = rnd.choice(products)
            n -= 1
            made += 1
            yield {"store_id": sid, "sold_on": day, "product_id": sku, "category": "", "quantity": 3,
                   "amount": rnd.randrange(1_000, 10_000), "source": "import",
                   "source_key": f"{sid}|{day}|{sku}|x{n}", "created_at": NOW}


def _insert_sales(rows, postgres: bool) -> None:
    if not postgres:
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK:
                db.session.execute(insert(Sale), batch)
                batch = []
        if batch:
            db.session.execute(insert(Sale), batch)
        db.session.commit()
        return
    db.session.execute(text("ALTER TABLE sales DISABLE TRIGGER sales_daily_sync"))
    db.session.commit()
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        columns = ("store_id", "sold_on", "product_id", "category", "quantity", "amount", "source", "source_key",
                   "created_at")
        with cursor.copy(f"COPY sales ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        raw.commit()
    finally:
        raw.close()
    db.session.execute(text("INSERT INTO sales_daily (store_id, day, amount, quantity, lines) "
                            "SELECT store_id, sold_on, SUM(amount), SUM(quantity), COUNT(*) FROM sales "
                            "GROUP BY store_id, sold_on"))
    db.session.execute(text("ALTER TABLE sales ENABLE TRIGGER sales_daily_sync"))
    db.session.commit()


def build(app, postgres: bool) -> tuple[int, int, dict]:
    rnd = random.Random(20261123)
    took = {}
    with app.app_context():
        upgrade()
        t = time.perf_counter()
        areas = _regions()
        manager_id, reps = _people(areas)
        _stores(rnd, areas, reps)
        products = [{"sku": f"SKU{i:04d}", "name": f"产品{i}", "category": "饮料", "unit_price": 350,
                     "margin_pct": Decimal("30"), "active": True} for i in range(PRODUCTS)]
        db.session.execute(insert(Product), products)
        db.session.commit()
        product_ids = list(db.session.execute(select(Product.id)).scalars())
        today = company_today()
        lines = _activities(rnd, today, manager_id)
        _settle(rnd, lines, today, manager_id)
        took["company"] = time.perf_counter() - t
        t = time.perf_counter()
        _insert_sales(_sales(rnd, lines, today, product_ids), postgres)
        took["sales_load"] = time.perf_counter() - t
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        activity_id = db.session.execute(
            select(ActivityStore.activity_id).join(Activity).where(Activity.status == "ended")
            .order_by(Activity.period_end.desc()).limit(1)).scalar_one()
        counts = {name: db.session.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
                  for name in ("stores", "activities", "activity_stores", "sales", "sales_daily", "ledger_lines",
                               "reviews")}
        return manager_id, activity_id, {**counts, **took}




def measure(name: str, url: str) -> bool:
    postgres = url.startswith("postgresql")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SERVER_NAME": None,
                      "LOGIN_RATE_LIMIT": "100000 per minute"})
    manager_id, activity_id, counts = build(app, postgres)
    client, anonymous = app.test_client(), app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(manager_id)
        sess["_fresh"] = True
    year = f"from={(date.today() - timedelta(days=365)).isoformat()}&to={date.today().isoformat()}"

    def get(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        return run

    t = time.perf_counter()
    get("/roi")()  # nothing kept yet: measures every line (what `flask roi-refresh` does ahead, nightly)
    cold_s = time.perf_counter() - t

    with app.app_context():
        queries = []

        def count_query(*_args):
            queries.append(1)
        event.listen(db.engine, "before_cursor_execute", count_query)
        page = client.get("/roi").get_data(as_text=True)
        event.remove(db.engine, "before_cursor_execute", count_query)
        shown = page.count('data-activity="')

        def count_sales():
            db.session.execute(text("SELECT COUNT(*) FROM sales")).scalar_one()
            db.session.rollback()
        count_ms, _ = median_ms(count_sales, RUNS, WARMUP)[:2]

        # The working day: a rep's order lands at one activity store, then the manager looks.
        stores = list(db.session.execute(
            select(ActivityStore.store_id).join(Activity).where(Activity.status == "running")
            .order_by(ActivityStore.id)).scalars())
        rnd = random.Random(7)
        after_sale = []
        for i in range(RUNS):
            db.session.add(Sale(store_id=rnd.choice(stores), sold_on=date.today() - timedelta(days=1), amount=5_000,
                                quantity=1, category="饮料", source="import", source_key=f"bench-late-{i}"))
            db.session.commit()
            t = time.perf_counter()
            get("/roi")()
            after_sale.append((time.perf_counter() - t) * 1000)
        after_sale_ms = sorted(after_sale)[len(after_sale) // 2]

    roi_ms, roi_max = median_ms(get("/roi"), RUNS, WARMUP)[:2]
    year_ms, year_max = median_ms(get(f"/roi?{year}"), RUNS, WARMUP)[:2]
    activity_ms, _ = median_ms(get(f"/roi/activities/{activity_id}"), RUNS, WARMUP)[:2]
    login_ms, _ = median_ms(lambda: anonymous.get("/login"), RUNS, WARMUP)[:2]
    ok = roi_ms < BUDGET_MS
    print(f"\n{name}: {counts['stores']:,} stores, {counts['activities']:,} activities on "
          f"{counts['activity_stores']:,} stores, {counts['sales']:,} sales lines ({counts['sales_daily']:,} "
          f"store-days), {counts['reviews']:,} reviews, {counts['ledger_lines']:,} ledger lines "
          f"(built in {counts['company']:.0f} s, sales in {counts['sales_load']:.0f} s)")
    print(f"  GET /roi (last 90 days, {shown} activities shown, {len(queries)} queries): median {roi_ms:.0f} ms "
          f"(budget {BUDGET_MS:.0f} ms){'' if ok else '  OVER BUDGET'}, max {roi_max:.0f} ms")
    print(f"  GET /roi right after a sale at one activity store (its group measured again): "
          f"median {after_sale_ms:.0f} ms")
    print(f"  GET /roi with nothing kept (the first view, or `flask roi-refresh`): {cold_s:.1f} s")
    print(f"  GET /roi over a year: median {year_ms:.0f} ms, max {year_max:.0f} ms")
    print(f"  GET /roi/activities/<id>: median {activity_ms:.0f} ms")
    print(f"  yardstick: SELECT COUNT(*) FROM sales {count_ms:.1f} ms (GET /roi is {roi_ms / count_ms:.1f}x that); "
          f"GET /login {login_ms:.1f} ms")
    return ok




def main() -> int:
    which = sys.argv[1:] or ["sqlite", "postgresql"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in which:
            results.append(measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite'}"))
        if "postgresql" in which and fresh_postgres(PG_URL):
            results.append(measure("PostgreSQL", PG_URL))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
