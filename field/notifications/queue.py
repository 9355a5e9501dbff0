"""The job queue that sends deliveries outside the request: huey (https://github.com/coleifer/huey).

Why huey: one small, established library (no dependency beyond the psycopg we ship) with a storage for
each of our two deployments. On PostgreSQL, PostgresHuey keeps its tasks in the app's own database — in
a schema of their own (`field_queue`), so the app's schema stays what the migrations make — and wakes
workers with LISTEN/NOTIFY, so a delivery leaves within milliseconds; several workers on several
machines share it (FOR UPDATE SKIP LOCKED). On the SQLite default, SqliteHuey keeps them in a second
SQLite file beside the database (`instance/field-queue.sqlite`), so the queue never waits on the app's
write lock, and the worker polls it every second at most.

The queue only wakes the worker: the durable truth is the delivery row in the app's database, written in
the request's own transaction (a job queue outside that transaction could hold a job for a row that was
rolled back, or lose one that was committed). The worker's `notify.deliver` job claims a due row, sends
it and records the outcome; a failure is retried by huey after the row's back-off (RetryTask with that
delay); the `notify.sweep` job, every minute and when the worker starts, wakes any row still queued past
its time, whatever happened to its job (a crash between commit and enqueue, a queue file lost)."""
from __future__ import annotations

import logging

from flask import current_app
from huey import MemoryHuey, PostgresHuey, SqliteHuey, crontab
from huey.exceptions import RetryTask

log = logging.getLogger(__name__)

QUEUE_NAME = "field-notify"
PG_SCHEMA = "field_queue"


def _postgres_connect(dsn: str):
    def connect():
        import psycopg
        conn = psycopg.connect(dsn, autocommit=True)
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}")
        conn.execute(f"SET search_path TO {PG_SCHEMA}")
        return conn
    return connect


def make_huey(queue_url: str):
    if queue_url.startswith(("postgresql://", "postgres://")):
        return PostgresHuey(QUEUE_NAME, results=False, connection=_postgres_connect(queue_url), read_timeout=1)
    if queue_url.startswith("sqlite:///"):
        return SqliteHuey(QUEUE_NAME, results=False, filename=queue_url[len("sqlite:///"):])
    return MemoryHuey(QUEUE_NAME, results=False)


class Queue:
    """The app's huey and its two jobs; made on first use (the web process may never send anything)."""

    def __init__(self, app):
        self.app = app
        self._huey = None

    @property
    def huey(self):
        if self._huey is None:
            self._build()
        return self._huey

    def _build(self):
        from field.notifications import jobs
        app = self.app
        huey = make_huey(app.extensions["notifications"].queue_url)

        @huey.task(name="notify.deliver")
        def deliver(delivery_id: int):
            with app.app_context():
                delay = jobs.deliver(delivery_id)
            if delay is not None:
                raise RetryTask(delay=delay)

        @huey.periodic_task(crontab(minute="*"), name="notify.sweep")
        def sweep():
            with app.app_context():
                ids = jobs.overdue()
            for delivery_id in ids:
                deliver(delivery_id)

        self.deliver, self.sweep = deliver, sweep
        self._huey = huey

    def wake(self, delivery_ids) -> None:
        for delivery_id in delivery_ids:
            self.huey.enqueue(self.deliver.s(delivery_id))

    def consumer(self, workers: int = 2, poll: float = 1.0):
        """A huey consumer of threads, polling SQLite at most `poll` seconds apart."""
        return self.huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                         initial_delay=0.05, backoff=1.5, max_delay=poll, scheduler_interval=1)


def install(app) -> None:
    app.extensions["notify_queue"] = Queue(app)


def get() -> Queue:
    return current_app.extensions["notify_queue"]


def wake(delivery_ids) -> None:
    """Wake the worker for these delivery rows (after their transaction committed). A queue that cannot
    be reached loses nothing: the rows stay queued and the sweep wakes them."""
    try:
        get().wake(delivery_ids)
    except Exception:  # noqa: BLE001 — the request already committed; the sweep is the safety net
        log.warning("notifications: could not wake the worker for deliveries %s", delivery_ids, exc_info=True)
