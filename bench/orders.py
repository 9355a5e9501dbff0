"""Orders budget: a dealer's orders list < 300 ms of server time, on SQLite and PostgreSQL, at 20,000 stores,
1,000 dealers and 1,000,000 order lines.

Builds a throw-away database (a SQLite file, and the PostgreSQL database in BENCH_PG_URL, default
field_orders_bench): one region, 1,000 dealers, 20,000 stores (20 a dealer), 250,000 orders of 4 lines each
(250 a dealer, placed over the last 180 days, in every status), bulk inserted with executemany on SQLite and
COPY on PostgreSQL (`bulk_orders`). Then times through the Flask test client, as the first dealer's staff
member, the orders list (all, and by status), one order, and the scorecard's provider
(`dealer_orders_summary`), one line each: `<page>: median X ms` and the app's CPU.

    .venv/bin/python bench/orders.py              # both databases
    .venv/bin/python bench/orders.py sqlite       # one
"""
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bench.benchkit import both_databases, bulk_insert, median_ms, signed_in, time_pages  # noqa: E402
from field import create_app, providers  # noqa: E402
from field.auth.models import Region, Role, User  # noqa: E402
from field.dealers.models import Dealer  # noqa: E402
from field.extensions import db  # noqa: E402
from field.stores.models import Store  # noqa: E402

BUDGET_MS = 300.0
RUNS, WARMUP = 9, 2
DEALERS, STORES, LINES, PER_ORDER = 1_000, 20_000, 1_000_000, 4
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_orders_bench")
CHUNK = 50_000
NOW = datetime.now(timezone.utc)
STATUSES = ("submitted", "confirmed", "delivered", "partly_delivered", "cancelled")
ORDER_COLUMNS = ("id", "dealer_id", "store_id", "rep_id", "status", "total", "placed_at", "status_at")
LINE_COLUMNS = ("order_id", "line_no", "sku", "name", "quantity", "unit_price", "delivered_quantity")


def _company() -> tuple[int, int]:
    """The region, 1,000 dealers, 20,000 stores and one staff member of the first dealer: (their id, rep id)."""
    region = Region(code="CN", name="中国")
    db.session.add(region)
    db.session.flush()
    region.set_parent(None)
    rep = User(login="rep", name="业务员", role=Role.REP, password_hash="x")
    db.session.add(rep)
    db.session.flush()
    db.session.execute(insert(Dealer), [{"code": f"D{d:04d}", "name": f"经销商{d}", "region_id": region.id}
                                        for d in range(DEALERS)])
    first = db.session.execute(text("SELECT MIN(id) FROM dealers")).scalar_one()
    db.session.execute(insert(Store), [{"code": f"S{s:05d}", "name": f"门店{s}", "lat": 31.2, "lng": 121.4,
                                        "dealer_id": first + s % DEALERS, "owner_rep_id": rep.id,
                                        "region_id": region.id} for s in range(STORES)])
    staff = User(login="dealer", name="经销商人员", role=Role.DEALER, password_hash="x", dealer_id=first)
    db.session.add(staff)
    db.session.commit()
    return staff.id, rep.id


def _rows(rnd: random.Random, rep_id: int):
    """(orders, lines) row generators: order i at store i % STORES, so each dealer gets its stores' orders."""
    first_store = db.session.execute(text("SELECT MIN(id) FROM stores")).scalar_one()
    first_dealer = db.session.execute(text("SELECT MIN(id) FROM dealers")).scalar_one()
    orders = LINES // PER_ORDER

    def order_rows():
        for i in range(1, orders + 1):
            s = (i - 1) % STORES
            placed = NOW - timedelta(minutes=rnd.randrange(180 * 24 * 60))
            yield (i, first_dealer + s % DEALERS, first_store + s, rep_id, STATUSES[i % len(STATUSES)],
                   4 * 12 * 350, placed, placed)

    def line_rows():
        for i in range(1, orders + 1):
            delivered = STATUSES[i % len(STATUSES)] in ("delivered", "partly_delivered")
            for n in range(PER_ORDER):
                yield (i, n, f"SKU{n}", f"产品{n}", 12, 350, 12 if delivered else None)
    return order_rows(), line_rows()


def build(app, postgres: bool) -> tuple[int, dict]:
    rnd = random.Random(20261206)
    with app.app_context():
        upgrade()
        t = time.perf_counter()
        staff_id, rep_id = _company()
        orders, lines = _rows(rnd, rep_id)
        bulk_insert("orders", ORDER_COLUMNS, orders, postgres)
        bulk_insert("order_lines", LINE_COLUMNS, lines, postgres)
        load_s = time.perf_counter() - t
        if postgres:
            db.session.execute(text("SELECT setval('orders_id_seq', (SELECT MAX(id) FROM orders))"))
            db.session.commit()
            db.session.close()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        counts = {name: db.session.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
                  for name in ("dealers", "stores", "orders", "order_lines")}
        return staff_id, {**counts, "load_s": load_s}


def measure(name: str, url: str) -> bool:
    postgres = url.startswith("postgresql")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SERVER_NAME": None,
                      "LOGIN_RATE_LIMIT": "100000 per minute"})
    staff_id, counts = build(app, postgres)
    print(f"\n{name}: {counts['dealers']:,} dealers, {counts['stores']:,} stores, {counts['orders']:,} orders, "
          f"{counts['order_lines']:,} order lines (loaded in {counts['load_s']:.0f} s)")
    client = signed_in(app, staff_id)
    with app.app_context():
        dealer_id = db.session.execute(text(f"SELECT dealer_id FROM users WHERE id = {staff_id}")).scalar_one()
        order_id = db.session.execute(text(f"SELECT MAX(id) FROM orders WHERE dealer_id = {dealer_id}")).scalar_one()
    pages = [("dealer orders", "/orders"), ("dealer orders (submitted)", "/orders?status=submitted"),
             ("dealer orders (page 5)", "/orders?page=5"), ("one order", f"/orders/{order_id}")]
    ok = time_pages([(label, client, path) for label, path in pages], RUNS, WARMUP, BUDGET_MS)
    with app.test_request_context():
        dealer = db.session.get(Dealer, dealer_id)
        median, worst, cpu = median_ms(lambda: providers.ask("dealer_orders_summary", dealer), RUNS, WARMUP)
        over = median >= BUDGET_MS
        ok = ok and not over
        print(f"  dealer_orders_summary (scorecard provider): median {median:.0f} ms (budget {BUDGET_MS:.0f} ms)"
              f"{'  OVER BUDGET' if over else ''}, max {worst:.0f} ms, app CPU {cpu:.0f} ms")
    return ok


def main() -> int:
    return both_databases(measure, PG_URL)


if __name__ == "__main__":
    sys.exit(main())
