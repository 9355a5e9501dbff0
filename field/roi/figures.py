"""The overview's figures, kept per activity store so the Monday page sums them instead of measuring.

Measuring (queries.lines) reads every store's window of daily sales, its blocked days and its
control stores: seconds over a country's quarter (bench/roi.py). A line's figures change only
when one of their inputs does, so they are kept in roi_figures with the day they were measured
through and the generation of their store group (region, tier, channel) at the time. Database
triggers add one to a group's generation whenever an input changes (migrations/versions/
0007_roi_figures.py lists them), so kept figures are current exactly while their stop day and
generation still match. The overview first measures again what is missing or stale — after a
sale, that is the dozen lines of one group — then adds up the table in SQL.

The generation is read before measuring: a change that commits meanwhile leaves the new figures
one generation behind, so they are measured again next time rather than kept stale.
`flask roi-refresh` measures everything ahead (a nightly job) so the first manager of the day
does not wait for the lines whose measured-through day moved.

Measuring stages its upsert in the caller's transaction, like any operation: the request that
showed the page (or the command) commits it."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import (BigInteger, ColumnElement, Date, Select, Text, case, cast, func, literal, null, or_, select,
                        union_all)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from field import scope
from field.activities.models import Activity, ActivityStore
from field.activities.rules import Compliance
from field.auth.models import User
from field.extensions import db
from field.roi import queries
from field.roi.models import RoiFigure, RoiGeneration, group_key
from field.roi.queries import COMMITTED, WRITTEN_OFF, Filters, Rollup
from field.stores.models import Store


def _stop(last_day: date):
    return case((Activity.period_end < last_day, Activity.period_end), else_=literal(last_day, Date))


@dataclass(frozen=True)
class _Kept:
    """The activity stores of a filter that a user may see, joined to their kept figures (RoiFigure,
    NULL where missing) and their group's generation; `stale` says 'missing or out of date'."""

    lines: Select
    key: ColumnElement
    generation: ColumnElement
    stale: ColumnElement

    def select(self, *columns) -> Select:
        return self.lines.with_only_columns(*columns, maintain_column_froms=False)


def _kept(filters: Filters, user: User, last_day: date) -> _Kept:
    key, generation = group_key(), func.coalesce(RoiGeneration.generation, 0)
    stale = or_(RoiFigure.line_id.is_(None), RoiFigure.stop != _stop(last_day), RoiFigure.group_key != key,
                RoiFigure.generation != generation)
    lines = (select(ActivityStore.id).select_from(ActivityStore)
             .join(Activity, Activity.id == ActivityStore.activity_id).join(Store, Store.id == ActivityStore.store_id)
             .outerjoin(RoiFigure, RoiFigure.line_id == ActivityStore.id)
             .outerjoin(RoiGeneration, RoiGeneration.group_key == key)
             .where(scope.activity_stores(user).whereclause, *queries.conditions(filters, last_day)))
    return _Kept(lines, key, generation, stale)


def refresh(filters: Filters, user: User, as_of: date) -> int:
    """Measure again the lines of `filters` whose kept figures are missing or stale; how many it measured."""
    kept = _kept(filters, user, as_of - timedelta(days=1))
    stale = db.session.execute(kept.select(ActivityStore.id, kept.key, kept.generation).where(kept.stale)).all()
    if not stale:
        return 0
    marks = {line_id: (group, int(generation)) for line_id, group, generation in stale}
    measured = queries.lines(replace(filters, line_ids=frozenset(marks)), user, as_of)
    rows = [{"line_id": x.id, "group_key": marks[x.id][0], "generation": marks[x.id][1], "stop": x.stop,
             "actual": x.actual, "baseline": x.baseline, "incremental": x.incremental,
             "incremental_gp": x.incremental_gp, "controls": x.controls, "written_off": x.written_off,
             "settled": x.settled, "verified": x.compliance.verified, "required": x.compliance.required}
            for x in measured]
    _store(rows)
    return len(rows)


def _store(rows: list[dict]) -> None:
    """Upsert the rows (staged: the request or command commits them)."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(RoiFigure)
    stmt = stmt.on_conflict_do_update(index_elements=[RoiFigure.line_id],
                                      set_={k: stmt.excluded[k] for k in rows[0] if k != "line_id"})
    db.session.connection().execute(stmt, rows)


def _sums(t) -> list:
    """The figures of the kept lines `t` added up (as a roll-up's fields)."""
    measured = t.c.baseline.is_not(None)
    settled = case((t.c.settled, 1), else_=0)
    return [func.count().label("lines"), func.sum(case((measured, 1), else_=0)).label("measured"),
            func.sum(t.c.actual).label("actual"), func.sum(t.c.baseline).label("baseline"),
            func.sum(t.c.incremental).label("incremental"), func.sum(t.c.incremental_gp).label("incremental_gp"),
            func.sum(t.c.cost).label("cost"), func.sum(case((measured, t.c.cost), else_=0)).label("measured_cost"),
            func.sum(t.c.budget).label("budget"), func.sum(t.c.written_off).label("written_off"),
            func.sum(t.c.verified).label("verified"), func.sum(t.c.required).label("required"),
            func.max(settled).label("any_settled"), func.min(settled).label("all_settled")]


def _rollup(row) -> Rollup:
    n = lambda name: int(getattr(row, name) or 0)  # noqa: E731 — SUM over no rows is NULL
    bases = set()
    if row.lines:
        bases = {WRITTEN_OFF} if row.all_settled else {COMMITTED} if not row.any_settled else {WRITTEN_OFF, COMMITTED}
    return Rollup(row.key, row.label or "", lines=n("lines"), measured=n("measured"), actual=n("actual"),
                  baseline=n("baseline"), incremental=n("incremental"), incremental_gp=n("incremental_gp"),
                  cost=n("cost"), measured_cost=n("measured_cost"), budget=n("budget"),
                  written_off=n("written_off"), compliance=Compliance(n("verified"), n("required")), bases=bases)


@dataclass
class Rollups:
    """The overview's roll-ups of the kept figures: per activity (labelled with its title), per type,
    per region and per rep (keyed by id, labelled by the caller), and in all."""

    activities: list[Rollup]
    by_type: list[Rollup]
    by_region: list[Rollup]
    by_rep: list[Rollup]
    total: Rollup


def rollups(filters: Filters, user: User, as_of: date) -> Rollups:
    """Add up the kept figures of `filters` per activity, type, region and rep, in one statement: the
    lines are joined and filtered once (a materialized CTE), then grouped four ways; the same
    statement lists the lines whose figures are missing or stale. In the usual case there are
    none, and this statement is all the overview's figures cost; else those lines are measured
    and the sums taken again."""
    last_day = as_of - timedelta(days=1)
    rows = db.session.execute(_rollups(filters, user, last_day)).all()
    stale = frozenset(row.key for row in rows if row.kind == "stale")
    if stale:
        refresh(replace(filters, line_ids=stale), user, as_of)
        rows = db.session.execute(_rollups(filters, user, last_day)).all()
    out: dict[str, list[Rollup]] = {kind: [] for kind in ("activity", "type", "region", "rep")}
    for row in rows:
        if row.kind in out:  # a line changed again meanwhile stays listed: measured on the next view
            out[row.kind].append(_rollup(row))
    return Rollups(out["activity"], out["type"], out["region"], out["rep"], combine(out["type"]))


def _rollups(filters: Filters, user: User, last_day: date) -> Select:
    f, kept = RoiFigure, _kept(filters, user, last_day)
    t = kept.select(ActivityStore.id.label("line_id"), Activity.id.label("activity_id"), Activity.title,
                    Activity.type_id, Store.region_id, Store.owner_rep_id.label("rep_id"), ActivityStore.budget,
                    f.actual, f.baseline, f.incremental, f.incremental_gp, f.written_off, f.settled, f.verified,
                    f.required, case((f.settled, f.written_off), else_=ActivityStore.budget).label("cost"),
                    kept.stale.label("stale")).cte("kept").prefix_with("MATERIALIZED")
    no_label = literal("", Text)
    groups = [("activity", t.c.activity_id, func.max(t.c.title)), ("type", t.c.type_id, no_label),
              ("region", t.c.region_id, no_label), ("rep", t.c.rep_id, no_label)]
    columns = _sums(t)
    sums = [select(literal(kind, Text).label("kind"), key.label("key"), label.label("label"), *columns)
            .group_by(key) for kind, key, label in groups]
    # The lines to measure again, one row each; their sums are not read.
    stale = select(literal("stale", Text), t.c.line_id, no_label, *[cast(null(), BigInteger)] * len(columns)
                   ).where(t.c.stale)
    return union_all(*sums, stale)


def combine(rollups: list[Rollup]) -> Rollup:
    """Roll-ups of disjoint lines (one per type, say) added into one."""
    out = Rollup("all")
    for r in rollups:
        for name in ("lines", "measured", "actual", "baseline", "incremental", "incremental_gp", "cost",
                     "measured_cost", "budget", "written_off"):
            setattr(out, name, getattr(out, name) + getattr(r, name))
        out.compliance = out.compliance + r.compliance
        out.bases |= r.bases
    return out
