"""Two timestamp expressions the dashboards group by, spelled for SQLite and PostgreSQL.

SQLite keeps a timestamp as UTC text; PostgreSQL as timestamptz. `local_day(ts, zone, minutes)` is
the calendar day of a moment in a time zone (PostgreSQL by the zone's name, so summer time is right;
SQLite by a fixed offset in minutes, the zone's at the period asked); `seconds_between(a, b)` the
seconds from a to b."""
from __future__ import annotations

from sqlalchemy import Date, Float, Integer, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class local_day(FunctionElement):
    type = Date()
    inherit_cache = True
    name = "local_day"

    def __init__(self, ts, zone: str, minutes: int):
        super().__init__(ts, literal(zone, String), literal(minutes, Integer))


@compiles(local_day)
def _local_day_pg(element, compiler, **kw):
    ts, zone, _minutes = list(element.clauses)
    return f"CAST(({compiler.process(ts, **kw)} AT TIME ZONE {compiler.process(zone, **kw)}) AS DATE)"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    ts, _zone, minutes = list(element.clauses)
    return f"date({compiler.process(ts, **kw)}, ({compiler.process(minutes, **kw)}) || ' minutes')"


class seconds_between(FunctionElement):
    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_pg(element, compiler, **kw):
    a, b = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(b, **kw)} - {compiler.process(a, **kw)}))"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    a, b = list(element.clauses)
    return f"((julianday({compiler.process(b, **kw)}) - julianday({compiler.process(a, **kw)})) * 86400.0)"
