"""Metadata definitions: namespaces and their objects, properties, tags.

A namespace is unique by name in the whole catalogue; its objects,
properties and tags each by name within it, and resource types by name.
These unique keys are what make a duplicate create or rename fail with
a conflict however requests interleave. Rows are hard-deleted: a
deleted namespace takes its contents and associations with it.

Revision ID: 0006_metadefs
Revises: 0005_staged_data_inspection
Create Date: 2026-12-01
"""

from alembic import op
from oslo_db.sqlalchemy import types as oslo_types
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0006_metadefs'
down_revision = '0005_staged_data_inspection'
branch_labels = None
depends_on = None

_TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def _timestamps():
    timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
    return [sa.Column('created_at', timestamp, nullable=False),
            sa.Column('updated_at', timestamp)]


def _namespace_id(**kwargs):
    return sa.Column('namespace_id', sa.Integer,
                     sa.ForeignKey('metadef_namespaces.id'), **kwargs)


def _id():
    return sa.Column('id', sa.Integer, primary_key=True, autoincrement=True)


def upgrade():
    op.create_table(
        'metadef_namespaces',
        _id(),
        sa.Column('namespace', sa.String(80), nullable=False),
        sa.Column('display_name', sa.String(80)),
        sa.Column('description', sa.Text),
        sa.Column('visibility', sa.String(32), nullable=False),
        sa.Column('protected', sa.Boolean, nullable=False),
        sa.Column('owner', sa.String(255)),
        *_timestamps(),
        sa.UniqueConstraint('namespace',
                            name='uq_metadef_namespaces_namespace'),
        **_TABLE_ARGS)
    op.create_index('ix_metadef_namespaces_owner', 'metadef_namespaces',
                    ['owner'])

    op.create_table(
        'metadef_objects',
        _id(),
        _namespace_id(nullable=False),
        sa.Column('name', sa.String(80), nullable=False),
        sa.Column('description', sa.Text),
        sa.Column('required', oslo_types.JsonEncodedList),
        sa.Column('properties', oslo_types.JsonEncodedDict),
        *_timestamps(),
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_objects_namespace_id_name'),
        **_TABLE_ARGS)

    op.create_table(
        'metadef_properties',
        _id(),
        _namespace_id(nullable=False),
        sa.Column('name', sa.String(80), nullable=False),
        sa.Column('definition', oslo_types.JsonEncodedDict, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_properties_namespace_id_name'),
        **_TABLE_ARGS)

    op.create_table(
        'metadef_tags',
        _id(),
        _namespace_id(nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_tags_namespace_id_name'),
        **_TABLE_ARGS)

    op.create_table(
        'metadef_resource_types',
        _id(),
        sa.Column('name', sa.String(80), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('name', name='uq_metadef_resource_types_name'),
        **_TABLE_ARGS)

    op.create_table(
        'metadef_namespace_resource_types',
        _namespace_id(primary_key=True),
        sa.Column('resource_type_id', sa.Integer,
                  sa.ForeignKey('metadef_resource_types.id'),
                  primary_key=True),
        sa.Column('prefix', sa.String(80)),
        sa.Column('properties_target', sa.String(80)),
        *_timestamps(),
        **_TABLE_ARGS)
