"""Competitor report budget: < 300 ms of server time on SQLite and PostgreSQL, at 20,000 stores and
~520,000 competitor sightings (one per store a week over 26 weeks).

Builds a throw-away database (a SQLite file, and the PostgreSQL database in BENCH_PG_URL, default
field_competitors_bench): the company of bench/dashboards.py (a country of 5 regions × 6 areas, a country
manager, 200 supervisors with 10 reps each, 20,000 stores in six channels); one completed promotion visit per
store (the sightings point at it and at its competitor step: the report never reads visits); six promotion
types; then one sighting per store per week for 26 weeks — 8 brands, each with its own price ladder, half on
no promotion — bulk inserted (executemany on SQLite, COPY on PostgreSQL). Standalone: bench/channel.py (the
dealer scorecard) is another file.

Times through the Flask test client (median of RUNS after WARMUP), one line per page:
`competitor report: median X ms` … with `app CPU X ms` (this process's own time).

    .venv/bin/python bench/channel_competitors.py              # both databases
    .venv/bin/python bench/channel_competitors.py sqlite       # one
    BENCH_KEEP=/tmp/comp .venv/bin/python bench/channel_competitors.py   # keep the databases, reuse them

BENCH_KEEP names a directory: the SQLite file is kept there and the PostgreSQL database is not dropped, and
a later run with the same BENCH_KEEP times the pages over them again (after running any newer migration)
instead of building them anew.
"""
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from bench import dashboards as company  # noqa: E402
from bench.benchkit import both_databases, bulk_insert, fresh_postgres, signed_in, time_pages  # noqa: E402
from field import create_app  # noqa: E402
from field.auth.models import Role, User  # noqa: E402
from field.competitors.models import CompetitorPromotionType  # noqa: E402
from field.competitors.report import week_of  # noqa: E402
from field.core import company_today  # noqa: E402
from field.extensions import db  # noqa: E402
from field.stores.models import Store  # noqa: E402
from field.visits.builtin import ensure_builtin_types  # noqa: E402
from field.visits.models import StepKind, Visit, VisitStatus, VisitStep, VisitType  # noqa: E402

BUDGET_MS = 300.0
RUNS, WARMUP = 7, 2
WEEKS = 26
KEEP = os.environ.get("BENCH_KEEP", "")
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_competitors_bench")
NOW = datetime.now(timezone.utc)
BRANDS = {"康师傅": 350, "统一": 330, "农夫山泉": 200, "可口可乐": 300, "百事": 290, "元气森林": 550, "娃哈哈": 250,
          "东方树叶": 500}
DISPLAYS = ("shelf", "end_cap", "floor_stack", "cooler", "counter")
COLUMNS = ("visit_id", "step_id", "store_id", "rep_id", "region_id", "channel", "seen_on", "week", "brand",
           "product", "price", "promotion_type_id", "display", "facings", "created_at")


def _sightings(rnd, stores, step_id, promotion_ids, today):
    this_week = week_of(today)
    brands = list(BRANDS)
    for store_id, visit_id, rep_id, region_id, channel in stores:
        for w in range(WEEKS):
            week = this_week - timedelta(weeks=w)
            day = week + timedelta(days=rnd.randint(0, 4))
            brand = rnd.choice(brands)
            on_promotion = rnd.random() < 0.5
            price = BRANDS[brand] - (rnd.choice((20, 30, 50, 80)) if on_promotion else 0) + rnd.choice((0, 0, 10, 20))
            yield (visit_id, step_id, store_id, rep_id, region_id, channel, day, week, brand, "500ml", price,
                   rnd.choice(promotion_ids) if on_promotion else None, rnd.choice(DISPLAYS), rnd.randint(0, 12),
                   NOW)


def build(app, postgres: bool) -> tuple[int, int, dict]:
    rnd = random.Random(20270201)
    with app.app_context():
        upgrade()
        t = time.perf_counter()
        manager_id, supervisor_id, _ = company._company(rnd)
        counts = load(rnd, postgres, t)
        return manager_id, supervisor_id, counts


def load(rnd: random.Random, postgres: bool, t: float) -> dict:
    """Over the stores already there: a completed promotion visit each and its weeks of sightings."""
    ensure_builtin_types()
    db.session.commit()
    promotion = db.session.execute(select(VisitType).where(VisitType.code == "promotion")).scalar_one()
    step_id = db.session.execute(select(VisitStep.id).where(VisitStep.visit_type_id == promotion.id,
                                                            VisitStep.kind == StepKind.COMPETITOR)).scalar_one()
    promotion_ids = list(db.session.execute(select(CompetitorPromotionType.id)).scalars())
    today = company_today()
    stores = db.session.execute(select(Store.id, Store.owner_rep_id, Store.region_id, Store.channel)
                                .order_by(Store.id)).all()
    db.session.execute(insert(Visit), [
        {"rep_id": rep_id, "store_id": sid, "visit_type_id": promotion.id, "planned_for": today - timedelta(days=1),
         "status": VisitStatus.COMPLETED, "checkin_at": NOW - timedelta(days=1, minutes=30),
         "checkout_at": NOW - timedelta(days=1), "flags": [], "checkin_reason": "", "checkout_reason": "",
         "cancel_reason": "", "created_at": NOW} for sid, rep_id, _, _ in stores])
    db.session.commit()
    visit_of = dict(db.session.execute(select(Visit.store_id, Visit.id)
                                  .where(Visit.visit_type_id == promotion.id)).all())
    company_s = time.perf_counter() - t
    t = time.perf_counter()
    rows = [(sid, visit_of[sid], rep_id, region_id, channel) for sid, rep_id, region_id, channel in stores]
    bulk_insert("competitor_sightings", COLUMNS, _sightings(rnd, rows, step_id, promotion_ids, today), postgres)
    sightings_s = time.perf_counter() - t
    if postgres:
        db.session.commit()
        db.session.close()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    counts = {name: db.session.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
              for name in ("stores", "users", "competitor_sightings")}
    return {**counts, "company_s": company_s, "sightings_s": sightings_s}


def measure(name: str, url: str) -> bool:
    postgres = url.startswith("postgresql")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SERVER_NAME": None,
                      "LOGIN_RATE_LIMIT": "100000 per minute"})
    kept = _kept(app)
    if kept:
        manager_id, supervisor_id, counts = kept
    else:
        manager_id, supervisor_id, counts = build(app, postgres)
    made = ("kept from an earlier run" if kept else
            f"company in {counts['company_s']:.0f} s, sightings in {counts['sightings_s']:.0f} s")
    print(f"\n{name}: {counts['stores']:,} stores, {counts['users']:,} users, "
          f"{counts['competitor_sightings']:,} competitor sightings ({made})")

    return _time(signed_in(app, manager_id), signed_in(app, supervisor_id))


def _kept(app) -> tuple[int, int, dict] | None:
    """With BENCH_KEEP: the company of an earlier run, brought up to the newest migration; else None."""
    if not KEEP:
        return None
    with app.app_context():
        try:
            n = db.session.execute(text("SELECT COUNT(*) FROM competitor_sightings")).scalar_one()
        except Exception:  # noqa: BLE001 — no such table: nothing kept yet
            db.session.rollback()
            return None
        if not n:
            return None
        upgrade()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        manager_id = db.session.execute(select(User.id).where(User.login == "manager")).scalar_one()
        supervisor_id = db.session.execute(select(User.id).where(User.role == Role.SUPERVISOR)
                                           .order_by(User.id).limit(1)).scalar_one()
        counts = {name: db.session.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
                  for name in ("stores", "users", "competitor_sightings")}
    return manager_id, supervisor_id, {**counts, "company_s": 0, "sightings_s": 0}


def measure_in(app, setup, client_for) -> bool:
    """bench/channel.py's hook: the sightings over its database (its stores), the report timed for its
    manager (no supervisor there: that line is left out)."""
    with app.app_context():
        counts = load(random.Random(20270201), setup.postgres, time.perf_counter())
    print(f"  + {counts['competitor_sightings']:,} competitor sightings (in {counts['sightings_s']:.0f} s)")
    with app.app_context():
        return _time(client_for(setup.manager_id), None)


def _time(manager, supervisor) -> bool:
    pages = [("competitor report", manager, "/competitors/"),
             ("competitor report, 26 weeks", manager, "/competitors/?weeks=26"),
             ("competitor report, one brand and channel", manager, "/competitors/?weeks=26&brand=康师傅&channel=supermarket"),
             ("competitor report (a supervisor)", supervisor, "/competitors/"),
             ("competitor sightings (drill-down)", manager, "/competitors/sightings?brand=统一"),
             ("competitor export.xlsx", manager, "/competitors/export.xlsx")]
    return time_pages([page for page in pages if page[1] is not None], RUNS, WARMUP, BUDGET_MS)


def main() -> int:
    if not KEEP:
        return both_databases(measure, PG_URL)
    Path(KEEP).mkdir(parents=True, exist_ok=True)
    which = sys.argv[1:] or ["sqlite", "postgresql"]
    results = []
    if "sqlite" in which:
        results.append(measure("SQLite", f"sqlite:///{Path(KEEP) / 'competitors.sqlite'}"))
    if "postgresql" in which and (_pg_exists(PG_URL) or fresh_postgres(PG_URL)):
        results.append(measure("PostgreSQL", PG_URL))
    return 0 if all(results) else 1


def _pg_exists(url: str) -> bool:
    from sqlalchemy import create_engine
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 — not there (or no server): fresh_postgres says which
        return False


if __name__ == "__main__":
    sys.exit(main())
