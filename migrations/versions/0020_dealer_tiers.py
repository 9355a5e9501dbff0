"""dealer tiers: tiers and their criteria, dealers' monthly figures and payment records, tier proposals

Revision ID: 0020_dealer_tiers
Revises: 0019_incentives
Create Date: 2027-01-22 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_dealer_tiers'
down_revision = '0019_incentives'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'dealer_tiers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'dealer_tier_criteria',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tier_id', sa.Integer(), nullable=False),
        sa.Column('metric', sa.String(length=20), nullable=False),
        sa.Column('threshold', sa.Numeric(16, 2), nullable=False),
        sa.ForeignKeyConstraint(['tier_id'], ['dealer_tiers.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tier_id', 'metric', name='uq_dealer_tier_criteria_metric'),
    )
    with op.batch_alter_table('dealer_tier_criteria') as batch_op:
        batch_op.create_index('ix_dealer_tier_criteria_tier_id', ['tier_id'], unique=False)
    op.create_table(
        'dealer_months',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dealer_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('sales', sa.BigInteger(), nullable=False),
        sa.Column('stores', sa.Integer(), nullable=False),
        sa.Column('on_schedule', sa.Integer(), nullable=False),
        sa.Column('periods', sa.Integer(), nullable=False),
        sa.Column('approved', sa.Integer(), nullable=False),
        sa.Column('payments', sa.Integer(), nullable=False),
        sa.Column('on_time', sa.Integer(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dealer_id', 'month', name='uq_dealer_months_month'),
    )
    with op.batch_alter_table('dealer_months') as batch_op:
        batch_op.create_index('ix_dealer_months_dealer_id', ['dealer_id'], unique=False)
    op.create_table(
        'dealer_payments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dealer_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('on_time', sa.Boolean(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id']),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('dealer_payments') as batch_op:
        batch_op.create_index('ix_dealer_payments_dealer_id', ['dealer_id'], unique=False)
    op.create_table(
        'dealer_tier_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dealer_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('from_tier', sa.String(length=40), nullable=False),
        sa.Column('to_tier', sa.String(length=40), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dealer_id', 'month', name='uq_dealer_tier_proposals_month'),
    )
    with op.batch_alter_table('dealer_tier_proposals') as batch_op:
        batch_op.create_index('ix_dealer_tier_proposals_dealer_id', ['dealer_id'], unique=False)
        batch_op.create_index('ix_dealer_tier_proposals_status', ['status'], unique=False)


def downgrade():
    op.drop_table('dealer_tier_proposals')
    op.drop_table('dealer_payments')
    op.drop_table('dealer_months')
    op.drop_table('dealer_tier_criteria')
    op.drop_table('dealer_tiers')
