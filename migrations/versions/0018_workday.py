"""workday: the rep's working day (start, end, position, flags)

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


def downgrade():
    with op.batch_alter_table('workdays') as batch_op:
        batch_op.drop_index('ix_workdays_day')
    op.drop_table('workdays')
