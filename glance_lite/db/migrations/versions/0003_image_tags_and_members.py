"""Image tags and image members.

A tag is a row of its own, keyed by (image, value), so adding one tag is
an INSERT the key makes exclusive and never rewrites the others. A
member row shares a 'shared' image with one project; the unique
(image_id, member) key makes a second membership of the same project
impossible, and the index on member serves the image listing, which
looks up the caller's memberships.

Both are hard-deleted: a removed tag or membership leaves nothing.

Revision ID: 0003_image_tags_and_members
Revises: 0002_location_digests
Create Date: 2026-11-26
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0003_image_tags_and_members'
down_revision = '0002_location_digests'
branch_labels = None
depends_on = None

_TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def _timestamp():
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    op.create_table(
        'image_tags',
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  primary_key=True),
        sa.Column('value', sa.String(255), primary_key=True),
        sa.Column('created_at', _timestamp(), nullable=False),
        **_TABLE_ARGS)

    op.create_table(
        'image_members',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('member', sa.String(255), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('created_at', _timestamp(), nullable=False),
        sa.Column('updated_at', _timestamp()),
        sa.UniqueConstraint('image_id', 'member',
                            name='uq_image_members_image_id_member'),
        **_TABLE_ARGS)
    op.create_index('ix_image_members_member', 'image_members', ['member'])
