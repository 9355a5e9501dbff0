"""visits: indexes for Today, so its reads stay index probes however long the history grows

- (store_id, status, checkout_at): each store's last completed visit, read for all of a rep's
  stores on every Today (field/visits/planning.py _scan), is the top of one index range instead
  of a walk over every visit the store ever had;
- (rep_id, status, checkout_at): the rep's visits planned, in progress or completed today
  (_visits_today) are three index ranges instead of a walk over every visit the rep ever made.

Revision ID: 0008_visit_indexes
Revises: 0007_roi_figures
Create Date: 2026-12-01 18:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008_visit_indexes'
down_revision = '0007_roi_figures'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_store_id_status_checkout_at', ['store_id', 'status', 'checkout_at'],
                              unique=False)
        batch_op.create_index('ix_visits_rep_id_status_checkout_at', ['rep_id', 'status', 'checkout_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_rep_id_status_checkout_at')
        batch_op.drop_index('ix_visits_store_id_status_checkout_at')
