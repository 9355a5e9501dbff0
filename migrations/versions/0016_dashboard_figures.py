"""visits: covering indexes for the dashboards, so their figures read index ranges, not the table

- (status, checkin_at, rep_id, store_id, checkout_at): visits per rep per day and time in store
  (field/home/dashboards.py visit_rows) read one range of it per period, every column they need
  in the index, instead of fetching each visit's row;
- (status, checkout_at, store_id): coverage on PostgreSQL reads the stores' last visits of the
  month before a period's end as one range of it (dashboards._recent_visits), then probes
  ix_visits_store_id_status_checkout_at only for the stores not visited in that month.

Revision ID: 0016_dashboard_figures
Revises: 0015_targets
Create Date: 2027-01-08 09:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016_dashboard_figures'
down_revision = '0015_targets'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_status_checkin_at_rep_id_store_id_checkout_at',
                              ['status', 'checkin_at', 'rep_id', 'store_id', 'checkout_at'], unique=False)
        batch_op.create_index('ix_visits_status_checkout_at_store_id', ['status', 'checkout_at', 'store_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_status_checkout_at_store_id')
        batch_op.drop_index('ix_visits_status_checkin_at_rep_id_store_id_checkout_at')
