"""Dashboards budget: every dashboard page < 300 ms of server time, on SQLite and PostgreSQL, at
20,000 stores, 2,000 reps and 1,000,000 visits.

Builds a throw-away database (a SQLite file, and the PostgreSQL database in BENCH_PG_URL, default
field_dash_bench): a country of 5 regions × 6 areas, a country manager, 200 supervisors with 10 reps
each, 20,000 stores (10 a rep, tiers A–D, six channels); 1,000,000 visits — completed visits over the
last 420 days (so 同比 has a year to compare with) and, today, 7 a rep (3 done, 1 in progress, 3
planned); 2,000 activities with reviews, claims and write-offs as bench/roi.py makes them. Visits
are bulk inserted (executemany on SQLite, COPY on PostgreSQL).

Then times through the Flask test client (median of RUNS after WARMUP), one line per page:
`<page>: median X ms`. The country manager opens /dashboard (this month, and a week), the stores
behind a coverage figure, the reps behind visits a day, and the export; a supervisor opens the team
dashboard. The alerts evaluation for one area (field.alerts.evaluate.evaluate, rolled back after
each run) is timed on its own line, against the same budget.

    .venv/bin/python bench/dashboards.py              # both databases
    .venv/bin/python bench/dashboards.py sqlite       # one

DASH_KEEP=1 keeps the PostgreSQL database (and the SQLite file, BENCH_SQLITE_PATH, default
field_dash_bench.sqlite in the temporary directory) for the next run: a run that finds a finished build there
(a marker table holds its user ids and migration head; an older head is migrated) times the pages
again without building.
"""
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from bench import roi as roi_bench  # noqa: E402
from bench.benchkit import bulk_insert, country_and_manager, fresh_postgres, median_ms  # noqa: E402
from field import create_app  # noqa: E402
from field.auth.models import Region, Role, User, user_regions  # noqa: E402
from field.core import company_today  # noqa: E402
from field.extensions import db  # noqa: E402
from field.stores.models import Channel, Store  # noqa: E402
from field.visits.models import VisitStatus, VisitType  # noqa: E402

BUDGET_MS = 300.0
RUNS, WARMUP = 7, 2
STORES, REPS, VISITS, TEAM = 20_000, 2_000, 1_000_000, 10
HISTORY_DAYS, TODAY_PER_REP = 420, 7
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_dash_bench")
CHUNK = 50_000
NOW = datetime.now(timezone.utc)
COLUMNS = ("rep_id", "store_id", "visit_type_id", "planned_for", "status", "checkin_at", "checkout_at", "flags",
           "checkin_reason", "checkout_reason", "cancel_reason", "created_at")


def _company(rnd: random.Random) -> tuple[int, int, dict[int, list[int]]]:
    """Regions, the country manager, supervisors and reps, stores; (manager id, a supervisor id, stores by rep)."""
    areas, manager_id = country_and_manager()
    supervisors = [{"login": f"sup{i}", "name": f"主管{i}", "role": Role.SUPERVISOR, "password_hash": "x",
                    "active": True} for i in range(REPS // TEAM)]
    db.session.execute(insert(User), supervisors)
    sup_ids = list(db.session.execute(select(User.id).where(User.role == Role.SUPERVISOR).order_by(User.id)).scalars())
    db.session.execute(insert(user_regions), [{"user_id": s, "region_id": areas[i % len(areas)]}
                                              for i, s in enumerate(sup_ids)])
    db.session.execute(insert(User), [{"login": f"rep{i}", "name": f"业务员{i}", "role": Role.REP,
                                       "password_hash": "x", "active": True,
                                       "supervisor_id": sup_ids[i // TEAM]} for i in range(REPS)])
    reps = list(db.session.execute(select(User.id, User.supervisor_id).where(User.role == Role.REP)
                                   .order_by(User.id)).all())
    area_of_sup = {s: areas[i % len(areas)] for i, s in enumerate(sup_ids)}
    channels = [c.value for c in Channel]
    rows = []
    for i in range(STORES):
        rep_id, sup_id = reps[i % REPS]
        rows.append({"code": f"S{i:06d}", "name": f"门店{i}", "address": "", "lat": 31.2 + rnd.random() / 5,
                     "lng": 121.4 + rnd.random() / 5, "datum": "wgs84", "geofence_m": 200,
                     "tier": rnd.choices("ABCD", weights=(10, 20, 40, 30))[0],
                     "channel": rnd.choices(channels, weights=(10, 20, 30, 30, 5, 5))[0], "dealer": "",
                     "owner_rep_id": rep_id, "region_id": area_of_sup[sup_id], "active": True, "created_at": NOW})
    db.session.execute(insert(Store), rows)
    db.session.commit()
    stores: dict[int, list[int]] = {}
    for sid, rep_id in db.session.execute(select(Store.id, Store.owner_rep_id)):
        stores.setdefault(rep_id, []).append(sid)
    return manager_id, sup_ids[0], stores


def _visits(rnd: random.Random, stores: dict[int, list[int]], type_id: int, today):
    reps = sorted(stores)
    history = VISITS - len(reps) * TODAY_PER_REP
    for _ in range(history):
        rep_id = rnd.choice(reps)
        day = today - timedelta(days=rnd.randint(1, HISTORY_DAYS))
        start = datetime(day.year, day.month, day.day, rnd.randint(0, 9), rnd.randint(0, 59), tzinfo=timezone.utc)
        yield (rep_id, rnd.choice(stores[rep_id]), type_id, day, VisitStatus.COMPLETED, start,
               start + timedelta(minutes=rnd.randint(5, 60)), "[]", "", "", "", start)
    now = datetime.now(timezone.utc)
    for rep_id in reps:
        for n, sid in enumerate(rnd.sample(stores[rep_id], TODAY_PER_REP)):
            start = now - timedelta(hours=4 - n)
            if n < 3:
                yield (rep_id, sid, type_id, today, VisitStatus.COMPLETED, start, start + timedelta(minutes=25),
                       "[]", "", "", "", start)
            elif n == 3:
                yield (rep_id, sid, type_id, today, VisitStatus.IN_PROGRESS, start, None, "[]", "", "", "", start)
            else:
                yield (rep_id, sid, type_id, today, VisitStatus.PLANNED, None, None, "[]", "", "", "", now)


def build(app, postgres: bool) -> tuple[int, int, dict]:
    rnd = random.Random(20261215)
    with app.app_context():
        upgrade()
        t = time.perf_counter()
        manager_id, supervisor_id, stores = _company(rnd)
        kind = VisitType(code="routine", name="例行拜访", name_en="Routine visit", goals=[])
        db.session.add(kind)
        db.session.commit()
        today = company_today()
        lines = roi_bench._activities(rnd, today, manager_id)
        roi_bench._settle(rnd, lines, today, manager_id)
        company_s = time.perf_counter() - t
        t = time.perf_counter()
        bulk_insert("visits", COLUMNS, _visits(rnd, stores, kind.id, today), postgres, CHUNK)
        visits_s = time.perf_counter() - t
        if postgres:
            # VACUUM too: COPY leaves the visibility map empty, so index-only scans would visit the heap.
            # The session's transaction ends first: a snapshot older than the COPY keeps its rows from
            # counting as visible to all, and VACUUM would leave them so.
            db.session.commit()
            db.session.close()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        counts = {name: db.session.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
                  for name in ("stores", "users", "visits", "activity_stores")}
        return manager_id, supervisor_id, {**counts, "company_s": company_s, "visits_s": visits_s}


def _alerts_evaluation(app) -> tuple[str, float, float, float, int] | None:
    """The alerts evaluation for one region (field.alerts.evaluate.evaluate of the first area, every
    rule), each run rolled back so the next finds the same state: (region code, median ms, worst ms,
    app CPU ms, alerts opened), or None when field.alerts has no evaluate."""
    try:
        from field.alerts.evaluate import evaluate
    except ImportError:
        return None
    with app.test_request_context():
        region = db.session.execute(select(Region).where(Region.code == "R0A0")).scalar_one()
        opened = []

        def run():
            try:
                opened.append(len(evaluate(region).opened))
            finally:
                db.session.rollback()
        median, worst, cpu = median_ms(run, RUNS, WARMUP)
        return region.code, median, worst, cpu, opened[-1]


MARKER = "bench_dashboards_marker"


def _kept(app) -> tuple[int, int, dict] | None:
    """(manager id, supervisor id, counts) of a finished build kept by DASH_KEEP=1, migrated to this head."""
    from alembic.script import ScriptDirectory
    with app.app_context():
        head = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_current_head()
        try:
            row = db.session.execute(text(f"SELECT manager_id, supervisor_id, head FROM {MARKER}")).first()
        except Exception:  # noqa: BLE001 — no marker: build
            return None
        finally:
            db.session.rollback()
        if row is None:
            return None
        if row[2] != head:  # built at an older head: bring it up to date rather than build it again
            upgrade()
            db.session.execute(text(f"UPDATE {MARKER} SET head = :h"), {"h": head})
            db.session.commit()
        counts = {name: db.session.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
                  for name in ("stores", "users", "visits", "activity_stores")}
        return row[0], row[1], {**counts, "company_s": 0.0, "visits_s": 0.0}


def _keep(app, manager_id: int, supervisor_id: int) -> None:
    from alembic.script import ScriptDirectory
    with app.app_context():
        head = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_current_head()
        db.session.execute(text(f"CREATE TABLE {MARKER} (manager_id int, supervisor_id int, head text)"))
        db.session.execute(text(f"INSERT INTO {MARKER} VALUES (:m, :s, :h)"),
                           {"m": manager_id, "s": supervisor_id, "h": head})
        db.session.commit()


def _sqlite_marked(path: Path) -> bool:
    import sqlite3
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (MARKER,)).fetchone() is not None


def measure(name: str, url: str) -> bool:
    postgres = url.startswith("postgresql")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SERVER_NAME": None,
                      "LOGIN_RATE_LIMIT": "100000 per minute"})
    keep = bool(os.environ.get("DASH_KEEP"))
    kept = _kept(app) if keep else None
    if kept is None:
        if postgres and not fresh_postgres(url):
            return True
        manager_id, supervisor_id, counts = build(app, postgres)
        if keep:
            _keep(app, manager_id, supervisor_id)
    else:
        manager_id, supervisor_id, counts = kept
        print(f"\n{name}: kept from an earlier run (DASH_KEEP=1)")
    print(f"\n{name}: {counts['stores']:,} stores, {counts['users']:,} users, {counts['visits']:,} visits, "
          f"{counts['activity_stores']:,} activity stores (company in {counts['company_s']:.0f} s, visits in "
          f"{counts['visits_s']:.0f} s)")

    def client_for(user_id):
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user_id)
            sess["_fresh"] = True
        return client

    manager, supervisor = client_for(manager_id), client_for(supervisor_id)
    t = time.perf_counter()
    assert manager.get("/dashboard").status_code == 200  # the first view measures the ROI lines (nightly job)
    print(f"  first GET /dashboard (ROI figures measured, as `flask roi-refresh` does nightly): "
          f"{time.perf_counter() - t:.1f} s")
    pages = [("GET /dashboard (this month)", manager, "/dashboard"),
             ("GET /dashboard?period=week", manager, "/dashboard?period=week"),
             ("GET /dashboard/stores (due, not visited)", manager, "/dashboard/stores?state=unvisited"),
             ("GET /dashboard/reps (visits a day)", manager, "/dashboard/reps?measure=per_day"),
             ("GET /dashboard/export.csv", manager, "/dashboard/export.csv"),
             ("GET /dashboard/team (a supervisor)", supervisor, "/dashboard/team"),
             ("GET / (the supervisor's home)", supervisor, "/")]
    ok = True
    for label, client, path in pages:
        def run(client=client, path=path):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        median, worst, cpu = median_ms(run, RUNS, WARMUP)
        over = median >= BUDGET_MS
        ok = ok and not over
        # app CPU: this process's own time (on SQLite the database's too), which other programs on a
        # busy machine do not inflate.
        print(f"  {label}: median {median:.0f} ms (budget {BUDGET_MS:.0f} ms){'  OVER BUDGET' if over else ''}, "
              f"max {worst:.0f} ms, app CPU {cpu:.0f} ms")
    alerts = _alerts_evaluation(app)
    if alerts is None:
        print("  alerts evaluation for one region: skipped (field.alerts.evaluate not available)")
    else:
        code, median, worst, cpu, opened = alerts
        over = median >= BUDGET_MS
        ok = ok and not over
        print(f"  alerts evaluation for one region ({code}, {opened} alerts opened, rolled back): "
              f"median {median:.0f} ms (budget {BUDGET_MS:.0f} ms){f'  OVER BUDGET by {median - BUDGET_MS:.0f} ms' if over else ''}, "
              f"max {worst:.0f} ms, app CPU {cpu:.0f} ms")
    return ok


def main() -> int:
    which = sys.argv[1:] or ["sqlite", "postgresql"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in which:
            path = Path(tmp) / "bench.sqlite"
            if os.environ.get("DASH_KEEP"):  # kept beside the temporary directory, for the next run
                path = Path(os.environ.get("BENCH_SQLITE_PATH", Path(tempfile.gettempdir()) / "field_dash_bench.sqlite"))
                if path.exists() and not _sqlite_marked(path):  # an unfinished build: start again
                    path.unlink()
            results.append(measure("SQLite", f"sqlite:///{path}"))
        if "postgresql" in which:
            results.append(measure("PostgreSQL", PG_URL))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
