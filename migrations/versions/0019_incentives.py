"""incentives: tasks with points, the append-only points ledger, levels and rewards handed out

Revision ID: 0019_incentives
Revises: 0018_workday
Create Date: 2027-01-25 09:00:00.000000

Besides the tables, triggers (per database) keep the points ledger and the redemptions append-only:
UPDATE is refused on both databases, DELETE too on PostgreSQL (as for the write-off ledger, 0005).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_incentives'
down_revision = '0018_workday'
branch_labels = None
depends_on = None

APPEND_ONLY = ('points_ledger', 'points_redemptions')

SQLITE_UP = [
    f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN
         SELECT RAISE(ABORT, '{table} is append-only: post a reversal');
       END""" for table in APPEND_ONLY
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {table}_no_update" for table in APPEND_ONLY]
POSTGRESQL_UP = [
    """CREATE FUNCTION points_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION '% is append-only: post a reversal', TG_TABLE_NAME;
       END $$""",
] + [
    f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
       FOR EACH ROW EXECUTE FUNCTION points_append_only()""" for table in APPEND_ONLY
]
POSTGRESQL_DOWN = [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in APPEND_ONLY] + [
    "DROP FUNCTION IF EXISTS points_append_only()"]


def upgrade():
    op.create_table(
        'incentive_tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('target', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('points > 0 AND points <= 10000', name='ck_incentive_tasks_points'),
        sa.CheckConstraint('target > 0', name='ck_incentive_tasks_target'),
        sa.CheckConstraint('period_end >= period_start', name='ck_incentive_tasks_period'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_incentive_tasks_region_id', 'incentive_tasks', ['region_id'], unique=False)
    op.create_index('ix_incentive_tasks_period_end', 'incentive_tasks', ['period_end'], unique=False)
    op.create_table(
        'points_ledger',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=80), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('earned_on', sa.Date(), nullable=False),
        sa.Column('reverses_id', sa.Integer(), nullable=True),
        sa.Column('task_name', sa.String(length=120), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(kind = 'grant' AND points > 0 AND reverses_id IS NULL) OR "
                           "(kind = 'reversal' AND points < 0 AND reverses_id IS NOT NULL)",
                           name='ck_points_ledger_kind'),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id']),
        sa.ForeignKeyConstraint(['rep_id'], ['users.id']),
        sa.ForeignKeyConstraint(['reverses_id'], ['points_ledger.id']),
        sa.ForeignKeyConstraint(['task_id'], ['incentive_tasks.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('reverses_id'),
        sa.UniqueConstraint('task_id', 'rep_id', 'outcome', 'kind', name='uq_points_ledger_outcome'),
    )
    op.create_index('ix_points_ledger_earned_on_rep', 'points_ledger', ['earned_on', 'rep_id', 'points'],
                    unique=False)
    op.create_index('ix_points_ledger_rep_day', 'points_ledger', ['rep_id', 'earned_on', 'points'], unique=False)
    op.create_table(
        'incentive_levels',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('rewards', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('threshold >= 0', name='ck_incentive_levels_threshold'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('threshold'),
    )
    op.create_table(
        'points_redemptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('level_name', sa.String(length=60), nullable=False),
        sa.Column('reward', sa.String(length=200), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id']),
        sa.ForeignKeyConstraint(['rep_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_points_redemptions_rep_id', 'points_redemptions', ['rep_id'], unique=False)
    for statement in (POSTGRESQL_UP if op.get_bind().dialect.name == 'postgresql' else SQLITE_UP):
        op.execute(statement)


def downgrade():
    for statement in (POSTGRESQL_DOWN if op.get_bind().dialect.name == 'postgresql' else SQLITE_DOWN):
        op.execute(statement)
    op.drop_index('ix_points_redemptions_rep_id', table_name='points_redemptions')
    op.drop_table('points_redemptions')
    op.drop_table('incentive_levels')
    op.drop_index('ix_points_ledger_rep_day', table_name='points_ledger')
    op.drop_index('ix_points_ledger_earned_on_rep', table_name='points_ledger')
    op.drop_table('points_ledger')
    op.drop_index('ix_incentive_tasks_period_end', table_name='incentive_tasks')
    op.drop_index('ix_incentive_tasks_region_id', table_name='incentive_tasks')
    op.drop_table('incentive_tasks')
