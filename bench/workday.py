"""Workday budget: a rep's day page and week page (field/workday) < 100 ms of server time, on SQLite and
PostgreSQL, at 2,000 reps over a month of history.

Builds a throw-away database (a SQLite file, and the PostgreSQL database in BENCH_PG_URL, default
field_workday_bench) with bench/dashboards.py's company (5 regions × 6 areas, 200 supervisors with 10 reps
each, 20,000 stores), then a month (DAYS days up to today) of working days: each rep starts the day most days
(late now and then), checks in to VISITS_A_DAY stores with positions, and ends it (some days never ended).
Visits and workdays are bulk inserted (executemany on SQLite, COPY on PostgreSQL).

Times through the Flask test client (median of RUNS after WARMUP), one line per page: `<page>: median X ms`
with `app CPU X ms`. Another helper's pages (the leaderboard) are added by giving `measure()` more pages:
`pages(ids)` returns (label, user id, path) triples from the ids `build()` returns; extend that list.

    .venv/bin/python bench/workday.py              # both databases
    .venv/bin/python bench/workday.py sqlite       # one
"""
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from bench import dashboards as company  # noqa: E402
from bench.benchkit import both_databases, bulk_insert, signed_in, time_pages  # noqa: E402
from field import create_app  # noqa: E402
from field.auth.models import Role, User  # noqa: E402
from field.core import company_today  # noqa: E402
from field.extensions import db  # noqa: E402
from field.visits.models import VisitStatus, VisitType  # noqa: E402

BUDGET_MS = 100.0
RUNS, WARMUP = 15, 3
DAYS, VISITS_A_DAY = 30, 6
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_workday_bench")
VISIT_COLUMNS = ("rep_id", "store_id", "visit_type_id", "planned_for", "status", "checkin_at", "checkin_lat",
                 "checkin_lng", "checkout_at", "checkout_lat", "checkout_lng", "flags", "checkin_reason",
                 "checkout_reason", "cancel_reason", "created_at")
WORKDAY_COLUMNS = ("rep_id", "day", "started_at", "start_lat", "start_lng", "start_received_at", "ended_at",
                   "end_lat", "end_lng", "auto_closed", "flags")
SHANGHAI = timezone(timedelta(hours=8))


def _rows(rnd: random.Random, stores: dict[int, list[int]], points: dict[int, tuple], type_id: int, today):
    """(visit rows, workday rows): a month of days per rep."""
    visits, workdays = [], []
    for rep_id in sorted(stores):
        for back in range(DAYS):
            day = today - timedelta(days=back)
            start = datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI) + timedelta(minutes=rnd.randint(-30, 40))
            home = (31.2 + rnd.random() / 5, 121.4 + rnd.random() / 5)
            t = start
            if rnd.random() < 0.95:
                ended = None if rnd.random() < 0.05 else start + timedelta(hours=rnd.randint(7, 9))
                workdays.append((rep_id, day, start, home[0], home[1], start, ended,
                                 home[0] if ended else None, home[1] if ended else None, False,
                                 '["late_start"]' if start.hour >= 9 and start.minute > 0 else "[]"))
            for sid in rnd.sample(stores[rep_id], VISITS_A_DAY):
                t += timedelta(minutes=rnd.randint(15, 50))
                out = t + timedelta(minutes=rnd.randint(10, 40))
                lat, lng = points[sid]
                visits.append((rep_id, sid, type_id, day, VisitStatus.COMPLETED, t, lat, lng, out, lat, lng, "[]",
                               "", "", "", t))
                t = out
    return visits, workdays


def build(app, postgres: bool) -> dict:
    """The company and its month; the ids the pages are opened with."""
    rnd = random.Random(20261207)
    with app.app_context():
        upgrade()
        t = time.perf_counter()
        _manager_id, supervisor_id, stores = company._company(rnd)
        kind = VisitType(code="routine", name="例行拜访", name_en="Routine visit", goals=[])
        db.session.add(kind)
        db.session.commit()
        from field.stores.models import Store
        points = {sid: (lat, lng) for sid, lat, lng in db.session.execute(select(Store.id, Store.lat, Store.lng))}
        visits, workdays = _rows(rnd, stores, points, kind.id, company_today())
        bulk_insert("visits", VISIT_COLUMNS, visits, postgres)
        bulk_insert("workdays", WORKDAY_COLUMNS, workdays, postgres)
        if postgres:
            db.session.commit()
            db.session.close()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        rep_id = db.session.execute(select(User.id).where(User.supervisor_id == supervisor_id, User.role == Role.REP)
                                    .order_by(User.id)).scalars().first()
        counts = {name: db.session.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
                  for name in ("users", "stores", "visits", "workdays")}
        return {"rep": rep_id, "supervisor": supervisor_id, "today": company_today(), "counts": counts,
                "build_s": time.perf_counter() - t}


def pages(ids: dict) -> list[tuple[str, int, str]]:
    """(label, user id, path) of each page timed; another bench may add its own to this list."""
    rep, day = ids["rep"], ids["today"]
    yesterday = day - timedelta(days=1)
    return [("day page", rep, f"/reps/{rep}/workday?date={yesterday.isoformat()}"),
            ("day page (today, open)", rep, f"/reps/{rep}/workday"),
            ("week page", rep, f"/reps/{rep}/workday/week?week={(day - timedelta(days=7)).isoformat()}"),
            ("day page (the supervisor looks)", ids["supervisor"], f"/reps/{rep}/workday?date={yesterday.isoformat()}"),
            ("team day page (supervisor)", ids["supervisor"], f"/team/workdays?date={yesterday.isoformat()}"),
            ("rep home (start-the-day card)", rep, "/")]


def measure(name: str, url: str, extra=None) -> bool:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SERVER_NAME": None})
    ids = build(app, url.startswith("postgresql"))
    c = ids["counts"]
    print(f"\n{name}: {c['users']:,} users, {c['stores']:,} stores, {c['visits']:,} visits, {c['workdays']:,} "
          f"workdays (built in {ids['build_s']:.0f} s)")
    return time_pages([(label, signed_in(app, user_id), path)
                       for label, user_id, path in pages(ids) + (extra(ids) if extra else [])],
                      RUNS, WARMUP, BUDGET_MS)


def main() -> int:
    return both_databases(measure, PG_URL)


if __name__ == "__main__":
    sys.exit(main())
