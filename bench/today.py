"""Today budget: a rep with 300 stores in scope gets GET /today in < 50 ms of server time,
on SQLite and on PostgreSQL.

Builds a throw-away database (a SQLite file, and PostgreSQL database field_bench_today when the
server at BENCH_PG_URL answers), with the rep's 300 stores, eight weeks of history walked the way
a rep walks it (the most urgent stores first, eight a working day), today's plan, open follow-ups,
two visits already done today, this month's target for each rep with a sale a store a day (the Today
card), a running promotion at 24 of the rep's stores (evidence at half of
them this week, some reviewed) and an ended one, and twenty other reps with the same so the tables
are not small.
Then times GET /today through the Flask test client (median of 30 after warm-up) and, as
yardsticks from the same run, GET /login (a trivial page) and a bare SELECT 1 through the app.

    .venv/bin/python bench/today.py
"""
import os
import random
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, insert, select, text  # noqa: E402

from bench.benchkit import fresh_postgres, median_ms  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from field import create_app  # noqa: E402
from field.activities.models import Activity, ActivityStore, ActivityType, Evidence, Review  # noqa: E402
from field.auth.models import Region, Role, User  # noqa: E402
from field.extensions import db  # noqa: E402
from field.sales.models import Sale  # noqa: E402
from field.stores.models import TIER_FREQUENCY_DAYS, Store  # noqa: E402
from field.targets.models import Target  # noqa: E402
from field.visits.builtin import ensure_builtin_types  # noqa: E402
from field.visits.models import FollowUp, Visit, VisitStatus, VisitType  # noqa: E402
from field.visits.planning import local_today  # noqa: E402

BUDGET_MS = 50.0
RUNS, WARMUP = 30, 5
STORES, OTHER_REPS, WEEKS, PER_DAY = 300, 20, 8, 8
PROMOTED = 24  # of each rep's stores in the running promotion
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_bench_today")
SHANGHAI = (31.10, 31.35, 121.35, 121.60)


def _stores_for(rep_id: int, region_id: int, rnd: random.Random, offset: int) -> list[dict]:
    lat0, lat1, lng0, lng1 = SHANGHAI
    return [{"code": f"B{offset + i:06d}", "name": f"门店 {offset + i}", "address": f"上海市某路{i}号",
             "lat": rnd.uniform(lat0, lat1), "lng": rnd.uniform(lng0, lng1), "datum": "wgs84", "geofence_m": 200,
             "tier": rnd.choices("ABCD", weights=(10, 20, 40, 30))[0], "channel": "convenience", "dealer": "",
             "owner_rep_id": rep_id, "region_id": region_id, "active": True,
             "created_at": datetime.now(timezone.utc)} for i in range(STORES)]


def _history(rep_id: int, stores: list[tuple[int, str]], type_id: int, today, rnd: random.Random) -> list[dict]:
    """Eight weeks walked greedily: each working day the rep visits the PER_DAY most overdue stores."""
    last: dict[int, object] = {sid: None for sid, _tier in stores}
    tiers = dict(stores)
    rows = []
    for back in range(WEEKS * 7, 0, -1):
        day = today - timedelta(days=back)
        if day.weekday() == 6:
            continue

        def lateness(sid):
            seen = last[sid]
            return 10_000 if seen is None else (day - seen).days - TIER_FREQUENCY_DAYS[tiers[sid]]
        for n, sid in enumerate(sorted(last, key=lateness, reverse=True)[:PER_DAY]):
            start = datetime(day.year, day.month, day.day, 1 + n, rnd.randint(0, 40), tzinfo=timezone.utc)
            rows.append({"rep_id": rep_id, "store_id": sid, "visit_type_id": type_id, "planned_for": day,
                         "status": VisitStatus.COMPLETED, "checkin_at": start,
                         "checkout_at": start + timedelta(minutes=rnd.randint(10, 40)), "flags": [],
                         "checkin_reason": "", "checkout_reason": "", "cancel_reason": "", "created_at": start})
            last[sid] = day
    return rows


def _promotions(supervisor: User, reps: list[User], today, rnd: random.Random) -> None:
    """A weekly-checked end-cap promotion running since two weeks ago at PROMOTED stores of every rep,
    with checklist evidence this week at half of the first rep's (some approved, some rejected); and
    one that ended last month at as many stores, which Today must pass over."""
    kind = ActivityType(name="端架陈列", name_en="End-cap display", check_period="weekly", photos_per_period=1,
                        checklist=["价签清楚", "堆头满"])
    running = Activity(title="春季端架", type=kind, applicant_id=supervisor.id, status="running",
                       period_start=today - timedelta(days=14), period_end=today + timedelta(days=30))
    ended = Activity(title="冬季端架", type=kind, applicant_id=supervisor.id, status="ended",
                     period_start=today - timedelta(days=90), period_end=today - timedelta(days=30))
    db.session.add_all([kind, running, ended])
    db.session.flush()
    this_week = 2  # the third weekly period of `running`
    for n, rep in enumerate(reps):
        ids = sorted(db.session.execute(select(Store.id).where(Store.owner_rep_id == rep.id)).scalars())
        chosen = rnd.sample(ids, PROMOTED * 2)
        rows = [ActivityStore(activity=running, store_id=sid, budget=50_000) for sid in chosen[:PROMOTED]]
        db.session.add_all(rows + [ActivityStore(activity=ended, store_id=sid, budget=50_000)
                                   for sid in chosen[PROMOTED:]])
        if n:
            continue
        db.session.flush()
        for k, row in enumerate(rows[:PROMOTED // 2]):
            evidence = Evidence(activity_store_id=row.id, period_index=this_week, created_by_id=rep.id,
                                checklist={"价签清楚": True, "堆头满": k % 3 != 0}, unconfirmed=int(k % 3 == 0))
            db.session.add(evidence)
            db.session.flush()
            if k % 4 == 0:
                db.session.add(Review(activity_store_id=row.id, period_index=this_week, reviewer_id=supervisor.id,
                                      verdict="approved" if k % 8 == 0 else "rejected", reason="",
                                      evidence_upto=evidence.id))


def _targets(region, reps, today, rnd: random.Random) -> None:
    """This month's target for the region and each rep (Today's card), and a sale a store a day this month
    for every rep's stores (the sum the card reads)."""
    month = today.replace(day=1)
    top = Target(month=month, level="region", subject_id=region.id, region_id=region.id, amount=10**9, basis="manual")
    db.session.add(top)
    db.session.flush()
    for rep in reps:
        db.session.add(Target(month=month, level="rep", subject_id=rep.id, region_id=region.id, rep_id=rep.id,
                              parent_id=top.id, amount=10**9 // len(reps), basis="manual"))
        ids = [sid for sid, in db.session.execute(select(Store.id).where(Store.owner_rep_id == rep.id))]
        db.session.execute(insert(Sale), [
            {"store_id": sid, "sold_on": month + timedelta(days=d), "amount": rnd.randint(1_000, 90_000),
             "quantity": 1, "category": "", "source": "import", "source_key": f"b{sid}-{d}",
             "created_at": datetime.now(timezone.utc)}
            for sid in ids for d in range(today.day)])


def build(app) -> int:
    """Fill the database; the benchmarked rep's id."""
    rnd = random.Random(20240601)
    with app.app_context():
        upgrade()
        ensure_builtin_types()
        region = Region(code="SH", name="上海")
        db.session.add(region)
        db.session.flush()
        region.set_parent(None)
        supervisor = User(login="sup", name="主管", role=Role.SUPERVISOR, password_hash="x", regions=[region])
        db.session.add(supervisor)
        db.session.flush()
        reps = [User(login=f"rep{i}", name=f"业务员{i}", role=Role.REP, supervisor=supervisor, regions=[region],
                     password_hash=generate_password_hash("x", method="pbkdf2:sha256:1"))
                for i in range(OTHER_REPS + 1)]
        db.session.add_all(reps)
        db.session.commit()
        routine = db.session.execute(select(VisitType).where(VisitType.code == "routine")).scalar_one()
        today = local_today(reps[0])
        for n, rep in enumerate(reps):
            db.session.execute(insert(Store), _stores_for(rep.id, region.id, rnd, n * STORES))
            stores = db.session.execute(select(Store.id, Store.tier).where(Store.owner_rep_id == rep.id)).all()
            db.session.execute(insert(Visit), _history(rep.id, [tuple(s) for s in stores], routine.id, today, rnd))
        db.session.commit()

        rep = reps[0]
        ids = [sid for sid, in db.session.execute(select(Store.id).where(Store.owner_rep_id == rep.id))]
        for sid in rnd.sample(ids, 6):  # today's plan
            db.session.add(Visit(rep_id=rep.id, store_id=sid, visit_type_id=routine.id, planned_for=today,
                                 planned_by_id=supervisor.id, status=VisitStatus.PLANNED, flags=[]))
        for sid in rnd.sample(ids, 30):  # open follow-ups, some due, some not yet, some undated
            due = rnd.choice([None, today - timedelta(days=3), today, today + timedelta(days=10)])
            db.session.add(FollowUp(store_id=sid, text="补货", owner_id=rep.id, due_on=due, status="open",
                                    created_by_id=rep.id))
        _promotions(supervisor, reps, today, rnd)
        _targets(region, reps, today, rnd)
        now = datetime.now(timezone.utc)
        for n, sid in enumerate(rnd.sample(ids, 2)):  # done earlier today
            db.session.add(Visit(rep_id=rep.id, store_id=sid, visit_type_id=routine.id, planned_for=today,
                                 status=VisitStatus.COMPLETED, flags=[], checkin_at=now - timedelta(hours=3 - n),
                                 checkout_at=now - timedelta(hours=2.5 - n)))
        db.session.commit()
        # A database in service has its planner statistics; a bulk load has none until analysed.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        return rep.id




def measure(name: str, url: str) -> bool:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SERVER_NAME": None,
                      "LOGIN_RATE_LIMIT": "100000 per minute"})
    rep_id = build(app)
    client, anonymous = app.test_client(), app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(rep_id)
        sess["_fresh"] = True
    here = "lat=31.2304&lng=121.4737&acc=15"

    def today():
        response = client.get(f"/today?{here}")
        assert response.status_code == 200, response.status_code

    def login_page():
        assert anonymous.get("/login").status_code == 200

    with app.app_context():
        queries = []

        def count(*_args):
            queries.append(1)
        event.listen(db.engine, "before_cursor_execute", count)
        page = client.get(f"/today?{here}").get_data(as_text=True)
        event.remove(db.engine, "before_cursor_execute", count)
        per_request = len(queries)
        routed, also = page.count('class="card stop'), page.count('<a class="list-item" href="/stores/')

        def select_one():
            db.session.execute(text("SELECT 1")).scalar_one()
            db.session.rollback()
        select_ms, _, _ = median_ms(select_one, RUNS, WARMUP)

    today_ms, today_max, today_cpu = median_ms(today, RUNS, WARMUP)
    login_ms, _, _ = median_ms(login_page, RUNS, WARMUP)
    ok = today_ms < BUDGET_MS
    print(f"GET /today, {name}: a rep with {STORES} stores, {WEEKS} weeks of history; "
          f"{routed} stops routed, {also} also due; {per_request} queries")
    print(f"  median {today_ms:.1f} ms (budget {BUDGET_MS:.0f} ms){'' if ok else '  OVER BUDGET'}   "
          f"max {today_max:.1f} ms   app CPU {today_cpu:.1f} ms")
    print(f"  yardstick: GET /login {login_ms:.1f} ms (ratio {today_ms / login_ms:.1f}x); "
          f"SELECT 1 through the app {select_ms:.2f} ms")
    return ok




def main() -> int:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite'}"))
    if fresh_postgres(PG_URL):
        results.append(measure("PostgreSQL", PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
