"""Faults: the app under gunicorn (2 workers) when a worker dies mid-upload and when the database drops
its connections mid-load.

Budget: (a) after a worker is killed (SIGKILL) while photos are being uploaded, and every upload sent
again with its client id (as the phone's outbox does): exactly one photo row per client id, no photo
row without its three files; the files no row refers to (a killed attempt's, which the worker wrote
before its row could commit) are reported, and `flask photos-sweep` must find exactly those once they
are older than its limit. (b) while reps do whole visits, pg_terminate_backend on every connection to
the app's database, again and again: the app recovers without a restart (the same worker processes
answer afterwards), every failed request is a 5xx or a dropped connection that the outbox sends again
(never a 4xx), and every visit ends completed, none left in progress to refuse the rep's next check-in.

    .venv/bin/python bench/faults.py                       # both, on PostgreSQL (BENCH_PG_URL)
    .venv/bin/python bench/faults.py --only kill --kills 6 --reps 12
    .venv/bin/python bench/faults.py --only drop --reps 30

(a) runs on PostgreSQL, or on SQLite when no PostgreSQL server answers; (b) needs PostgreSQL.
Databases and servers are made as bench/load.py makes them and dropped at the end."""
from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import (BARE, PG_URL, Call, Failed, Phone, check_database, make_site, photo, plan_reps,  # noqa: E402
                        print_figures, run_reps, sqlalchemy_url)

UPLOAD = "POST /visits/<id>/steps/<id>/photos"


def _try(fn, *args):
    try:
        fn(*args)
    except Failed:
        pass  # counted in the phone's log


def wait_for_workers(site, count: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = site.workers()
        if len(pids) == count:
            try:
                import requests
                if requests.get(site.base + "/login", timeout=10).status_code == 200:
                    return pids
            except Exception:  # noqa: BLE001 — a worker still booting
                pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not get back to {count} workers")


def stored_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def row_keys(site) -> tuple[set[str], Counter]:
    """The storage keys photo rows refer to, and the number of rows per client id."""
    from sqlalchemy import select

    from field.extensions import db
    from field.photos.models import Photo
    with site.app.app_context():
        rows = db.session.execute(select(Photo.client_id, Photo.original_key, Photo.display_key,
                                         Photo.thumb_key)).all()
        db.session.rollback()
    return {k for r in rows for k in r[1:]}, Counter(r[0] for r in rows)


def by_top(keys) -> str:
    tops = Counter(k.split("/", 1)[0] for k in keys)
    return ", ".join(f"{n} {top}" for top, n in sorted(tops.items())) or "none"


# --- (a) a worker killed mid-upload ----------------------------------------------------------------------

def kill_mid_upload(site, reps: int, kills: int, per_rep: int, workers: int) -> bool:
    print(f"(a) worker killed mid-upload, {site.kind}: {reps} reps in a visit, {kills} rounds of "
          f"{reps * per_rep} uploads at once, one worker SIGKILLed in each")
    try:
        plans = plan_reps(site, reps, 1)
        site.start(workers)
        visits = []
        log: list[Call] = []
        phones, places = [], []
        for n, plan in enumerate(plans):
            phone = Phone(site.base, plan.login, n, log)
            phone.sign_in()
            visit_id, lat, lng = plan.visits[0]
            page, here = phone.check_in(visit_id, lat, lng)
            phones.append(phone)
            places.append((page.upload_urls[0], here, lat, lng))
            visits.append((visit_id, page))
        sent: list[tuple[int, str, bytes]] = []  # (phone, client id, bytes): every upload, to send again
        outcome = Counter()
        killed = []
        for round_ in range(kills):
            before = site.workers()
            jobs = []
            for i, (phone, (url, here, lat, lng)) in enumerate(zip(phones, places)):
                for k in range(per_rep):
                    client_id = str(uuid.uuid4())
                    data = photo(10_000 * round_ + 100 * i + k, lat, lng)
                    sent.append((i, client_id, data))
                    jobs.append((phone, url, client_id, data, here))

            def send(job):
                phone, url, client_id, data, here = job
                try:
                    r = phone.upload(url, client_id, data, here, endpoint=UPLOAD)
                    outcome["stored (201)" if r.status_code == 201 else f"answered {r.status_code}"] += 1
                except Failed as exc:
                    outcome["dropped (connection reset)" if " 0 " in str(exc) else str(exc)] += 1

            threads = [threading.Thread(target=send, args=(j,)) for j in jobs]
            for t in threads:
                t.start()
            time.sleep(random.Random(round_).uniform(0.3, 1.2))  # mid-flight: uploads take 0.2–2 s each here
            victim = random.Random(round_).choice(before)
            os.kill(victim, signal.SIGKILL)  # a child of the gunicorn this bench started
            killed.append(victim)
            for t in threads:
                t.join()
            wait_for_workers(site, workers)
        print(f"  {len(killed)} workers killed; first sends: " + ", ".join(f"{n} {k}" for k, n in outcome.items()))

        # The outbox sends every photo again until the server has it (5xx and dropped: again).
        again = Counter()
        for i, client_id, data in sent:
            phone = phones[i]
            phone.retry = True
            url, here, _lat, _lng = places[i]
            r = phone.upload(url, client_id, data, here, endpoint="retry " + UPLOAD)
            again[{201: "stored now (201)", 200: "already stored (200)"}.get(r.status_code, str(r.status_code))] += 1
        print(f"  sent again with the same client ids: " + ", ".join(f"{n} {k}" for k, n in again.items()))
        for phone, (visit_id, page), (_url, here, _lat, _lng) in zip(phones, visits, places):
            phone.steps(page)
            phone.check_out(visit_id, page, here)  # the visits end, as the next part needs

        keys, per_client = row_keys(site)
        files = stored_files(site.upload_dir)
        wanted = [c for _i, c, _d in sent]
        not_one = [c for c in wanted if per_client.get(c, 0) != 1]
        orphans, missing = files - keys, keys - files
        print(f"  photo rows per client id: {len(wanted) - len(not_one)} of {len(wanted)} exactly one (budget: all)")
        print(f"  files {len(files)} (the demo's photos' too), referred to by rows {len(keys)}; "
              f"rows without a file {len(missing)} (budget 0); "
              f"files without a row {len(orphans)} ({by_top(orphans)})")

        # What the operator's sweep finds: nothing while the files are young, exactly the orphans once old.
        young = site.flask("photos-sweep", "--dry-run").strip().splitlines()[-1]
        print(f"  flask photos-sweep --dry-run now: {young}")
        aged = time.time() - 2 * 3600
        for f in files:
            os.utime(site.upload_dir / f, (aged, aged))
        found = site.flask("photos-sweep", "--dry-run").strip().splitlines()
        listed = {line.split()[1] for line in found[:-1] if line.startswith("remove ")}
        print(f"  the same with every file two hours old: {found[-1]} "
              f"({'exactly the orphans' if listed == orphans else 'NOT the orphans'})")
        done = site.flask("photos-sweep").strip().splitlines()[-1]
        after = stored_files(site.upload_dir)
        print(f"  flask photos-sweep: {done} Files left {len(after)}, all referred to: {after == keys}")
        for f in after:  # young again: (b)'s sweep count starts afresh
            os.utime(site.upload_dir / f)
        ok = not not_one and not missing and listed == orphans and after == keys
        logged = site.log_problems()
        print(f"  server log: {logged['Traceback']} tracebacks (a killed worker logs none; its requests are dropped)")
        print(f"  (a) {'ok' if ok else 'FAILED'}")
        return ok
    finally:
        site.stop()


# --- (b) database connections dropped mid-load ---------------------------------------------------------------

def drop_connections(site, reps: int, visits: int, every: float, workers: int) -> bool:
    if site.kind != "postgresql":
        print("(b) needs PostgreSQL: skipped")
        return True
    print(f"(b) database connections dropped mid-load, postgresql: {reps} reps × {visits} visits, "
          f"pg_terminate_backend on all the app's connections every {every:g} s")
    try:
        from sqlalchemy import create_engine, text
        plans = plan_reps(site, reps, visits)
        site.start(workers)
        before = sorted(site.workers())
        killer = create_engine(sqlalchemy_url(PG_URL), isolation_level="AUTOCOMMIT")

        def terminate_all() -> int:
            with killer.connect() as conn:
                return conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                         "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()

        # First with the server idle: every pooled connection is dead when the next requests come. Pre-ping
        # finds and replaces them, so none of those requests may fail.
        idle: list[Call] = []
        phone = Phone(site.base, plans[0].login, 900, idle)
        phone.sign_in()
        warm = [threading.Thread(target=phone.page, args=("GET /today", "/today")) for _ in range(8)]
        for t in warm:
            t.start()
        for t in warm:
            t.join()
        idle.clear()
        gone = terminate_all()
        asks = [threading.Thread(target=lambda: _try(phone.page, "GET /today", "/today")) for _ in range(8)]
        for t in asks:
            t.start()
        for t in asks:
            t.join()
        print(f"  idle: {gone} pooled connections terminated, then {len(idle)} requests: "
              f"{sum(not c.ok for c in idle)} failed (budget 0: pre-ping replaces them)")
        idle_failed = sum(not c.ok for c in idle)
        stop = threading.Event()
        dropped = []

        def terminate():
            while not stop.wait(every * random.uniform(0.5, 1.5)):
                dropped.append(terminate_all())

        thread = threading.Thread(target=terminate, daemon=True)
        t = time.perf_counter()
        log, failures, photos = run_reps(site.base, plans, retry=True, on_start=thread.start)
        elapsed = time.perf_counter() - t
        stop.set()
        thread.join()
        killer.dispose()
        after = sorted(site.workers())

        # Afterwards, without a restart: every rep's Today answers.
        late: list[Call] = []
        for n, plan in enumerate(plans[:5]):
            phone = Phone(site.base, plan.login, n, late)
            try:
                phone.sign_in()
                phone.page("GET /today", "/today")
            except Failed as exc:
                failures.append(str(exc))
        site.stop()
        print_figures(log, elapsed)
        failed = [c for c in log if not c.ok]
        kinds = Counter("dropped connection" if c.status == 0 else f"{c.status}" for c in failed)
        said = Counter(c.note[:70] for c in failed if c.status >= 500)
        refused = [c for c in failed if 0 < c.status < 500]
        print(f"  under load: {len(dropped)} rounds of pg_terminate_backend, {sum(dropped)} backends terminated")
        print(f"  failed answers {len(failed)}: " + (", ".join(f"{n} × {k}" for k, n in kinds.items()) or "none")
              + f"; every one sent again until it succeeded: {not failures}")
        for note, n in said.items():
            print(f"    {n} × 5xx saying: {note!r}")
        bare = sum(c.note.startswith(BARE) for c in failed)
        print(f"  5xx that are not the app's answer (a bare server page) {bare} (budget 0)")
        print(f"  4xx among them (not retry-safe) {len(refused)} (budget 0); check-ins refused 409 "
              f"{sum(c.status == 409 for c in log)} (budget 0)")
        print(f"  worker processes before {before} after {after}: "
              f"{'the same, no restart' if before == after else 'RESTARTED'}; "
              f"Today after the load {sum(c.ok for c in late if c.endpoint == 'GET /today')} of {min(5, len(plans))}")
        problems = check_database(site, plans, photos)
        keys, _per_client = row_keys(site)
        orphans = stored_files(site.upload_dir) - keys
        from sqlalchemy import func, select

        from field.extensions import db
        from field.visits.models import Visit, VisitStatus
        with site.app.app_context():
            busy = db.session.scalar(select(func.count()).select_from(Visit).where(
                Visit.status == VisitStatus.IN_PROGRESS))
            db.session.rollback()
        print(f"  visits left in progress {busy} (budget 0); database checks "
              f"{'ok' if not problems else 'FAILED: ' + '; '.join(problems)}; files without a row {len(orphans)} "
              f"({by_top(orphans)}: a photo whose commit failed; photos-sweep removes them after an hour)")
        for line in failures[:10]:
            print(f"  FAILED {line}")
        logged = site.log_problems()
        print(f"  server log: {logged['Traceback']} tracebacks (the dropped connections, each answered 5xx):")
        for what, n in site.log_exceptions().most_common():
            print(f"    {n} × {what}")
        ok = not failures and not refused and not bare and not problems and busy == 0 and before == after and all(
            c.ok for c in late) and not idle_failed
        print(f"  (b) {'ok' if ok else 'FAILED'}")
        return ok
    finally:
        site.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["kill", "drop"], default=None)
    parser.add_argument("--reps", type=int, default=None, help="reps (default 8 for kill, 20 for drop)")
    parser.add_argument("--kills", type=int, default=4, help="(a) rounds of uploads, one worker killed in each")
    parser.add_argument("--per-rep", type=int, default=2, help="(a) photos each rep sends at once per round")
    parser.add_argument("--visits", type=int, default=2, help="(b) whole visits per rep")
    parser.add_argument("--every", type=float, default=3.0, help="(b) seconds between terminations (on average)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    ok = True
    t = time.perf_counter()
    site = make_site("postgresql") or make_site("sqlite")
    print(f"{site.kind}: demo seeded in {time.perf_counter() - t:.0f} s")
    try:
        if args.only in (None, "kill"):
            ok = kill_mid_upload(site, args.reps or 8, args.kills, args.per_rep, args.workers) and ok
        if args.only in (None, "drop"):
            ok = drop_connections(site, args.reps or 20, args.visits, args.every, args.workers) and ok
    finally:
        site.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
