"""dealers: a record per dealer; stores.dealer_id and users.dealer_id (the dealer role)

Revision ID: 0017_dealers
Revises: 0016_dashboard_figures
Create Date: 2027-01-20 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_dealers'
down_revision = '0016_dashboard_figures'
branch_labels = None
depends_on = None


def _add_dealer_id(table):
    """A plain ADD COLUMN with its REFERENCES inline: SQLite's batch copy of the table would trip the
    triggers that name it, and Alembic cannot add a constraint to a SQLite table."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {table} ADD COLUMN dealer_id INTEGER REFERENCES dealers (id)')
    else:
        op.add_column(table, sa.Column('dealer_id', sa.Integer(), nullable=True))
        op.create_foreign_key(f'fk_{table}_dealer_id', table, 'dealers', ['dealer_id'], ['id'])


def upgrade():
    op.create_table(
        'dealers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('contact_name', sa.String(length=120), nullable=False),
        sa.Column('phone', sa.String(length=40), nullable=False),
        sa.Column('address', sa.String(length=400), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('tier', sa.String(length=40), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    with op.batch_alter_table('dealers') as batch_op:
        batch_op.create_index('ix_dealers_name', ['name'], unique=False)
        batch_op.create_index('ix_dealers_region_id', ['region_id'], unique=False)
    _add_dealer_id('stores')
    op.create_index('ix_stores_dealer_id', 'stores', ['dealer_id'], unique=False)
    _add_dealer_id('users')
    op.create_index('ix_users_dealer_id', 'users', ['dealer_id'], unique=False)


def downgrade():
    op.drop_index('ix_users_dealer_id', table_name='users')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_users_dealer_id', 'users', type_='foreignkey')
    op.drop_column('users', 'dealer_id')
    op.drop_index('ix_stores_dealer_id', table_name='stores')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_stores_dealer_id', 'stores', type_='foreignkey')
    op.drop_column('stores', 'dealer_id')
    op.drop_table('dealers')
