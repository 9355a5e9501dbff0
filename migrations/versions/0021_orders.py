"""orders: orders to dealers from visits' order steps, their lines and their (append-only) status moves

Revision ID: 0021_orders
Revises: 0020_dealer_tiers
Create Date: 2027-01-21 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_orders'
down_revision = '0020_dealer_tiers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'orders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dealer_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=True),
        sa.Column('step_result_id', sa.Integer(), nullable=True),
        sa.Column('rep_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id']),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id']),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id']),
        sa.ForeignKeyConstraint(['step_result_id'], ['step_results.id']),
        sa.ForeignKeyConstraint(['rep_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('step_result_id'),
    )
    with op.batch_alter_table('orders') as batch_op:
        batch_op.create_index('ix_orders_dealer_id_status_placed_at', ['dealer_id', 'status', 'placed_at'],
                              unique=False)
        batch_op.create_index('ix_orders_store_id', ['store_id'], unique=False)
        batch_op.create_index('ix_orders_visit_id', ['visit_id'], unique=False)
    op.create_table(
        'order_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=True),
        sa.Column('sku', sa.String(length=60), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_price', sa.Integer(), nullable=False),
        sa.Column('delivered_quantity', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.ForeignKeyConstraint(['product_id'], ['products.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('order_id', 'line_no'),
    )
    op.create_table(
        'order_transitions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('from_status', sa.String(length=20), nullable=False),
        sa.Column('to_status', sa.String(length=20), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('order_transitions') as batch_op:
        batch_op.create_index('ix_order_transitions_order_id', ['order_id'], unique=False)


def downgrade():
    op.drop_table('order_transitions')
    op.drop_table('order_lines')
    op.drop_table('orders')
