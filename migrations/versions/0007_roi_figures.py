"""ROI figures kept per activity store, and the per-group counters that say when they are stale

- roi_figures: one activity store's measured figures, with the day measured through and the
  generation of its store group they were measured at (field/roi/figures.py);
- roi_generations: one counter per store group (region, tier, channel);
- triggers, per database, add one to a group's counter whenever an input of its figures changes:
  a store-day of sales (sales_daily, itself kept by triggers on sales), a review or ledger line of
  an activity store, an activity's state, period, margin or type, the stores of an activity, a
  type's check period, a store's region, tier, channel, activity or visit frequency. On
  PostgreSQL a counter row stays locked until the writer commits; one statement bumps its keys
  in key order, and the sales import writes in key order, so writers wait but do not deadlock.

Revision ID: 0007_roi_figures
Revises: 0006_evidence
Create Date: 2026-12-01 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_roi_figures'
down_revision = '0006_evidence'
branch_labels = None
depends_on = None


def _key(s: str) -> str:
    """The group key of a stores row (or OLD/NEW): '<region id or 0>:<tier>:<channel>'."""
    return f"COALESCE(CAST({s}.region_id AS TEXT), '0') || ':' || {s}.tier || ':' || {s}.channel"


def _sqlite_bump(select_keys: str) -> str:
    return (f"INSERT INTO roi_generations (group_key, generation) SELECT DISTINCT k, 1 FROM ({select_keys}) "
            "WHERE k IS NOT NULL ON CONFLICT (group_key) DO UPDATE SET generation = generation + 1;")


def _of_store(store_id: str) -> str:
    return f"SELECT {_key('s')} AS k FROM stores AS s WHERE s.id = {store_id}"


def _of_activity(activity_id: str) -> str:
    return (f"SELECT {_key('s')} AS k FROM activity_stores AS a JOIN stores AS s ON s.id = a.store_id "
            f"WHERE a.activity_id = {activity_id}")


def _of_line(line_id: str) -> str:
    return (f"SELECT {_key('s')} AS k FROM activity_stores AS a JOIN stores AS s ON s.id = a.store_id "
            f"WHERE a.id = {line_id}")


def _of_type(type_id: str) -> str:
    return (f"SELECT {_key('s')} AS k FROM activities AS t JOIN activity_stores AS a ON a.activity_id = t.id "
            f"JOIN stores AS s ON s.id = a.store_id WHERE t.type_id = {type_id}")


ACTIVITY_COLUMNS = "status, period_start, period_end, margin_pct, type_id"
STORE_COLUMNS = "region_id, tier, channel, active, visit_every_days"

# (trigger name, event, table, keys to bump)
SQLITE_TRIGGERS = [
    ("roi_stale_sales_insert", "INSERT", "sales_daily", [_of_store("NEW.store_id")]),
    ("roi_stale_sales_update", "UPDATE", "sales_daily", [_of_store("NEW.store_id"), _of_store("OLD.store_id")]),
    ("roi_stale_sales_delete", "DELETE", "sales_daily", [_of_store("OLD.store_id")]),
    ("roi_stale_review", "INSERT", "reviews", [_of_line("NEW.activity_store_id")]),
    ("roi_stale_ledger", "INSERT", "ledger_lines", [_of_line("NEW.activity_store_id")]),
    ("roi_stale_activity", f"UPDATE OF {ACTIVITY_COLUMNS}", "activities", [_of_activity("NEW.id")]),
    ("roi_stale_line_insert", "INSERT", "activity_stores", [_of_store("NEW.store_id")]),
    ("roi_stale_line_update", "UPDATE OF activity_id, store_id", "activity_stores",
     [_of_store("NEW.store_id"), _of_store("OLD.store_id")]),
    ("roi_stale_line_delete", "DELETE", "activity_stores", [_of_store("OLD.store_id")]),
    ("roi_stale_type", "UPDATE OF check_period", "activity_types", [_of_type("NEW.id")]),
    ("roi_stale_store", f"UPDATE OF {STORE_COLUMNS}", "stores",
     [f"SELECT {_key('OLD')} AS k", f"SELECT {_key('NEW')} AS k"]),
]

POSTGRESQL_UP = [
    """CREATE FUNCTION roi_bump(keys text[]) RETURNS void LANGUAGE sql AS $$
         INSERT INTO roi_generations AS g (group_key, generation)
         SELECT DISTINCT k, 1 FROM unnest(keys) AS k WHERE k IS NOT NULL ORDER BY k
         ON CONFLICT (group_key) DO UPDATE SET generation = g.generation + 1
       $$""",
    f"""CREATE FUNCTION roi_stale() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_TABLE_NAME = 'sales_daily' THEN
           IF TG_OP <> 'DELETE' THEN PERFORM roi_bump(ARRAY({_of_store('NEW.store_id')})); END IF;
           IF TG_OP <> 'INSERT' THEN PERFORM roi_bump(ARRAY({_of_store('OLD.store_id')})); END IF;
         ELSIF TG_TABLE_NAME IN ('reviews', 'ledger_lines') THEN
           PERFORM roi_bump(ARRAY({_of_line('NEW.activity_store_id')}));
         ELSIF TG_TABLE_NAME = 'activities' THEN
           PERFORM roi_bump(ARRAY({_of_activity('NEW.id')}));
         ELSIF TG_TABLE_NAME = 'activity_stores' THEN
           IF TG_OP <> 'DELETE' THEN PERFORM roi_bump(ARRAY({_of_store('NEW.store_id')})); END IF;
           IF TG_OP <> 'INSERT' THEN PERFORM roi_bump(ARRAY({_of_store('OLD.store_id')})); END IF;
         ELSIF TG_TABLE_NAME = 'activity_types' THEN
           PERFORM roi_bump(ARRAY({_of_type('NEW.id')}));
         ELSIF TG_TABLE_NAME = 'stores' THEN
           PERFORM roi_bump(ARRAY[{_key('OLD')}, {_key('NEW')}]);
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER roi_stale AFTER INSERT OR UPDATE OR DELETE ON sales_daily
       FOR EACH ROW EXECUTE FUNCTION roi_stale()""",
    "CREATE TRIGGER roi_stale AFTER INSERT ON reviews FOR EACH ROW EXECUTE FUNCTION roi_stale()",
    "CREATE TRIGGER roi_stale AFTER INSERT ON ledger_lines FOR EACH ROW EXECUTE FUNCTION roi_stale()",
    f"""CREATE TRIGGER roi_stale AFTER UPDATE OF {ACTIVITY_COLUMNS} ON activities
       FOR EACH ROW EXECUTE FUNCTION roi_stale()""",
    """CREATE TRIGGER roi_stale AFTER INSERT OR DELETE OR UPDATE OF activity_id, store_id ON activity_stores
       FOR EACH ROW EXECUTE FUNCTION roi_stale()""",
    """CREATE TRIGGER roi_stale AFTER UPDATE OF check_period ON activity_types
       FOR EACH ROW EXECUTE FUNCTION roi_stale()""",
    f"""CREATE TRIGGER roi_stale AFTER UPDATE OF {STORE_COLUMNS} ON stores
       FOR EACH ROW EXECUTE FUNCTION roi_stale()""",
]
POSTGRESQL_TABLES = ["sales_daily", "reviews", "ledger_lines", "activities", "activity_stores", "activity_types",
                     "stores"]


def upgrade():
    op.create_table('roi_generations',
    sa.Column('group_key', sa.String(length=80), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('group_key', name=op.f('pk_roi_generations'))
    )
    op.create_table('roi_figures',
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('group_key', sa.String(length=80), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.Column('stop', sa.Date(), nullable=False),
    sa.Column('actual', sa.BigInteger(), nullable=False),
    sa.Column('baseline', sa.BigInteger(), nullable=True),
    sa.Column('incremental', sa.BigInteger(), nullable=True),
    sa.Column('incremental_gp', sa.BigInteger(), nullable=True),
    sa.Column('controls', sa.Integer(), nullable=False),
    sa.Column('written_off', sa.BigInteger(), nullable=False),
    sa.Column('settled', sa.Boolean(), nullable=False),
    sa.Column('verified', sa.Integer(), nullable=False),
    sa.Column('required', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['line_id'], ['activity_stores.id'], name=op.f('fk_roi_figures_line_id_activity_stores'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('line_id', name=op.f('pk_roi_figures'))
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)
    else:
        for name, event, table, keys in SQLITE_TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN "
                       f"{_sqlite_bump(' UNION '.join(keys))} END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in POSTGRESQL_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS roi_stale ON {table}")
        op.execute("DROP FUNCTION IF EXISTS roi_stale()")
        op.execute("DROP FUNCTION IF EXISTS roi_bump(text[])")
    else:
        for name, *_ in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('roi_figures')
    op.drop_table('roi_generations')
