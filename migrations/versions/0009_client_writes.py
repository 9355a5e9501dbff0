"""visits: writes replayed from the phone's outbox act once, and keep the phone's time

- client_writes: one row per write a phone names with its client id (check-in, step save or skip,
  objective, follow-up, check-out, photo); the unique client id makes a replay act no more, and the
  row keeps the phone's time (phone_at) beside the server's (received_at);
- visits.checkin_received_at / checkout_received_at: when the server got the check-in and the
  check-out (checkin_at / checkout_at are when the rep tapped);
- visits.checkout_position_at: the phone's fix time of the check-out position, as check-in has.

Columns are added in place (no table rebuild on SQLite), so the triggers on visits stay.

Revision ID: 0009_client_writes
Revises: 0008_visit_indexes
Create Date: 2026-12-06 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_client_writes'
down_revision = '0008_visit_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('client_writes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('phone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_client_writes_user_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_client_writes_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_writes')),
    sa.UniqueConstraint('client_id', name=op.f('uq_client_writes_client_id'))
    )
    op.create_index(op.f('ix_client_writes_user_id'), 'client_writes', ['user_id'], unique=False)
    op.create_index(op.f('ix_client_writes_visit_id'), 'client_writes', ['visit_id'], unique=False)
    op.add_column('visits', sa.Column('checkin_received_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('visits', sa.Column('checkout_position_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('visits', sa.Column('checkout_received_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('checkout_received_at')
        batch_op.drop_column('checkout_position_at')
        batch_op.drop_column('checkin_received_at')
    op.drop_index(op.f('ix_client_writes_visit_id'), table_name='client_writes')
    op.drop_index(op.f('ix_client_writes_user_id'), table_name='client_writes')
    op.drop_table('client_writes')
