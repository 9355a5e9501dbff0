"""Visit page budget: GET /visits/<id> costs no more server time than GET /today (the rep's day,
whose budget is 50 ms) measured in the same run, on SQLite and on PostgreSQL (`BENCH_PG_URL`); its
query count, printed here, is pinned by tests/web/test_visit_cost.py.

The database is bench/today.py's (a rep with 300 stores, eight weeks of history, twenty other
reps, a running promotion), with a catalogue of 40 products and three pages:
  - the rep's visit in progress (routine type): checked in, the checklist, stock count and order
    saved, 4 photos on the photo step (one voided), three objectives, a follow-up added;
  - the rep's completed promotion visit at a store of the running promotion, the type grown to
    twelve steps (three of them photo steps, 3 photos each, bound as the activity's evidence), every
    step done, nine objectives (six from earlier follow-ups of three people), four follow-ups, a
    co-visit scored by the supervisor;
  - the same completed visit as the rep's supervisor sees it.
Times each page through the Flask test client with its query count, and GET /today for the same
rep as the yardstick: the two asked in turn, 40 times after warm-up, so that a busy machine slows
both alike; the ratio is the median of the 40 visit / today pairs.

    .venv/bin/python bench/visit_page.py
"""
import os
import statistics
import sys
import time
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select  # noqa: E402
from werkzeug.datastructures import MultiDict  # noqa: E402

from bench.benchkit import fresh_postgres  # noqa: E402
from bench.today import WARMUP, build  # noqa: E402
from field import create_app  # noqa: E402
from field.activities.models import Activity, ActivityStore, Evidence  # noqa: E402
from field.auth.models import User  # noqa: E402
from field.core import now  # noqa: E402
from field.extensions import db  # noqa: E402
from field.photos.models import Photo  # noqa: E402
from field.products.models import Product  # noqa: E402
from field.stores.models import Store  # noqa: E402
from field.visits.models import (CoVisit, FollowUp, Objective, StepKind, StepResult, Visit, VisitStatus,  # noqa: E402
                                 VisitStep, VisitType)
from field.visits.steps import parse  # noqa: E402

MAX_RATIO = 1.0    # no slower than GET /today in the same run (whose own budget is 50 ms)
PRODUCTS = 40
RUNS = 40
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_bench_visit_page")

_n = iter(range(10**6))


def _photo(visit: Visit, step_id: int, voided: bool = False) -> Photo:
    n = next(_n)
    photo = Photo(client_id=str(uuid.uuid4()), visit_id=visit.id, step_id=step_id, rep_id=visit.rep_id,
                  store_id=visit.store_id, source="camera", sha256=f"{n:064x}", content_type="image/jpeg",
                  width=1600, height=1200, bytes=300_000, original_key=f"o/{n}.jpg", display_key=f"d/{n}.jpg",
                  thumb_key=f"t/{n}.jpg", flags=[{"code": "album"}] if n % 3 == 0 else [],
                  voided_at=now() if voided else None, void_reason="blurry" if voided else "")
    photo.set_phash(n * 7919)
    db.session.add(photo)
    return photo


def _value(step, products: dict) -> dict:
    """A plausible saved value of `step`, through the step rules (as the page would save it)."""
    skus = sorted(products)[:6]
    form = {
        StepKind.CHECKLIST: MultiDict([(f"item-{i}", "pass" if i % 3 else "fail")
                                       for i in range(len(step.config.get("items", [])))]),
        StepKind.STOCK_COUNT: MultiDict([("sku", s) for s in skus] + [(f"shelf-{s}", "5") for s in skus]
                                        + [(f"back-{s}", "12") for s in skus]),
        StepKind.ORDER_LINES: MultiDict([("sku", s) for s in skus[:4]] + [("quantity", "6")] * 4),
        StepKind.NUMBER: MultiDict({"value": "42"}),
        StepKind.TEXT: MultiDict({"text": "竞品在做买二送一，端架被占了一半。"}),
        StepKind.CHOICE: MultiDict({"choice": (step.config.get("choices") or [""])[0]}),
        StepKind.SHELF_SHARE: MultiDict({"ours": "6", "total": "20"}),
        StepKind.SIGNATURE: MultiDict({"signer": "王店长"}),
    }[step.kind]
    return parse(step, form, products)


# Steps added to the promotion type, which then has twelve, three of them photo steps.
MORE_STEPS = [(StepKind.PHOTO, "堆头照片", {"min_photos": 2}), (StepKind.SHELF_SHARE, "排面占比", {}),
              (StepKind.CHOICE, "陈列评级", {"choices": ["优", "良", "差"]}),
              (StepKind.CHECKLIST, "物料检查", {"items": ["海报", "价签", "地贴"]}), (StepKind.NUMBER, "试吃人数", {}),
              (StepKind.PHOTO, "价签照片", {"min_photos": 1}), (StepKind.TEXT, "店主反馈", {}),
              (StepKind.SIGNATURE, "店主签字", {})]


def add_visits(rep_id: int) -> tuple[int, int, int]:
    """The rep's visit in progress, a completed one, and the supervisor's id."""
    rep = db.session.get(User, rep_id)
    supervisor = db.session.execute(select(User).where(User.login == "sup")).scalar_one()
    teammate = db.session.execute(select(User).where(User.login == "rep1")).scalar_one()
    db.session.add_all([Product(sku=f"P{i:03d}", name=f"产品 {i}", category=("饮料", "零食", "日化")[i % 3],
                                unit_price=250 + 10 * i) for i in range(PRODUCTS)])
    db.session.flush()
    products = {p.sku: p for p in db.session.execute(select(Product)).scalars()}
    types = {t.code: t for t in db.session.execute(select(VisitType)).scalars()}
    for n, (kind, title, config) in enumerate(MORE_STEPS, start=10):
        db.session.add(VisitStep(visit_type_id=types["promotion"].id, position=n, kind=kind, title=title,
                                 title_en=title, config=config))
    db.session.flush()
    db.session.expire(types["promotion"])
    promoted = db.session.execute(
        select(ActivityStore).join(Activity).join(Store, Store.id == ActivityStore.store_id)
        .where(Activity.status == "running", Store.owner_rep_id == rep_id).order_by(ActivityStore.id)).scalars().first()
    other = db.session.execute(select(Store.id).where(Store.owner_rep_id == rep_id, Store.id != promoted.store_id)
                               .order_by(Store.id)).scalars().first()
    start = now() - timedelta(minutes=25)

    busy = Visit(rep_id=rep_id, store_id=other, visit_type=types["routine"], planned_for=start.date(),
                 status=VisitStatus.IN_PROGRESS, checkin_at=start, checkin_lat=31.23, checkin_lng=121.47,
                 checkin_accuracy_m=12, checkin_distance_m=35, flags=[])
    done = Visit(rep_id=rep_id, store_id=promoted.store_id, visit_type=types["promotion"], planned_for=start.date(),
                 status=VisitStatus.COMPLETED, checkin_at=start - timedelta(hours=2),
                 checkout_at=start - timedelta(hours=1, minutes=35), checkin_distance_m=20, flags=[])
    db.session.add_all([busy, done])
    db.session.flush()
    for visit in (busy, done):
        for goal in visit.visit_type.goals:
            db.session.add(Objective(visit_id=visit.id, source="goal", text=goal, met=True if visit is done else None))
        fu = FollowUp(store_id=visit.store_id, text="补货：主推产品断货", owner_id=rep_id, created_by_id=rep_id,
                      status="open", due_on=start.date() + timedelta(days=3), visit_id=visit.id)
        db.session.add(fu)
        db.session.flush()
        db.session.add(Objective(visit_id=visit.id, source="follow_up", text=fu.text, follow_up_id=fu.id))
        if visit is done:  # objectives from six earlier follow-ups of three people, and three follow-ups more
            for n, owner in enumerate([rep, teammate, supervisor] * 2):
                earlier = FollowUp(store_id=visit.store_id, text=f"跟进 {n}：核对陈列", owner_id=owner.id,
                                   created_by_id=supervisor.id, status="done", due_on=start.date())
                db.session.add(earlier)
                db.session.flush()
                db.session.add(Objective(visit_id=visit.id, source="follow_up", text=earlier.text,
                                         follow_up_id=earlier.id, met=n % 2 == 0))
                if n < 3:
                    db.session.add(FollowUp(store_id=visit.store_id, text=f"下次：补物料 {n}", owner_id=owner.id,
                                            created_by_id=rep_id, status="open", visit_id=visit.id))
        for step in visit.visit_type.steps:
            if step.kind == StepKind.PHOTO:
                for k in range(4 if visit is busy else 3):
                    _photo(visit, step.id, voided=visit is busy and k == 0)
            elif visit is done or step.kind != StepKind.TEXT:
                db.session.add(StepResult(visit_id=visit.id, step_id=step.id, status="done",
                                          value=_value(step, products)))
    db.session.flush()
    period = 2  # the running promotion's third weekly period (bench/today.py)
    for photo in db.session.execute(select(Photo).where(Photo.visit_id == done.id)).scalars():
        db.session.add(Evidence(activity_store_id=promoted.id, period_index=period, photo_id=photo.id,
                                checklist={"价签清楚": True, "堆头满": True}, created_by_id=rep_id))
    db.session.add(CoVisit(visit_id=done.id, supervisor_id=supervisor.id, scores={"拜访准备": 8, "陈列执行": 9},
                           total=17, max_total=20, comment="陈列不错", rep_comment="谢谢"))
    db.session.commit()
    assert rep.id == rep_id
    return busy.id, done.id, supervisor.id


def paired(page, yardstick, runs: int = RUNS, warmup: int = WARMUP) -> dict:
    """`page` and `yardstick` called in turn: the median wall and CPU time (ms) of each, the worst of
    `page`, and the median of the per-pair ratios page / yardstick (wall and CPU)."""
    for _ in range(warmup):
        page(), yardstick()
    rows = []
    for _ in range(runs):
        row = []
        for fn in (page, yardstick):
            t, c = time.perf_counter(), time.process_time()
            fn()
            row += [(time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000]
        rows.append(row)
    med = [statistics.median(r[i] for r in rows) for i in range(4)]
    return {"ms": med[0], "cpu": med[1], "max": max(r[0] for r in rows), "y_ms": med[2], "y_cpu": med[3],
            "ratio": statistics.median(r[0] / r[2] for r in rows),
            "cpu_ratio": statistics.median(r[1] / r[3] for r in rows)}


def measure(name: str, url: str) -> bool:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SERVER_NAME": None,
                      "LOGIN_RATE_LIMIT": "100000 per minute"})
    rep_id = build(app)
    with app.app_context():
        busy_id, done_id, sup_id = add_visits(rep_id)

    def client_of(user_id: int):
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user_id)
            sess["_fresh"] = True
        return client
    rep, sup = client_of(rep_id), client_of(sup_id)
    here = "lat=31.2304&lng=121.4737&acc=15"

    def getter(client, path):
        def get():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        return get

    def queries_of(client, path) -> int:
        with app.app_context():
            seen = []

            def count(*_args):
                seen.append(1)
            event.listen(db.engine, "before_cursor_execute", count)
            try:
                assert client.get(path).status_code == 200
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    today = getter(rep, f"/today?{here}")
    print(f"GET /visits/<id>, {name}: a rep with 300 stores (bench/today.py's data), {PRODUCTS} products; "
          f"yardstick GET /today, {queries_of(rep, f'/today?{here}')} queries")
    ok = True
    pages = (("rep, visit in progress (routine, 4 photos)", rep, busy_id),
             ("rep, completed visit (promotion: 12 steps, 9 photos as evidence, 9 objectives)", rep, done_id),
             ("supervisor, the rep's completed visit", sup, done_id))
    for label, client, visit_id in pages:
        path = f"/visits/{visit_id}"
        m = paired(getter(client, path), today)
        fine = m["ratio"] <= MAX_RATIO
        ok &= fine
        print(f"  {label}: {queries_of(client, path)} queries")
        print(f"    median {m['ms']:.1f} ms   max {m['max']:.1f} ms   app CPU {m['cpu']:.1f} ms   "
              f"(GET /today in turn: median {m['y_ms']:.1f} ms, app CPU {m['y_cpu']:.1f} ms)")
        print(f"    ratio {m['ratio']:.2f}x GET /today (budget ≤ {MAX_RATIO:.1f}x){'' if fine else '  OVER BUDGET'}; "
              f"app CPU {m['cpu_ratio']:.2f}x")
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
