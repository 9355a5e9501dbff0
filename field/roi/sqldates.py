"""Date arithmetic inside SQL, spelled for each database we run on.

SQLite keeps dates as ISO text and moves them with date(x, 'N days'); PostgreSQL adds an integer
to a date. The ROI queries shift activity windows in SQL, so both are needed as one expression."""
from __future__ import annotations

from sqlalchemy import Date, Integer, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class day_add(FunctionElement):
    """day_add(a_date, n): the date n days later (n may be negative or a column)."""

    type = Date()
    inherit_cache = True
    name = "day_add"

    def __init__(self, day, days):
        if isinstance(days, int):
            days = literal(days, Integer)
        super().__init__(day, days)


@compiles(day_add)
def _day_add_default(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"({compiler.process(day, **kw)} + CAST({compiler.process(days, **kw)} AS INTEGER))"


@compiles(day_add, "sqlite")
def _day_add_sqlite(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, ({compiler.process(days, **kw)}) || ' days')"
