"""Initial schema: images, properties, markers, locations, tasks, locks.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None

_TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def _timestamp():
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    op.create_table(
        'images',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255)),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('visibility', sa.String(20), nullable=False),
        sa.Column('owner', sa.String(255)),
        sa.Column('size', sa.BigInteger),
        sa.Column('virtual_size', sa.BigInteger),
        sa.Column('checksum', sa.String(32)),
        sa.Column('os_hash_algo', sa.String(64)),
        sa.Column('os_hash_value', sa.String(128)),
        sa.Column('disk_format', sa.String(20)),
        sa.Column('container_format', sa.String(20)),
        sa.Column('min_disk', sa.Integer, nullable=False),
        sa.Column('min_ram', sa.Integer, nullable=False),
        sa.Column('protected', sa.Boolean, nullable=False),
        sa.Column('os_hidden', sa.Boolean, nullable=False),
        sa.Column('created_at', _timestamp(), nullable=False),
        sa.Column('updated_at', _timestamp()),
        sa.Column('deleted_at', _timestamp()),
        sa.Column('deleted', sa.Boolean, nullable=False),
        **_TABLE_ARGS)
    op.create_index('ix_images_owner', 'images', ['owner'])
    op.create_index('ix_images_status', 'images', ['status'])
    op.create_index('ix_images_visibility', 'images', ['visibility'])
    op.create_index('ix_images_os_hash_value', 'images', ['os_hash_value'])

    op.create_table(
        'image_properties',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('value', sa.Text, nullable=False),
        sa.Column('created_at', _timestamp(), nullable=False),
        sa.Column('updated_at', _timestamp()),
        sa.UniqueConstraint('image_id', 'name',
                            name='uq_image_properties_image_id_name'),
        **_TABLE_ARGS)

    op.create_table(
        'image_marker_elements',
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  primary_key=True),
        sa.Column('marker', sa.String(255), primary_key=True),
        sa.Column('element', sa.String(255), primary_key=True),
        sa.Column('created_at', _timestamp(), nullable=False),
        **_TABLE_ARGS)

    op.create_table(
        'image_locations',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('store', sa.String(255), nullable=False),
        sa.Column('url', sa.Text, nullable=False),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('created_at', _timestamp(), nullable=False),
        sa.Column('updated_at', _timestamp()),
        sa.UniqueConstraint('image_id', 'store',
                            name='uq_image_locations_image_id_store'),
        **_TABLE_ARGS)

    op.create_table(
        'tasks',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('type', sa.String(30), nullable=False),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('owner', sa.String(255)),
        sa.Column('image_id', sa.String(36)),
        sa.Column('input', sa.Text, nullable=False),
        sa.Column('result', sa.Text),
        sa.Column('message', sa.Text, nullable=False),
        sa.Column('expires_at', _timestamp()),
        sa.Column('created_at', _timestamp(), nullable=False),
        sa.Column('updated_at', _timestamp()),
        sa.Column('deleted_at', _timestamp()),
        sa.Column('deleted', sa.Boolean, nullable=False),
        **_TABLE_ARGS)
    op.create_index('ix_tasks_image_id', 'tasks', ['image_id'])
    op.create_index('ix_tasks_owner', 'tasks', ['owner'])

    op.create_table(
        'import_locks',
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  primary_key=True),
        sa.Column('store', sa.String(255), primary_key=True),
        sa.Column('task_id', sa.String(36), nullable=False),
        sa.Column('acquired_at', _timestamp(), nullable=False),
        sa.Column('heartbeat_at', _timestamp(), nullable=False),
        **_TABLE_ARGS)
