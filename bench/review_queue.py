"""Verification queue budget: a supervisor with 10 reps and 2,000 items waiting for review gets the
first page of GET /activities/queue in < 100 ms of server time on PostgreSQL (SQLite shown too).

Builds a throw-away database (a SQLite file, and PostgreSQL at BENCH_PG_URL, default database
field_bench_queue, dropped and made afresh): the supervisor's 10 reps with 20
stores each in the supervisor's district, every store in a running weekly activity for ten weeks,
two photos bound to every period (one in ten flagged, one in six with a checklist item left
unconfirmed) — 2,000 items waiting; and four other teams of the same size in other districts
whose evidence is half reviewed, so the tables hold five times the supervisor's share. Then
times the first page through the Flask test client (median of 30 after warm-up) with, as
yardsticks from the same run, GET /login (a trivial page) and a bare SELECT 1 through the app.

    .venv/bin/python bench/review_queue.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from decimal import Decimal  # noqa: E402

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, insert, select, text  # noqa: E402

from bench.benchkit import fresh_postgres, median_ms  # noqa: E402

from field import create_app  # noqa: E402
from field.core import company_today  # noqa: E402
from field.activities.models import Activity, ActivityStatus, ActivityStore, ActivityType, Evidence, \
    Review  # noqa: E402
from field.auth.models import Region, Role, User  # noqa: E402
from field.extensions import db  # noqa: E402
from field.photos.models import Photo  # noqa: E402
from field.stores.models import Store  # noqa: E402
from field.visits.builtin import ensure_builtin_types  # noqa: E402
from field.visits.models import StepKind, Visit, VisitStatus, VisitType  # noqa: E402

BUDGET_MS = 100.0
RUNS, WARMUP = 30, 5
TEAMS, REPS, STORES, WEEKS, PHOTOS = 5, 10, 20, 10, 2  # team 0 is the benchmarked supervisor's
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_bench_queue")
CHECKLIST = ["堆头已搭好", "价签可见"]


def _team(n: int, region: Region) -> tuple[User, list[User]]:
    supervisor = User(login=f"sup{n}", name=f"主管{n}", role=Role.SUPERVISOR, password_hash="x", regions=[region])
    db.session.add(supervisor)
    db.session.flush()
    reps = [User(login=f"rep{n}-{i}", name=f"业务员{n}-{i}", role=Role.REP, supervisor=supervisor, regions=[region],
                 password_hash="x") for i in range(REPS)]
    db.session.add_all(reps)
    db.session.flush()
    return supervisor, reps


def _stores(reps: list[User], region: Region, team: int, rnd: random.Random) -> list[int]:
    rows = [{"code": f"T{team}-{rep.id}-{i}", "name": f"门店 {team}-{rep.id}-{i}", "address": "上海市某路",
             "lat": 31.2 + rnd.random() / 10, "lng": 121.4 + rnd.random() / 10, "datum": "wgs84", "geofence_m": 200,
             "tier": "B", "channel": "convenience", "dealer": "", "owner_rep_id": rep.id, "region_id": region.id,
             "active": True, "created_at": datetime.now(timezone.utc)} for rep in reps for i in range(STORES)]
    db.session.execute(insert(Store), rows)
    return list(db.session.execute(select(Store.id, Store.owner_rep_id).where(Store.code.like(f"T{team}-%"))))


def _evidence(team_stores, activity: Activity, vt: VisitType, step_id: int, first_day, reviewed_share: float,
              reviewer: User, rnd: random.Random, seq: list[int]) -> None:
    """Per store and week: a visit, PHOTOS photos bound to that week; reviewed_share of the weeks reviewed."""
    db.session.execute(insert(ActivityStore), [{"activity_id": activity.id, "store_id": sid, "budget": 100_000}
                                               for sid, _rep in team_stores])
    lines = dict(db.session.execute(select(ActivityStore.store_id, ActivityStore.id)
                                    .where(ActivityStore.activity_id == activity.id)).all())
    visits, photos, bound, reviews = [], [], [], []
    for sid, rep_id in team_stores:
        for week in range(WEEKS):
            # Within the week, and never after today in the week that runs now.
            at = datetime(first_day.year, first_day.month, first_day.day, 2, tzinfo=timezone.utc) + timedelta(
                days=7 * week + rnd.randrange(3 if week == WEEKS - 1 else 6), minutes=rnd.randrange(600))
            visits.append({"rep_id": rep_id, "store_id": sid, "visit_type_id": vt.id, "planned_for": at.date(),
                           "status": VisitStatus.COMPLETED, "checkin_at": at, "checkout_at": at + timedelta(minutes=20),
                           "flags": [], "checkin_reason": "", "checkout_reason": "", "cancel_reason": "",
                           "created_at": at})
    db.session.execute(insert(Visit), visits)
    made = db.session.execute(select(Visit.id, Visit.store_id, Visit.rep_id, Visit.checkin_at)
                              .where(Visit.store_id.in_([s for s, _r in team_stores])).order_by(Visit.id)).all()
    weeks_seen: dict[int, int] = {}
    for visit_id, sid, rep_id, at in made:
        week = weeks_seen[sid] = weeks_seen.get(sid, -1) + 1
        flagged = rnd.random() < 0.1
        for k in range(PHOTOS):
            seq[0] += 1
            n = seq[0]
            photos.append({"client_id": f"00000000-0000-4000-8000-{n:012d}", "visit_id": visit_id, "step_id": step_id,
                           "rep_id": rep_id, "store_id": sid, "source": "camera", "sha256": f"{n:064x}", "phash": n,
                           "band0": 0, "band1": 0, "band2": n >> 16 & 0xFFFF, "band3": n & 0xFFFF,
                           "content_type": "image/jpeg", "width": 2048, "height": 1536, "bytes": 400_000,
                           "original_key": f"o/{n}", "display_key": f"d/{n}", "thumb_key": f"t/{n}",
                           "flags": [{"code": "near_reuse", "photo_ids": [n - 1], "bits": 4}] if flagged and k == 0
                           else [], "void_reason": "", "created_at": at + timedelta(minutes=5 + k)})
        unticked = rnd.random() < 1 / 6
        bound.append((lines[sid], week, unticked, at, rep_id))
    db.session.execute(insert(Photo), photos)
    photo_ids = db.session.execute(select(Photo.id).where(Photo.client_id.in_([p["client_id"] for p in photos]))
                                   .order_by(Photo.id)).scalars().all()
    rows = []
    for i, (line_id, week, unticked, at, rep_id) in enumerate(bound):
        answers = {CHECKLIST[0]: True, CHECKLIST[1]: not unticked}
        for k in range(PHOTOS):
            rows.append({"photo_id": photo_ids[i * PHOTOS + k], "activity_store_id": line_id, "period_index": week,
                         "checklist": answers, "unconfirmed": int(unticked), "created_by_id": rep_id,
                         "created_at": at + timedelta(minutes=6 + k)})
    db.session.execute(insert(Evidence), rows)
    newest = dict(((a, p), i) for i, a, p in db.session.execute(
        select(Evidence.id, Evidence.activity_store_id, Evidence.period_index)
        .where(Evidence.activity_store_id.in_(list(lines.values()))).order_by(Evidence.id)))
    for (line_id, week), upto in newest.items():
        if rnd.random() < reviewed_share:
            reviews.append({"activity_store_id": line_id, "period_index": week, "verdict": "approved", "reason": "",
                            "note": "", "reviewer_id": reviewer.id, "previous_id": 0, "evidence_upto": upto,
                            "created_at": datetime.now(timezone.utc)})
    if reviews:
        db.session.execute(insert(Review), reviews)


def build(app) -> int:
    """Fill the database; the benchmarked supervisor's id."""
    rnd = random.Random(20261123)
    with app.app_context():
        upgrade()
        ensure_builtin_types()
        vt = db.session.execute(select(VisitType).where(VisitType.code == "promotion")).scalar_one()
        step_id = next(s.id for s in vt.steps if s.kind == StepKind.PHOTO)
        city = Region(code="SH", name="上海")
        db.session.add(city)
        db.session.flush()
        city.set_parent(None)
        kind = ActivityType(name="堆头租赁", name_en="End-cap rental", check_period="weekly", photos_per_period=PHOTOS,
                            checklist=CHECKLIST, compliance_floor_pct=Decimal("60"), margin_pct=Decimal("30"))
        db.session.add(kind)
        db.session.flush()
        today = company_today()
        first_day = today - timedelta(days=7 * (WEEKS - 1) + 3)  # the tenth week runs today
        seq, benched = [0], None
        for team in range(TEAMS):
            region = Region(code=f"SH-{team}", name=f"上海 {team} 区")
            db.session.add(region)
            db.session.flush()
            region.set_parent(city)
            supervisor, reps = _team(team, region)
            activity = Activity(title=f"春季堆头 {team}", type_id=kind.id, applicant_id=reps[0].id,
                                status=ActivityStatus.RUNNING, period_start=first_day,
                                period_end=first_day + timedelta(days=7 * WEEKS + 13), budget_total=0,
                                margin_pct=Decimal("30"), notes="")
            db.session.add(activity)
            db.session.flush()
            stores = _stores(reps, region, team, rnd)
            _evidence(stores, activity, vt, step_id, first_day, 0.0 if team == 0 else 0.5, supervisor, rnd, seq)
            db.session.commit()
            benched = benched or supervisor.id
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        return benched




def measure(name: str, url: str, budgeted: bool) -> bool:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SERVER_NAME": None,
                      "LOGIN_RATE_LIMIT": "100000 per minute"})
    supervisor_id = build(app)
    client, anonymous = app.test_client(), app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(supervisor_id)
        sess["_fresh"] = True

    def first_page():
        response = client.get("/activities/queue")
        assert response.status_code == 200, response.status_code

    def login_page():
        assert anonymous.get("/login").status_code == 200

    with app.app_context():
        queries = []

        def count(*_args):
            queries.append(1)
        event.listen(db.engine, "before_cursor_execute", count)
        page = client.get("/activities/queue").get_data(as_text=True)
        event.remove(db.engine, "before_cursor_execute", count)
        per_request = len(queries)
        waiting = page.split('data-count="', 1)[1].split('"', 1)[0]
        shown, photos = page.count('class="card queue-item'), page.count('class="queue-photo')
        evidence_rows = db.session.execute(select(Evidence.id).order_by(Evidence.id.desc()).limit(1)).scalar_one()

        def select_one():
            db.session.execute(text("SELECT 1")).scalar_one()
            db.session.rollback()
        select_ms, _, _ = median_ms(select_one, RUNS, WARMUP)

    queue_ms, queue_max, queue_cpu = median_ms(first_page, RUNS, WARMUP)
    login_ms, _, _ = median_ms(login_page, RUNS, WARMUP)
    ok = queue_ms < BUDGET_MS or not budgeted
    print(f"GET /activities/queue, {name}: a supervisor with {REPS} reps, {waiting} items waiting "
          f"({evidence_rows} evidence rows in {TEAMS} teams); first page {shown} items, {photos} photos; "
          f"{per_request} queries")
    print(f"  median {queue_ms:.1f} ms (budget {BUDGET_MS:.0f} ms{'' if budgeted else ', PostgreSQL only'})"
          f"{'' if ok else '  OVER BUDGET'}   max {queue_max:.1f} ms   app CPU {queue_cpu:.1f} ms")
    print(f"  yardstick: GET /login {login_ms:.1f} ms (ratio {queue_ms / login_ms:.1f}x); "
          f"SELECT 1 through the app {select_ms:.2f} ms")
    return ok




def main() -> int:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite'}", budgeted=False))
    if fresh_postgres(PG_URL):
        results.append(measure("PostgreSQL", PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                               budgeted=True))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
