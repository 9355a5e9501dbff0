"""photo_windows: window hashes, so a copy cropped up to 10 % a side is found as a near copy

Each new photo keeps 16 hashes of windows of itself (field/photos/phash.py, "Windows"), each cut
in three bands, each band indexed with what a lookup reads. Photos stored before keep matching by
their whole-image hash (photos.phash) only: they get no windows (no backfill).

Revision ID: 0011_photo_windows
Revises: 0010_session_version
Create Date: 2026-12-21 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_photo_windows'
down_revision = '0010_session_version'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'photo_windows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('photo_id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('hash', sa.BigInteger(), nullable=False),
        sa.Column('band0', sa.Integer(), nullable=False),
        sa.Column('band1', sa.Integer(), nullable=False),
        sa.Column('band2', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_photo_windows_photo_id_photos')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_windows')),
    )
    op.create_index('ix_photo_windows_photo', 'photo_windows', ['photo_id'])
    for i in range(3):
        op.create_index(f'ix_photo_windows_band{i}', 'photo_windows', [f'band{i}', 'hash', 'visit_id', 'photo_id'])


def downgrade():
    op.drop_table('photo_windows')
