"""own photos: stand-alone travel receipts and the start/end-of-day selfies (issue 16)

own_photos holds the photos a rep takes of no store (a receipt, a selfie), through the photo pipeline;
expense_receipts the receipts a rep adds on their own (kind, amount, day, photo; voided, never deleted);
travel_claim_receipts which claim took which of them. workdays gains start_photo_id and end_photo_id: on
SQLite a plain ADD COLUMN with its REFERENCES inline (as 0017 did), not a batch copy of the table.

Revision ID: 0023_own_photos
Revises: 0022_competitors
Create Date: 2027-02-01 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_own_photos'
down_revision = '0022_competitors'
branch_labels = None
depends_on = None

WORKDAY_PHOTOS = ('start_photo_id', 'end_photo_id')


def upgrade():
    op.create_table(
        'own_photos',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=36), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=10), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=20), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('bytes', sa.Integer(), nullable=False),
        sa.Column('original_key', sa.String(length=200), nullable=False),
        sa.Column('display_key', sa.String(length=200), nullable=False),
        sa.Column('thumb_key', sa.String(length=200), nullable=False),
        sa.Column('exif_taken_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('phone_lat', sa.Float(), nullable=True),
        sa.Column('phone_lng', sa.Float(), nullable=True),
        sa.Column('phone_accuracy_m', sa.Float(), nullable=True),
        sa.Column('phone_captured_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('flags', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['rep_id'], ['users.id'], name=op.f('fk_own_photos_rep_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_own_photos')),
        sa.UniqueConstraint('client_id', name=op.f('uq_own_photos_client_id')),
    )
    with op.batch_alter_table('own_photos') as batch_op:
        batch_op.create_index('ix_own_photos_rep_id', ['rep_id'], unique=False)
        batch_op.create_index('ix_own_photos_sha256', ['sha256'], unique=False)
    op.create_table(
        'expense_receipts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('photo_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('spent_on', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('voided_by_id', sa.Integer(), nullable=True),
        sa.Column('void_reason', sa.Text(), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_expense_receipts_amount_positive')),
        sa.ForeignKeyConstraint(['photo_id'], ['own_photos.id'], name=op.f('fk_expense_receipts_photo_id_own_photos')),
        sa.ForeignKeyConstraint(['rep_id'], ['users.id'], name=op.f('fk_expense_receipts_rep_id_users')),
        sa.ForeignKeyConstraint(['voided_by_id'], ['users.id'], name=op.f('fk_expense_receipts_voided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_expense_receipts')),
        sa.UniqueConstraint('photo_id', name=op.f('uq_expense_receipts_photo_id')),
    )
    with op.batch_alter_table('expense_receipts') as batch_op:
        batch_op.create_index('ix_expense_receipts_rep_id', ['rep_id'], unique=False)
    op.create_table(
        'travel_claim_receipts',
        sa.Column('travel_claim_id', sa.Integer(), nullable=False),
        sa.Column('receipt_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['receipt_id'], ['expense_receipts.id'],
                                name=op.f('fk_travel_claim_receipts_receipt_id_expense_receipts')),
        sa.ForeignKeyConstraint(['travel_claim_id'], ['travel_claims.id'],
                                name=op.f('fk_travel_claim_receipts_travel_claim_id_travel_claims')),
        sa.PrimaryKeyConstraint('travel_claim_id', 'receipt_id', name=op.f('pk_travel_claim_receipts')),
    )
    with op.batch_alter_table('travel_claim_receipts') as batch_op:
        batch_op.create_index('ix_travel_claim_receipts_receipt_id', ['receipt_id'], unique=False)
    for column in WORKDAY_PHOTOS:
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE workdays ADD COLUMN {column} INTEGER REFERENCES own_photos (id)')
        else:
            op.add_column('workdays', sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(f'fk_workdays_{column}_own_photos', 'workdays', 'own_photos', [column], ['id'])


def downgrade():
    for column in WORKDAY_PHOTOS:
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE workdays DROP COLUMN {column}')
        else:
            op.drop_constraint(f'fk_workdays_{column}_own_photos', 'workdays', type_='foreignkey')
            op.drop_column('workdays', column)
    with op.batch_alter_table('travel_claim_receipts') as batch_op:
        batch_op.drop_index('ix_travel_claim_receipts_receipt_id')
    op.drop_table('travel_claim_receipts')
    with op.batch_alter_table('expense_receipts') as batch_op:
        batch_op.drop_index('ix_expense_receipts_rep_id')
    op.drop_table('expense_receipts')
    with op.batch_alter_table('own_photos') as batch_op:
        batch_op.drop_index('ix_own_photos_sha256')
        batch_op.drop_index('ix_own_photos_rep_id')
    op.drop_table('own_photos')
