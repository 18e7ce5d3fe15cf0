"""Record each location's size and digests.

A location is a copy that was verified when it was written; keeping
what was measured lets staged data (a location in the staging store)
be checked against every copy made from it.

Revision ID: 0002_location_digests
Revises: 0001_initial
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa

revision = '0002_location_digests'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('image_locations', sa.Column('size', sa.BigInteger))
    op.add_column('image_locations', sa.Column('checksum', sa.String(32)))
    op.add_column('image_locations',
                  sa.Column('os_hash_value', sa.String(128)))
