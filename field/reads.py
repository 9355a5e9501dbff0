"""Reads beside the request: independent SELECTs of one page run at once on PostgreSQL.

A page that adds up a country (the manager's dashboard) waits on a few big, independent reads. On
PostgreSQL each may run on its own pooled connection, so the server works on them side by side
(its cores, not ours: the waiting threads hold no GIL) while the request goes on with the rest.
They read what is committed: use them only for reads that do not depend on this request's own
writes. Elsewhere (SQLite, or READS_BESIDE off) each runs on the request's session when asked for.

    pending = reads.beside([stmt_a, stmt_b])
    ...                                # the request's other work
    rows_a, rows_b = (p() for p in pending)"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from flask import current_app

from field.extensions import db

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="reads")


def _run(engine, statement) -> list:
    with engine.connect() as conn:
        return conn.execute(statement).all()


def beside(statements: list) -> list[Callable[[], list]]:
    """One callable per statement answering its rows; on PostgreSQL the statements already run."""
    engine = db.engine
    if engine.dialect.name != "postgresql" or not current_app.config.get("READS_BESIDE", True):
        return [lambda s=s: db.session.execute(s).all() for s in statements]
    futures = [_POOL.submit(_run, engine, s) for s in statements]
    return [future.result for future in futures]
