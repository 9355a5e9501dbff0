"""photos.taken_at_source: where a photo's capture time (and its offset) came from

exif_offset (EXIF time with its own offset), gps (offset derived from the photo's GPS clock), xmp (an
XMP date with its own offset), zone (no offset anywhere: read in the rep's zone); NULL: no capture time.
Photos already stored knew only the first and the last: they get those from exif_utc_offset_min.

Revision ID: 0012_capture_time_source
Revises: 0011_photo_windows
Create Date: 2026-12-28 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_capture_time_source'
down_revision = '0011_photo_windows'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('photos', sa.Column('taken_at_source', sa.String(length=12), nullable=True))
    op.execute("UPDATE photos SET taken_at_source = CASE WHEN exif_utc_offset_min IS NULL THEN 'zone' "
               "ELSE 'exif_offset' END WHERE exif_taken_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('photos') as batch_op:
        batch_op.drop_column('taken_at_source')
