"""workday: the rep's working day (start, end, position, flags); travel claims paid through the ledger

The ledger (ledger_lines) takes a category ('promotion' for every line so far, 'travel') and travel_claim_id;
claim_id, activity_id, activity_store_id and store_id may be NULL for a travel line, and a check constraint
says a line pays exactly one kind of claim. On SQLite the table is rebuilt by hand (renamed aside, created
anew, copied in id order, the old one dropped) and its two triggers made again: the append-only one (0005)
and the ROI staleness one (0007).

Revision ID: 0018_workday
Revises: 0017_dealers
Create Date: 2027-01-22 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_workday'
down_revision = '0017_dealers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'workdays',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('start_lat', sa.Float(), nullable=True),
        sa.Column('start_lng', sa.Float(), nullable=True),
        sa.Column('start_accuracy_m', sa.Float(), nullable=True),
        sa.Column('start_received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('start_client_id', sa.String(length=64), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_lat', sa.Float(), nullable=True),
        sa.Column('end_lng', sa.Float(), nullable=True),
        sa.Column('end_accuracy_m', sa.Float(), nullable=True),
        sa.Column('end_received_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_client_id', sa.String(length=64), nullable=True),
        sa.Column('auto_closed', sa.Boolean(), nullable=False),
        sa.Column('flags', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['rep_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('rep_id', 'day', name='uq_workdays_rep_id_day'),
        sa.UniqueConstraint('start_client_id'),
        sa.UniqueConstraint('end_client_id'),
    )
    with op.batch_alter_table('workdays') as batch_op:
        batch_op.create_index('ix_workdays_day', ['day'], unique=False)
    op.create_table(
        'travel_claims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('vehicle', sa.String(length=20), nullable=False),
        sa.Column('rate', sa.Integer(), nullable=False),
        sa.Column('claimed_km', sa.Numeric(precision=8, scale=1), nullable=False),
        sa.Column('computed_m', sa.Integer(), nullable=False),
        sa.Column('mileage_amount', sa.Integer(), nullable=False),
        sa.Column('receipts_amount', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('approved_amount', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_travel_claims_amount_positive')),
        sa.CheckConstraint('period_end >= period_start', name=op.f('ck_travel_claims_period_order')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_travel_claims_decided_by_id_users')),
        sa.ForeignKeyConstraint(['rep_id'], ['users.id'], name=op.f('fk_travel_claims_rep_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_claims')),
    )
    with op.batch_alter_table('travel_claims') as batch_op:
        batch_op.create_index('ix_travel_claims_rep_id', ['rep_id'], unique=False)
        batch_op.create_index('ix_travel_claims_status', ['status'], unique=False)
    op.create_table(
        'travel_receipts',
        sa.Column('travel_claim_id', sa.Integer(), nullable=False),
        sa.Column('photo_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_travel_receipts_amount_positive')),
        sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_travel_receipts_photo_id_photos')),
        sa.ForeignKeyConstraint(['travel_claim_id'], ['travel_claims.id'],
                                name=op.f('fk_travel_receipts_travel_claim_id_travel_claims')),
        sa.PrimaryKeyConstraint('travel_claim_id', 'photo_id', name=op.f('pk_travel_receipts')),
    )
    with op.batch_alter_table('travel_receipts') as batch_op:
        batch_op.create_index('ix_travel_receipts_photo_id', ['photo_id'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        _ledger_sqlite()
    else:
        _ledger_postgresql()


ONE_CLAIM = ("(category = 'promotion' AND claim_id IS NOT NULL AND activity_id IS NOT NULL"
             " AND activity_store_id IS NOT NULL AND store_id IS NOT NULL AND travel_claim_id IS NULL)"
             " OR (category = 'travel' AND travel_claim_id IS NOT NULL AND claim_id IS NULL)")
NULLABLE = ('claim_id', 'activity_id', 'activity_store_id', 'store_id')


def _ledger_postgresql():
    op.add_column('ledger_lines', sa.Column('category', sa.String(length=20), server_default='promotion',
                                            nullable=False))
    op.add_column('ledger_lines', sa.Column('travel_claim_id', sa.Integer(), nullable=True))
    for column in NULLABLE:
        op.alter_column('ledger_lines', column, existing_type=sa.Integer(), nullable=True)
    op.create_foreign_key('fk_ledger_lines_travel_claim_id_travel_claims', 'ledger_lines', 'travel_claims',
                          ['travel_claim_id'], ['id'])
    op.create_check_constraint('ck_ledger_lines_one_claim', 'ledger_lines', ONE_CLAIM)
    op.create_index('ix_ledger_lines_travel_claim_id', 'ledger_lines', ['travel_claim_id'], unique=False)
    op.create_index('uq_ledger_lines_one_payment_per_travel_claim', 'ledger_lines', ['travel_claim_id'],
                    unique=True, postgresql_where=sa.text("kind = 'payment'"))


LEDGER_SQLITE = f"""CREATE TABLE ledger_lines (
	id INTEGER NOT NULL,
	kind VARCHAR(10) NOT NULL,
	category VARCHAR(20) DEFAULT 'promotion' NOT NULL,
	claim_id INTEGER,
	activity_id INTEGER,
	activity_store_id INTEGER,
	store_id INTEGER,
	travel_claim_id INTEGER,
	amount INTEGER NOT NULL,
	reverses_id INTEGER,
	reverses_kind VARCHAR(10),
	reason TEXT NOT NULL,
	actor_id INTEGER NOT NULL,
	posted_at DATETIME NOT NULL,
	posted_on DATE NOT NULL,
	CONSTRAINT pk_ledger_lines PRIMARY KEY (id),
	CONSTRAINT ck_ledger_lines_shape CHECK ((kind = 'payment' AND reverses_id IS NULL AND reverses_kind IS NULL AND amount >= 0) OR (kind = 'reversal' AND reverses_id IS NOT NULL AND reverses_kind = 'payment' AND amount <= 0)),
	CONSTRAINT ck_ledger_lines_one_claim CHECK ({ONE_CLAIM}),
	CONSTRAINT fk_ledger_lines_activity_id_activities FOREIGN KEY(activity_id) REFERENCES activities (id),
	CONSTRAINT fk_ledger_lines_activity_store_id_activity_stores FOREIGN KEY(activity_store_id) REFERENCES activity_stores (id),
	CONSTRAINT fk_ledger_lines_actor_id_users FOREIGN KEY(actor_id) REFERENCES users (id),
	CONSTRAINT fk_ledger_lines_claim_id_claims FOREIGN KEY(claim_id) REFERENCES claims (id),
	CONSTRAINT fk_ledger_lines_reverses_payment FOREIGN KEY(reverses_id, reverses_kind) REFERENCES ledger_lines (id, kind),
	CONSTRAINT fk_ledger_lines_store_id_stores FOREIGN KEY(store_id) REFERENCES stores (id),
	CONSTRAINT fk_ledger_lines_travel_claim_id_travel_claims FOREIGN KEY(travel_claim_id) REFERENCES travel_claims (id),
	CONSTRAINT uq_ledger_lines_id_kind UNIQUE (id, kind),
	CONSTRAINT uq_ledger_lines_reverses_id UNIQUE (reverses_id)
)"""

LEDGER_SQLITE_AFTER = [
    "CREATE INDEX ix_ledger_lines_activity_id ON ledger_lines (activity_id)",
    "CREATE INDEX ix_ledger_lines_activity_store_id ON ledger_lines (activity_store_id)",
    "CREATE INDEX ix_ledger_lines_claim_id ON ledger_lines (claim_id)",
    "CREATE INDEX ix_ledger_lines_posted_on ON ledger_lines (posted_on)",
    "CREATE INDEX ix_ledger_lines_store_id ON ledger_lines (store_id)",
    "CREATE INDEX ix_ledger_lines_travel_claim_id ON ledger_lines (travel_claim_id)",
    "CREATE UNIQUE INDEX uq_ledger_lines_one_payment_per_claim ON ledger_lines (claim_id) WHERE kind = 'payment'",
    "CREATE UNIQUE INDEX uq_ledger_lines_one_payment_per_travel_claim ON ledger_lines (travel_claim_id) "
    "WHERE kind = 'payment'",
    # 0005: append-only.
    """CREATE TRIGGER ledger_lines_no_update BEFORE UPDATE ON ledger_lines BEGIN
         SELECT RAISE(ABORT, 'ledger lines are append-only: post a reversal');
       END""",
    # 0007: a line marks its activity store's ROI group stale (a travel line has none: nothing happens).
    "CREATE TRIGGER roi_stale_ledger AFTER INSERT ON ledger_lines BEGIN INSERT INTO roi_generations (group_key, "
    "generation) SELECT DISTINCT k, 1 FROM (SELECT COALESCE(CAST(s.region_id AS TEXT), '0') || ':' || s.tier || ':' "
    "|| s.channel AS k FROM activity_stores AS a JOIN stores AS s ON s.id = a.store_id WHERE a.id = "
    "NEW.activity_store_id) WHERE k IS NOT NULL ON CONFLICT (group_key) DO UPDATE SET generation = generation + 1; END",
]

COPIED = ("id, kind, claim_id, activity_id, activity_store_id, store_id, amount, reverses_id, reverses_kind, reason, "
          "actor_id, posted_at, posted_on")


def _ledger_sqlite():
    """Renamed aside (its triggers and indexes go with it), made anew, copied in id order (a reversal after the
    payment it references), the old one dropped (one DELETE statement: the self-references go together)."""
    op.execute("ALTER TABLE ledger_lines RENAME TO _ledger_lines_0017")
    for name in ("ledger_lines_no_update", "roi_stale_ledger"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for name in ("ix_ledger_lines_activity_id", "ix_ledger_lines_activity_store_id", "ix_ledger_lines_claim_id",
                 "ix_ledger_lines_posted_on", "ix_ledger_lines_store_id", "uq_ledger_lines_one_payment_per_claim"):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute(LEDGER_SQLITE)
    op.execute(f"INSERT INTO ledger_lines ({COPIED}, category) SELECT {COPIED}, 'promotion' FROM _ledger_lines_0017 "
               "ORDER BY id")
    op.execute("DROP TABLE _ledger_lines_0017")
    for statement in LEDGER_SQLITE_AFTER:
        op.execute(statement)


def downgrade():
    # Travel lines cannot go back into a ledger whose lines all name a promotion claim: refuse rather than lose money.
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_index('uq_ledger_lines_one_payment_per_travel_claim', table_name='ledger_lines')
        op.drop_index('ix_ledger_lines_travel_claim_id', table_name='ledger_lines')
        op.drop_constraint('ck_ledger_lines_one_claim', 'ledger_lines', type_='check')
        op.drop_constraint('fk_ledger_lines_travel_claim_id_travel_claims', 'ledger_lines', type_='foreignkey')
        op.drop_column('ledger_lines', 'travel_claim_id')
        op.drop_column('ledger_lines', 'category')
        for column in NULLABLE:  # fails while travel lines exist: nothing is lost silently
            op.alter_column('ledger_lines', column, existing_type=sa.Integer(), nullable=False)
    else:
        raise NotImplementedError("0018_workday: the ledger's rebuild is not undone on SQLite; restore a backup")
    with op.batch_alter_table('travel_receipts') as batch_op:
        batch_op.drop_index('ix_travel_receipts_photo_id')
    op.drop_table('travel_receipts')
    with op.batch_alter_table('travel_claims') as batch_op:
        batch_op.drop_index('ix_travel_claims_status')
        batch_op.drop_index('ix_travel_claims_rep_id')
    op.drop_table('travel_claims')
    with op.batch_alter_table('workdays') as batch_op:
        batch_op.drop_index('ix_workdays_day')
    op.drop_table('workdays')
