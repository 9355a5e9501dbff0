"""`flask --app wsgi notify-worker`: sends queued notifications (e-mail, group robots) until stopped.
Operator tooling: English, not translated."""
from __future__ import annotations

import logging
from datetime import timedelta

import click

from field.notifications import jobs, queue


def register_cli(app) -> None:
    @app.cli.command("notify-worker")
    @click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32),
                  help="Deliveries sent at once (threads).")
    @click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.05, 60),
                  help="At most this many seconds between looks at a SQLite queue (PostgreSQL wakes at once).")
    def notify_worker(workers: int, poll: float):
        """Send queued notifications by e-mail and to the group robots, retrying failures with back-off.
        Run one or more (systemd, supervisord); stop with SIGINT (finishes what it sends) or SIGTERM."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        conf = app.extensions["notifications"]
        q = queue.get()
        waiting = jobs.overdue(grace=timedelta(0))
        q.wake(waiting)  # what was queued while no worker ran
        click.echo(f"notify-worker: queue {conf.queue_url.split('@')[-1]}, {len(waiting)} waiting deliveries; "
                   f"e-mail {'on' if conf.email else 'off'}, robots: {', '.join(conf.webhooks) or 'none'}")
        q.consumer(workers=workers, poll=poll).run()

    @app.cli.command("notify-sweep")
    def notify_sweep():
        """Wake the worker for every delivery still waiting past its time (the worker does this each minute)."""
        waiting = jobs.overdue(grace=timedelta(0))
        queue.get().wake(waiting)
        click.echo(f"Woke {len(waiting)} waiting deliveries.")
