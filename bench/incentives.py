"""Incentives budget: the team leaderboard (week and month) and the rep's points card < 100 ms of server
time, on SQLite and PostgreSQL, for 2,000 reps over a month of history.

Builds a throw-away database (a SQLite file, and the PostgreSQL database in BENCH_PG_URL, default
field_incentives_bench): a country of 5 regions × 6 areas, a country manager, 200 supervisors with 10 reps
each; five levels; four tasks for the country; and the points ledger of the last 35 days: each rep 0–4
grants a day and one in twenty of them reversed (about 200,000 lines, bulk inserted).

Then times through the Flask test client (median of RUNS after WARMUP), one line per page:
`<page>: median X ms … app CPU X ms`: a supervisor's leaderboard (week, month), the country manager's (all
2,000 reps; week, month), a rep's (week), the rep's home with the points card, and /incentives.

    .venv/bin/python bench/incentives.py              # both databases
    .venv/bin/python bench/incentives.py sqlite       # one
"""
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bench.benchkit import country_and_manager, both_databases, signed_in, time_pages  # noqa: E402
from field import create_app  # noqa: E402
from field.auth.models import Region, Role, User, user_regions  # noqa: E402
from field.core import company_today, now  # noqa: E402
from field.extensions import db  # noqa: E402
from field.incentives.models import IncentiveLevel, IncentiveTask, PointsEntry  # noqa: E402

BUDGET_MS = 100.0
RUNS, WARMUP = 9, 2
REPS, TEAM, DAYS = 2_000, 10, 35
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_incentives_bench")
CHUNK = 20_000


def build(app) -> tuple[dict[str, int], int]:
    rnd = random.Random(16)
    with app.app_context():
        upgrade()
        t = time.perf_counter()
        areas, manager_id = country_and_manager()
        country_id = db.session.execute(select(Region.id).where(Region.code == "CN")).scalar_one()
        db.session.execute(insert(User), [{"login": f"sup{i}", "name": f"主管{i}", "role": Role.SUPERVISOR,
                                           "password_hash": "x", "active": True} for i in range(REPS // TEAM)])
        sups = list(db.session.execute(select(User.id).where(User.role == Role.SUPERVISOR).order_by(User.id)).scalars())
        db.session.execute(insert(user_regions), [{"user_id": s, "region_id": areas[i % len(areas)]}
                                                  for i, s in enumerate(sups)])
        db.session.execute(insert(User), [{"login": f"rep{i}", "name": f"业务员{i}", "role": Role.REP,
                                           "password_hash": "x", "active": True, "supervisor_id": sups[i // TEAM]}
                                          for i in range(REPS)])
        reps = list(db.session.execute(select(User.id, User.supervisor_id).where(User.role == Role.REP)
                                       .order_by(User.id)).all())
        area_of = {s: areas[i % len(areas)] for i, s in enumerate(sups)}
        db.session.execute(insert(user_regions), [{"user_id": r, "region_id": area_of[s]} for r, s in reps])
        db.session.add_all([IncentiveLevel(name=name, threshold=th, rewards=[f"{name} 权益"])
                            for name, th in (("青铜", 0), ("白银", 300), ("黄金", 800), ("铂金", 1500), ("钻石", 3000))])
        today = company_today()
        tasks = [IncentiveTask(name=f"任务{k}", kind=k, points=p, target=1, region_id=country_id,
                               period_start=today - timedelta(days=DAYS), period_end=today + timedelta(days=30),
                               created_by_id=manager_id)
                 for k, p in (("route_days", 30), ("first_approved", 15), ("a_tier", 50), ("follow_up", 5))]
        db.session.add_all(tasks)
        db.session.commit()
        company_s = time.perf_counter() - t

        t = time.perf_counter()
        task_ids = [(task.id, task.points, task.name) for task in tasks]
        rows, reversals, n = [], [], 0
        created = now()
        for rep_id, _sup in reps:
            for d in range(DAYS):
                day = today - timedelta(days=d)
                for g in range(rnd.randint(0, 4)):
                    task_id, points, name = task_ids[rnd.randrange(len(task_ids))]
                    n += 1
                    rows.append({"id": n, "rep_id": rep_id, "task_id": task_id, "outcome": f"b:{day}:{g}",
                                 "kind": "grant", "points": points, "earned_on": day, "reverses_id": None,
                                 "task_name": name, "note": "", "actor_id": None, "created_at": created})
                    if rnd.random() < 0.05:
                        reversals.append(rows[-1])
        for grant in reversals:
            n += 1
            rows.append({**grant, "id": n, "kind": "reversal", "points": -grant["points"],
                         "earned_on": min(grant["earned_on"] + timedelta(days=2), today), "reverses_id": grant["id"],
                         "note": "rejected later"})
        for i in range(0, len(rows), CHUNK):
            db.session.execute(insert(PointsEntry), rows[i:i + CHUNK])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("SELECT setval('points_ledger_id_seq', :n)"), {"n": n})
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(db.text("ANALYZE"))
        else:
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        ledger_s = time.perf_counter() - t
        lines = db.session.execute(select(func.count()).select_from(PointsEntry)).scalar_one()
        ids = {"manager": manager_id, "supervisor": sups[0], "rep": reps[0][0]}
    print(f"  {REPS:,} reps, {lines:,} ledger lines over {DAYS} days (company in {company_s:.1f} s, "
          f"ledger in {ledger_s:.1f} s)")
    return ids, lines


def measure(name: str, url: str) -> bool:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SERVER_NAME": None,
                      "LOGIN_RATE_LIMIT": "100000 per minute"})
    print(f"\n{name}:")
    ids, _lines = build(app)

    def client_for(user_id):
        return signed_in(app, user_id)

    manager, supervisor, rep = (client_for(ids[k]) for k in ("manager", "supervisor", "rep"))
    pages = [("leaderboard week (a supervisor's team)", supervisor, "/incentives/leaderboard?period=week"),
             ("leaderboard month (a supervisor's team)", supervisor, "/incentives/leaderboard?period=month"),
             ("leaderboard week (the country manager: 2,000 reps)", manager, "/incentives/leaderboard?period=week"),
             ("leaderboard month (the country manager: 2,000 reps)", manager,
              "/incentives/leaderboard?period=month"),
             ("leaderboard week (a rep)", rep, "/incentives/leaderboard?period=week"),
             ("rep's home with the points card (GET /)", rep, "/"),
             ("rep's points page (GET /incentives)", rep, "/incentives")]
    return time_pages(pages, RUNS, WARMUP, BUDGET_MS)


def main() -> int:
    return both_databases(measure, PG_URL)


if __name__ == "__main__":
    sys.exit(main())
