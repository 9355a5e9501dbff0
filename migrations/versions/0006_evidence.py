"""evidence bound to activity stores and check periods; reviews that name what they follow

- evidence: a photo (unique) or a checklist alone, bound to one activity store and period;
- reviews.previous_id: the review each one follows (0 for the first), unique per store and
  period, so two reviewers who saw the same state cannot both append; existing rows are
  chained in id order;
- reviews.evidence_upto: the newest evidence id a review covered (0 for existing rows).

Revision ID: 0006_evidence
Revises: 0005_claims
Create Date: 2026-11-24 09:12:40.118305

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_evidence'
down_revision = '0005_claims'
branch_labels = None
depends_on = None

CHAIN_EXISTING = """
UPDATE reviews SET previous_id = COALESCE((
    SELECT MAX(earlier.id) FROM reviews AS earlier
    WHERE earlier.activity_store_id = reviews.activity_store_id
      AND earlier.period_index = reviews.period_index AND earlier.id < reviews.id), 0)
"""


def upgrade():
    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=True),
    sa.Column('activity_store_id', sa.Integer(), nullable=False),
    sa.Column('period_index', sa.Integer(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('unconfirmed', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_store_id'], ['activity_stores.id'], name=op.f('fk_evidence_activity_store_id_activity_stores')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_evidence_created_by_id_users')),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_evidence_photo_id_photos')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('photo_id', name=op.f('uq_evidence_photo_id'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_activity_store_id_period_index', ['activity_store_id', 'period_index', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_created_by_id'), ['created_by_id'], unique=False)

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_id', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('evidence_upto', sa.Integer(), nullable=False, server_default='0'))
    op.execute(CHAIN_EXISTING)
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        # The models give the values; the defaults were there to fill the rows already stored.
        batch_op.alter_column('previous_id', server_default=None)
        batch_op.alter_column('evidence_upto', server_default=None)
        batch_op.create_unique_constraint('uq_reviews_previous', ['activity_store_id', 'period_index', 'previous_id'])


def downgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reviews_previous', type_='unique')
        batch_op.drop_column('evidence_upto')
        batch_op.drop_column('previous_id')

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_created_by_id'))
        batch_op.drop_index('ix_evidence_activity_store_id_period_index')

    op.drop_table('evidence')
