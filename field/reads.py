"""Reads beside the request: independent SELECTs of one page run at once.

A page that adds up a country (the manager's dashboard) waits on a few big, independent reads. Each
may run on its own pooled connection, so they are worked on side by side while the request goes on
with the rest: on PostgreSQL by the server's cores (the waiting threads hold no GIL); on a SQLite
file by this process's, as Python's sqlite3 lets go of the GIL while SQLite steps through a
statement and WAL lets readers on several connections read at once (field/__init__.py).
They read what is committed: use them only for reads that do not depend on this request's own
writes. Where they cannot (an in-memory SQLite database, which each connection would see empty; or
READS_BESIDE off) each runs on the request's session when asked for.

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
    """One callable per statement answering its rows; the statements already run."""
    engine = db.engine
    in_memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
    if in_memory or not current_app.config.get("READS_BESIDE", True):
        return [lambda s=s: db.session.execute(s).all() for s in statements]
    futures = [_POOL.submit(_run, engine, s) for s in statements]
    return [future.result for future in futures]
