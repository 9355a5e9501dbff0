"""competitors: the admin's competitor promotion types, and one row per competitor product sighted

- competitor_promotion_types: the list reps pick from (seeded with six common types, editable);
- competitor_sightings: derived from visits' competitor steps for the report, with a covering index
  in the order the report groups by (week, brand, promotion type, price; then region, channel, rep).

Revision ID: 0022_competitors
Revises: 0021_orders
Create Date: 2027-02-01 09:00:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_competitors'
down_revision = '0021_orders'
branch_labels = None
depends_on = None

DEFAULT_TYPES = [("特价", "Price cut"), ("买赠", "Buy and get"), ("捆绑装", "Bundle pack"), ("试吃试饮", "Tasting"),
                 ("抽奖/刮卡", "Lucky draw"), ("会员价", "Member price")]


def upgrade():
    types = op.create_table(
        'competitor_promotion_types',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('name_en', sa.String(length=60), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    at = datetime.now(timezone.utc)
    op.bulk_insert(types, [{"name": zh, "name_en": en, "active": True, "created_at": at} for zh, en in DEFAULT_TYPES])
    op.create_table(
        'competitor_sightings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('step_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('seen_on', sa.Date(), nullable=False),
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('brand', sa.String(length=60), nullable=False),
        sa.Column('product', sa.String(length=120), nullable=False),
        sa.Column('price', sa.Integer(), nullable=False),
        sa.Column('promotion_type_id', sa.Integer(), nullable=True),
        sa.Column('display', sa.String(length=20), nullable=False),
        sa.Column('facings', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['promotion_type_id'], ['competitor_promotion_types.id']),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id']),
        sa.ForeignKeyConstraint(['rep_id'], ['users.id']),
        sa.ForeignKeyConstraint(['step_id'], ['visit_steps.id']),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id']),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('competitor_sightings') as batch_op:
        batch_op.create_index('ix_competitor_sightings_week_prices',
                              ['week', 'brand', 'promotion_type_id', 'price', 'region_id', 'channel', 'rep_id'],
                              unique=False)
        batch_op.create_index('ix_competitor_sightings_seen_on_id', ['seen_on', 'id'], unique=False)
        batch_op.create_index('ix_competitor_sightings_visit_id_step_id', ['visit_id', 'step_id'], unique=False)
        batch_op.create_index('ix_competitor_sightings_store_id', ['store_id'], unique=False)


def downgrade():
    op.drop_table('competitor_sightings')
    op.drop_table('competitor_promotion_types')
