"""The migrations build exactly the schema the models describe, on this run's database, with the triggers
they create present and at work."""
import importlib.util
import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from field.activities.models import ActivityStatus as S
from field.claims.models import LedgerLine
from field.extensions import db
from field.roi.models import SalesDaily
from field.sales.models import Sale
from tests.factories import make_activity, make_claim, make_product, make_store


def test_migrated_schema_matches_models():
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), db.metadata)
    assert diff == []


# --- the triggers the migrations create -----------------------------------------------------------
# A SQLite migration that rebuilds a table (render_as_batch=True: copy, drop, rename) silently drops its
# triggers; these tests notice. The expected triggers are read from the migrations themselves: each
# one's upgrade() runs against a recorder that keeps the SQL it executes, for this run's database.

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"
CREATE_TRIGGER = re.compile(r"CREATE\s+TRIGGER\s+(\w+)\s+(?:BEFORE|AFTER|INSTEAD\s+OF)\b.*?\bON\s+(\w+)",
                            re.IGNORECASE | re.DOTALL)


class _Recorder:
    """Stands in for alembic's `op` (and anything it returns): remembers what op.execute() is given."""

    def __init__(self, dialect: str, executed: list[str]):
        self._dialect, self._executed = dialect, executed

    def execute(self, statement, *args, **kwargs):
        self._executed.append(str(statement))

    def get_bind(self):
        return SimpleNamespace(dialect=SimpleNamespace(name=self._dialect), execute=lambda *a, **k: self)

    def f(self, name):
        return name

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        return iter(())


def expected_triggers(dialect: str) -> set[tuple[str, str]]:
    """(trigger, table) for every CREATE TRIGGER the migrations' upgrade() runs on `dialect`."""
    executed: list[str] = []
    for path in sorted(VERSIONS.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"_migration_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.op = _Recorder(dialect, executed)
        module.upgrade()
    return {(name, table) for statement in executed for name, table in CREATE_TRIGGER.findall(statement)}


def existing_triggers() -> set[tuple[str, str]]:
    if db.engine.dialect.name == "postgresql":
        sql = ("SELECT t.tgname, c.relname FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid "
               "WHERE NOT t.tgisinternal")
    else:
        sql = "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"
    with db.engine.connect() as conn:
        return {(name, table) for name, table in conn.execute(text(sql))}


def test_the_migrations_create_the_triggers_we_know_of():
    """The recorder finds the sales, ledger and ROI triggers (so the next test is not vacuous)."""
    expected = expected_triggers(db.engine.dialect.name)
    tables = {table for _name, table in expected}
    assert {"sales", "ledger_lines", "sales_daily", "reviews", "activities", "activity_stores", "activity_types",
            "stores"} <= tables, expected
    if db.engine.dialect.name == "postgresql":
        assert ("sales_daily_sync", "sales") in expected and ("roi_stale", "stores") in expected
    else:
        assert {("sales_daily_insert", "sales"), ("ledger_lines_no_update", "ledger_lines"),
                ("roi_stale_store", "stores")} <= expected


def test_every_trigger_the_migrations_create_exists_after_upgrade():
    missing = expected_triggers(db.engine.dialect.name) - existing_triggers()
    assert not missing, ("triggers the migrations create are missing from the database (a batch table rebuild "
                         "drops them; re-create them in that migration): " + ", ".join(
                             f"{name} ON {table}" for name, table in sorted(missing)))


def daily(store) -> tuple | None:
    db.session.expire_all()
    row = db.session.get(SalesDaily, (store.id, DAY))
    return None if row is None else (row.amount, row.quantity, row.lines)


def generations() -> dict[str, int]:
    return dict(db.session.execute(text("SELECT group_key, generation FROM roi_generations")).all())


def bumped(before: dict[str, int]) -> set[str]:
    after = generations()
    return {key for key, generation in after.items() if generation > before.get(key, 0)}


DAY = date(2026, 3, 2)


def test_the_sales_triggers_keep_the_daily_sums(org):
    store, product = make_store(rep=org.rep), make_product()
    sale = Sale(store_id=store.id, sold_on=DAY, product_id=product.id, quantity=2, amount=700, source="import",
                source_key="t-1")
    db.session.add(sale)
    db.session.commit()
    assert daily(store) == (700, 2, 1)
    db.session.add(Sale(store_id=store.id, sold_on=DAY, product_id=product.id, quantity=1, amount=350,
                        source="import", source_key="t-2"))
    db.session.commit()
    assert daily(store) == (1050, 3, 2)
    sale.amount = 1400
    db.session.commit()
    assert daily(store) == (1750, 3, 2)
    db.session.execute(text("DELETE FROM sales"))
    db.session.commit()
    assert daily(store) is None


def test_the_ledger_refuses_an_update_in_the_database(org):
    store = make_store(rep=org.rep)
    activity = make_activity(org.manager, [store], status=S.APPROVED)
    line = activity.stores[0]
    claim = make_claim(line, org.rep)
    db.session.add(LedgerLine(kind="payment", claim_id=claim.id, activity_id=activity.id, activity_store_id=line.id,
                              store_id=store.id, amount=1000, actor_id=org.admin.id, posted_on=DAY, reason=""))
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("UPDATE ledger_lines SET amount = 1"))
    db.session.rollback()


def test_the_roi_triggers_mark_figures_stale(org):
    store, other = make_store(rep=org.rep, tier="A"), make_store(rep=org.rep, tier="C")
    before = generations()
    db.session.add(Sale(store_id=store.id, sold_on=DAY, quantity=1, amount=100, source="import", source_key="r-1"))
    db.session.commit()
    assert len(bumped(before)) == 1, "a new store-day of sales bumps its store's group"
    sales_group = bumped(before)

    before = generations()
    activity = make_activity(org.manager, [store], status=S.APPROVED)     # its store line: an insert
    assert bumped(before) == sales_group, "a store joining an activity bumps the store's group"

    before = generations()
    activity.status = S.RUNNING
    db.session.commit()
    assert bumped(before) == sales_group, "an activity changing state bumps its stores' groups"

    before = generations()
    activity.type.check_period = "monthly"
    db.session.commit()
    assert bumped(before) == sales_group, "a type's check period bumps its activities' stores' groups"

    before = generations()
    store.tier = "B"
    db.session.commit()
    moved = bumped(before)
    assert len(moved) == 2 and sales_group <= moved, "a store changing tier bumps its old group and its new one"

    before = generations()
    other.name = "renamed"
    db.session.commit()
    assert bumped(before) == set(), "a change no figure reads bumps nothing"
