"""SQLAlchemy models of glance-lite's schema.

The schema is changed only through alembic migrations in
``glance_lite/db/migrations``; a test compares these models with the
migrated schema on every backend.

Exclusivity is the database's job here: the import lock's primary key,
the one-location-per-store, one-property-per-name and
one-membership-per-project unique constraints and the one-row-per-element
marker and tag tables are what make the primitives in
``glance_lite.db.api`` atomic.
"""

from oslo_db.sqlalchemy import types as oslo_types
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy import orm
from taskflow.persistence.backends.sqlalchemy import tables as taskflow_tables

# Heartbeats are compared against a TTL, so keep sub-second precision;
# MySQL's DATETIME drops fractions unless asked.
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')

_TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


class Base(orm.DeclarativeBase):
    pass


class Image(Base):
    __tablename__ = 'images'
    __table_args__ = (
        sa.Index('ix_images_owner', 'owner'),
        sa.Index('ix_images_status', 'status'),
        sa.Index('ix_images_visibility', 'visibility'),
        sa.Index('ix_images_os_hash_value', 'os_hash_value'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.String(36), primary_key=True)
    name = sa.Column(sa.String(255))
    status = sa.Column(sa.String(30), nullable=False)
    visibility = sa.Column(sa.String(20), nullable=False)
    owner = sa.Column(sa.String(255))
    size = sa.Column(sa.BigInteger)
    virtual_size = sa.Column(sa.BigInteger)
    checksum = sa.Column(sa.String(32))
    os_hash_algo = sa.Column(sa.String(64))
    os_hash_value = sa.Column(sa.String(128))
    disk_format = sa.Column(sa.String(20))
    container_format = sa.Column(sa.String(20))
    min_disk = sa.Column(sa.Integer, nullable=False)
    min_ram = sa.Column(sa.Integer, nullable=False)
    protected = sa.Column(sa.Boolean, nullable=False)
    os_hidden = sa.Column(sa.Boolean, nullable=False)
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp)
    deleted_at = sa.Column(Timestamp)
    deleted = sa.Column(sa.Boolean, nullable=False)


class ImageProperty(Base):
    """A scalar custom property; at most one row per image and name."""

    __tablename__ = 'image_properties'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'name',
                            name='uq_image_properties_image_id_name'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    value = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp)


class ImageMarkerElement(Base):
    """One element of a list-valued marker such as os_glance_failed_import.

    A row per element, not a comma-joined string, so that adding or
    removing one element is one INSERT or DELETE that cannot overwrite
    what another writer added at the same moment.
    """

    __tablename__ = 'image_marker_elements'
    __table_args__ = (_TABLE_ARGS,)

    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         primary_key=True)
    marker = sa.Column(sa.String(255), primary_key=True)
    element = sa.Column(sa.String(255), primary_key=True)
    created_at = sa.Column(Timestamp, nullable=False)


class ImageLocation(Base):
    """Where a complete, verified copy of an image lives; one per store."""

    __tablename__ = 'image_locations'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'store',
                            name='uq_image_locations_image_id_store'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    store = sa.Column(sa.String(255), nullable=False)
    url = sa.Column(sa.Text, nullable=False)
    status = sa.Column(sa.String(30), nullable=False)
    size = sa.Column(sa.BigInteger)
    checksum = sa.Column(sa.String(32))
    os_hash_value = sa.Column(sa.String(128))
    # The import task that wrote this copy; None for staged data.
    task_id = sa.Column(sa.String(36))
    # Staged data only: the format its inspection found (None: not
    # inspected; refused data is never staged) and its virtual size.
    inspected_format = sa.Column(sa.String(20))
    virtual_size = sa.Column(sa.BigInteger)
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp)


class ImageTag(Base):
    """One tag of an image; a row per tag, like the marker elements."""

    __tablename__ = 'image_tags'
    __table_args__ = (_TABLE_ARGS,)

    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         primary_key=True)
    value = sa.Column(sa.String(255), primary_key=True)
    created_at = sa.Column(Timestamp, nullable=False)


class ImageMember(Base):
    """A project a 'shared' image is shared with, and its answer.

    ``status`` is 'pending', 'accepted' or 'rejected'; at most one row
    per image and project.
    """

    __tablename__ = 'image_members'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'member',
                            name='uq_image_members_image_id_member'),
        sa.Index('ix_image_members_member', 'member'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    member = sa.Column(sa.String(255), nullable=False)
    status = sa.Column(sa.String(20), nullable=False)
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp)


class Task(Base):
    __tablename__ = 'tasks'
    __table_args__ = (
        sa.Index('ix_tasks_image_id', 'image_id'),
        sa.Index('ix_tasks_owner', 'owner'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.String(36), primary_key=True)
    type = sa.Column(sa.String(30), nullable=False)
    status = sa.Column(sa.String(30), nullable=False)
    owner = sa.Column(sa.String(255))
    # Not a foreign key: a task is history and outlives a purged image.
    image_id = sa.Column(sa.String(36))
    input = sa.Column(oslo_types.JsonEncodedDict, nullable=False)
    result = sa.Column(oslo_types.JsonEncodedDict)
    message = sa.Column(sa.Text, nullable=False)
    # The request that started the task, and its user.
    request_id = sa.Column(sa.String(64))
    user_id = sa.Column(sa.String(255))
    expires_at = sa.Column(Timestamp)
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp)
    deleted_at = sa.Column(Timestamp)
    deleted = sa.Column(sa.Boolean, nullable=False)


class ImportLock(Base):
    """The right to import one image into one store.

    The primary key makes a second lock for the same (image, store)
    impossible; ``task_id`` names the owner and ``heartbeat_at`` tells
    whether the owner is still alive. ``owner_host`` and ``owner_pid``
    name the process that runs the owner, and ``bytes_done`` of
    ``bytes_total`` how far its data has moved into this store, for the
    operator and for the message of a task found dead. ``lease`` names
    the run of the task that holds the lock: the task's id for a run in
    the API process, a lease of its own for each conductor that runs
    it, so that a conductor whose job was taken over is fenced off.
    """

    __tablename__ = 'import_locks'
    __table_args__ = (_TABLE_ARGS,)

    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         primary_key=True)
    store = sa.Column(sa.String(255), primary_key=True)
    task_id = sa.Column(sa.String(36), nullable=False)
    acquired_at = sa.Column(Timestamp, nullable=False)
    heartbeat_at = sa.Column(Timestamp, nullable=False)
    owner_host = sa.Column(sa.String(255))
    owner_pid = sa.Column(sa.Integer)
    bytes_done = sa.Column(sa.BigInteger)
    bytes_total = sa.Column(sa.BigInteger)
    lease = sa.Column(sa.String(64), nullable=False)


# Metadata definitions (metadefs): a catalogue of the properties and tags
# that images, volumes, flavors... may carry, grouped in namespaces.
# Names are what clients address these by, so each name is unique where
# the API looks it up: a namespace in the whole catalogue, an object,
# property or tag within its namespace, a resource type in the whole
# catalogue. The unique constraints make "create" and "rename" decide
# duplicates in the database, whatever runs concurrently.


class MetadefNamespace(Base):
    __tablename__ = 'metadef_namespaces'
    __table_args__ = (
        sa.UniqueConstraint('namespace',
                            name='uq_metadef_namespaces_namespace'),
        sa.Index('ix_metadef_namespaces_owner', 'owner'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace = sa.Column(sa.String(80), nullable=False)
    display_name = sa.Column(sa.String(80))
    description = sa.Column(sa.Text)
    visibility = sa.Column(sa.String(32), nullable=False)
    protected = sa.Column(sa.Boolean, nullable=False)
    owner = sa.Column(sa.String(255))
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp)


class MetadefObject(Base):
    """A named group of property definitions inside a namespace."""

    __tablename__ = 'metadef_objects'
    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_objects_namespace_id_name'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id = sa.Column(sa.Integer,
                             sa.ForeignKey('metadef_namespaces.id'),
                             nullable=False)
    name = sa.Column(sa.String(80), nullable=False)
    description = sa.Column(sa.Text)
    # The names of the object's properties that are required.
    required = sa.Column(oslo_types.JsonEncodedList)
    # Its property definitions, by name, as the API shows them.
    properties = sa.Column(oslo_types.JsonEncodedDict)
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp)


class MetadefProperty(Base):
    """One property definition of a namespace (a JSON-schema fragment)."""

    __tablename__ = 'metadef_properties'
    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_properties_namespace_id_name'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id = sa.Column(sa.Integer,
                             sa.ForeignKey('metadef_namespaces.id'),
                             nullable=False)
    name = sa.Column(sa.String(80), nullable=False)
    # Everything but the name: title, type, enum, bounds...
    definition = sa.Column(oslo_types.JsonEncodedDict, nullable=False)
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp)


class MetadefTag(Base):
    __tablename__ = 'metadef_tags'
    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_tags_namespace_id_name'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id = sa.Column(sa.Integer,
                             sa.ForeignKey('metadef_namespaces.id'),
                             nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp)


class MetadefResourceType(Base):
    """A kind of resource namespaces apply to, such as OS::Glance::Image."""

    __tablename__ = 'metadef_resource_types'
    __table_args__ = (
        sa.UniqueConstraint('name', name='uq_metadef_resource_types_name'),
        _TABLE_ARGS,
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    name = sa.Column(sa.String(80), nullable=False)
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp)


class MetadefNamespaceResourceType(Base):
    """A namespace's association with a resource type; one per pair.

    ``prefix`` is prepended to the namespace's property names when they
    are applied to that resource type; ``properties_target`` says where
    on the resource they go (such as a volume's image metadata).
    """

    __tablename__ = 'metadef_namespace_resource_types'
    __table_args__ = (_TABLE_ARGS,)

    namespace_id = sa.Column(sa.Integer,
                             sa.ForeignKey('metadef_namespaces.id'),
                             primary_key=True)
    resource_type_id = sa.Column(sa.Integer,
                                 sa.ForeignKey('metadef_resource_types.id'),
                                 primary_key=True)
    prefix = sa.Column(sa.String(80))
    properties_target = sa.Column(sa.String(80))
    created_at = sa.Column(Timestamp, nullable=False)
    updated_at = sa.Column(Timestamp)


# TaskFlow's persistence of import flows run by conductors (logbooks,
# flowdetails, atomdetails), as TaskFlow itself defines them: its
# SQLAlchemy backend reads and writes them (glance_lite.imports.jobs).
taskflow_tables.fetch(Base.metadata)
