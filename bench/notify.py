"""Budget: a notification reaches a group robot's webhook < 5 s after its event (issue 15).

    .venv/bin/python bench/notify.py            # SQLite; PostgreSQL too when BENCH_PG_URL is reachable

A real `flask notify-worker` process (huey consumer, --poll 1) against a fresh database; a WeCom-style
webhook receiver on loopback (tests/notify_receivers.py). Each event is a transaction that notifies a
user with the robot configured: the time is taken just before its commit and when the receiver has
the message. SQLite's queue is polled (at most 1 s apart); PostgreSQL's wakes the worker by NOTIFY.
Prints `<db>: median X ms (worst Y ms, n=N)` and exits non-zero over the budget."""
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchkit import fresh_postgres  # noqa: E402
from tests.notify_receivers import Robot  # noqa: E402

BUDGET_MS = 5000
EVENTS = 20
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/field_bench_notify")


def run(label: str, database_url: str, robot: Robot) -> float:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench", "NOTIFY_WECOM_WEBHOOK": robot.url,
           "NOTIFY_BASE_URL": "http://field.example"}
    for name in ("NOTIFY_QUEUE_URL", "SMTP_HOST"):
        env.pop(name, None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "NOTIFY_WECOM_WEBHOOK", "NOTIFY_BASE_URL")})
    from flask_migrate import upgrade

    from field import create_app, notifications, transaction
    from field.auth.models import Role, User
    from field.extensions import db
    app = create_app()
    with app.app_context():
        upgrade()
        user = User(login="rep-bench", name="Bench Rep", role=str(Role.REP), active=True, password_hash="x")
        db.session.add(user)
        transaction.commit()
        user_id = user.id
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "notify-worker", "--poll", "1"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = worker.stdout.readline()
        if "notify-worker" not in line:
            raise SystemExit(f"{label}: the worker did not start: {line}{worker.stdout.read(2000)}")
        time.sleep(1.0)  # its consumer threads up
        latencies = []
        for i in range(EVENTS):
            before = len(robot.accepted())
            with app.test_request_context("/"):
                user = db.session.get(User, user_id)
                notifications.send([user], "bench", f"Bench event {i}", url="/notifications", key=f"bench:{i}")
                started = time.monotonic()
                transaction.commit()
                db.session.remove()
            deadline = started + 15
            while len(robot.accepted()) <= before and time.monotonic() < deadline:
                time.sleep(0.005)
            if len(robot.accepted()) <= before:
                raise SystemExit(f"{label}: event {i} never reached the receiver")
            latencies.append((robot.accepted()[-1]["at"] - started) * 1000)
            time.sleep(0.3 + (i % 5) * 0.37)  # events at uneven moments, as they come
    finally:
        worker.terminate()
        worker.wait(10)
    median = statistics.median(latencies)
    print(f"{label}: median {median:.0f} ms (worst {max(latencies):.0f} ms, n={len(latencies)}; budget {BUDGET_MS} ms)")
    return max(latencies)


def main() -> int:
    worst = []
    with Robot() as robot, tempfile.TemporaryDirectory() as tmp:
        worst.append(run("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite'}", robot))
        if fresh_postgres(PG_URL):
            worst.append(run("postgresql", PG_URL, robot))
    return 0 if max(worst) < BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
