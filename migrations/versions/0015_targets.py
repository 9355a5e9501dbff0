"""sales_targets: monthly sales targets per region, split to reps and their stores

Revision ID: 0015_targets
Revises: 0014_alerts
Create Date: 2027-01-05 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_targets'
down_revision = '0014_alerts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sales_targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('level', sa.String(length=10), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=True),
        sa.Column('store_id', sa.Integer(), nullable=True),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('basis', sa.String(length=20), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('amount >= 0', name='ck_sales_targets_amount'),
        sa.ForeignKeyConstraint(['parent_id'], ['sales_targets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id']),
        sa.ForeignKeyConstraint(['rep_id'], ['users.id']),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id']),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('month', 'level', 'subject_id', name='uq_sales_targets_subject'),
    )
    with op.batch_alter_table('sales_targets') as batch_op:
        batch_op.create_index('ix_sales_targets_month', ['month'], unique=False)
        batch_op.create_index('ix_sales_targets_region_id', ['region_id'], unique=False)
        batch_op.create_index('ix_sales_targets_rep_id', ['rep_id'], unique=False)
        batch_op.create_index('ix_sales_targets_parent_id', ['parent_id'], unique=False)
    # Targets sum sales per store and month (Today's card): from the index alone.
    with op.batch_alter_table('sales') as batch_op:
        batch_op.create_index('ix_sales_store_day_amount', ['store_id', 'sold_on', 'amount'], unique=False)


def downgrade():
    with op.batch_alter_table('sales') as batch_op:
        batch_op.drop_index('ix_sales_store_day_amount')
    op.drop_table('sales_targets')
