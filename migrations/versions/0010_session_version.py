"""users.session_version: sessions that can be revoked

Every signed-in session keeps the user's session_version of when it began; a password change, an
admin reset or deactivation, a sign-out or "sign out everywhere" raises it, and a session whose
version is behind is signed out on its next request. Existing users start at 0 — the version a
session that never stored one counts as.

Revision ID: 0010_session_version
Revises: 0009_client_writes
Create Date: 2026-12-20 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_session_version'
down_revision = '0009_client_writes'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('session_version')
