"""Every SQL statement of the metadata definitions catalogue (metadefs).

The same rules as ``glance_lite.db.api``, whose enginefacade context,
retry wrapper and keyset paging this module shares: each public function
is one transaction, takes the caller's context first and hands back
plain dicts.

Namespaces are addressed by name, and a name the caller may not see is
not found: a private namespace exists only for its owner's project and
for administrators. Objects, properties and tags are "contents" of a
namespace, each kind in a table of its own but handled by the same
functions, keyed by (namespace, name).

Uniqueness is the database's: creating or renaming onto a name that is
taken fails on the unique key, whatever runs at the same moment, and
becomes ``Duplicate``. A change to a namespace's contents first
share-locks the namespace row, and deleting a namespace first
write-locks it, so a content created concurrently with its namespace's
deletion either is deleted with it or finds the namespace gone; and
the ``protected`` flag read under that lock cannot change before the
deletion it allows commits.
"""

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from glance_lite.common import exception
from glance_lite.db import api
from glance_lite.db import models

_namespaces = models.MetadefNamespace.__table__
_resource_types = models.MetadefResourceType.__table__
_associations = models.MetadefNamespaceResourceType.__table__

# The tables of a namespace's contents, by the kind the API names.
CONTENT_TABLES = {
    'object': models.MetadefObject.__table__,
    'property': models.MetadefProperty.__table__,
    'tag': models.MetadefTag.__table__,
}
# Sort keys of the namespace listing; ``namespace`` is unique, so it
# ends every order and makes paging exact.
NAMESPACE_SORT_KEYS = ('namespace', 'created_at', 'updated_at',
                       'display_name', 'visibility')
NAMESPACE_COLUMNS = ('namespace', 'display_name', 'description',
                     'visibility', 'protected', 'owner')

_writer = api.main_context_manager.writer
_reader = api.main_context_manager.reader


def _visible(context):
    """WHERE clause: the namespaces the caller may see."""
    if context.is_admin:
        return sa.true()
    return sa.or_(_namespaces.c.visibility == 'public',
                  api._owned_by_caller(context, _namespaces))


def _namespace_row(session, context, namespace, lock=None):
    """The namespace row the caller may see; MetadefNamespaceNotFound.

    ``lock`` 'share' keeps the row (and its ``protected`` flag) as it is
    until we commit, and makes a concurrent deletion wait for us.
    """
    query = sa.select(_namespaces).where(
        _namespaces.c.namespace == namespace, _visible(context))
    if lock == 'share':
        query = query.with_for_update(read=True)
    row = session.execute(query).mappings().first()
    if row is None:
        raise exception.MetadefNamespaceNotFound(namespace=namespace)
    return row


def _duplicate(what):
    return exception.Duplicate(what=what)


# Resource types


@api._db_operation
def resource_type_ensure(context, name):
    """Create resource type ``name`` unless it exists; True if created.

    Its own transaction, so a concurrent creator's duplicate aborts
    nothing else: of two, one creates it and the other finds it there.
    Resource types are never deleted, so once this returns, it exists.
    """
    now = timeutils.utcnow()
    try:
        with _writer.using(context) as session:
            session.execute(sa.insert(_resource_types).values(
                name=name, created_at=now, updated_at=now))
    except db_exc.DBDuplicateEntry:
        return False
    return True


@api._db_operation
def resource_type_list(context):
    """Every resource type, by name."""
    with _reader.using(context) as session:
        return [dict(row) for row in session.execute(
            sa.select(_resource_types.c.name, _resource_types.c.created_at,
                      _resource_types.c.updated_at).order_by(
                _resource_types.c.name)).mappings()]


def _association_rows(session, namespace_ids):
    """{namespace id: [its associations]}, with the resource type names."""
    found = {namespace_id: [] for namespace_id in namespace_ids}
    if not found:
        return found
    rows = session.execute(
        sa.select(_associations, _resource_types.c.name).join(
            _resource_types,
            _resource_types.c.id == _associations.c.resource_type_id
        ).where(_associations.c.namespace_id.in_(list(found))).order_by(
            _resource_types.c.name)).mappings()
    for row in rows:
        found[row['namespace_id']].append(
            {key: row[key] for key in ('name', 'prefix', 'properties_target',
                                       'created_at', 'updated_at')})
    return found


def _associate(session, namespace_id, association, now):
    """INSERT one association, naming the (existing) resource type."""
    source = sa.select(
        sa.literal(namespace_id), _resource_types.c.id,
        sa.literal(association.get('prefix'), sa.String),
        sa.literal(association.get('properties_target'), sa.String),
        sa.literal(now, models.Timestamp), sa.literal(now, models.Timestamp),
    ).where(_resource_types.c.name == association['name'])
    return session.execute(sa.insert(_associations).from_select(
        ['namespace_id', 'resource_type_id', 'prefix', 'properties_target',
         'created_at', 'updated_at'], source)).rowcount


@api._db_operation
def association_create(context, namespace, association):
    """Associate the namespace with a resource type (created if new).

    ``association`` has ``name`` and may have ``prefix`` and
    ``properties_target``. Duplicate if they are associated already.
    """
    resource_type_ensure(context, association['name'])
    now = timeutils.utcnow()
    try:
        with _writer.using(context) as session:
            row = _namespace_row(session, context, namespace, lock='share')
            _associate(session, row['id'], association, now)
            return _association_rows(session, [row['id']])[row['id']]
    except db_exc.DBDuplicateEntry:
        raise _duplicate('The association of namespace %s with resource '
                         'type %s' % (namespace, association['name'])
                         ) from None


@api._db_operation
def association_list(context, namespace):
    with _reader.using(context) as session:
        row = _namespace_row(session, context, namespace)
        return _association_rows(session, [row['id']])[row['id']]


@api._db_operation
def association_delete(context, namespace, name):
    """Dissociate; MetadefProtected if the namespace is protected."""
    with _writer.using(context) as session:
        row = _namespace_row(session, context, namespace, lock='share')
        if row['protected']:
            raise exception.MetadefProtected(
                what='The association with resource type %s' % name,
                namespace=namespace)
        deleted = session.execute(sa.delete(_associations).where(
            _associations.c.namespace_id == row['id'],
            _associations.c.resource_type_id.in_(
                sa.select(_resource_types.c.id).where(
                    _resource_types.c.name == name).scalar_subquery()))
        ).rowcount
    if not deleted:
        raise exception.MetadefResourceTypeNotFound(namespace=namespace,
                                                    name=name)


# Namespaces


def _content_values(kind, namespace_id, content, now):
    """The row of one object, property or tag as the API gives it."""
    values = {'namespace_id': namespace_id, 'name': content['name'],
              'created_at': now, 'updated_at': now}
    if kind == 'object':
        values.update(description=content.get('description'),
                      required=content.get('required'),
                      properties=content.get('properties'))
    elif kind == 'property':
        values['definition'] = {key: value for key, value in content.items()
                                if key != 'name'}
    return values


def _content_dict(kind, row):
    """An object, property or tag row as the API shows it."""
    body = {'name': row['name'], 'created_at': row['created_at'],
            'updated_at': row['updated_at']}
    if kind == 'object':
        body.update(description=row['description'],
                    required=row['required'] or [],
                    properties=row['properties'] or {})
    elif kind == 'property':
        body.update(row['definition'])
    return body


def _insert_contents(session, kind, namespace_id, contents, now):
    rows = [_content_values(kind, namespace_id, content, now)
            for content in contents]
    if rows:
        session.execute(sa.insert(CONTENT_TABLES[kind]), rows)


@api._db_operation
def namespace_create(context, values, contents=None, associations=()):
    """Create a namespace with its contents and associations at once.

    ``values`` are NAMESPACE_COLUMNS; ``contents`` maps 'object',
    'property' and 'tag' to lists of what to create in it (names unique
    within each list: the caller checks); ``associations`` are dicts
    for association_create, whose resource types are created if new.
    Duplicate if the name is taken; nothing is created then.
    """
    for association in associations:
        resource_type_ensure(context, association['name'])
    now = timeutils.utcnow()
    try:
        with _writer.using(context) as session:
            namespace_id = session.execute(sa.insert(_namespaces).values(
                created_at=now, updated_at=now, **values)
            ).inserted_primary_key[0]
            for kind, items in (contents or {}).items():
                _insert_contents(session, kind, namespace_id, items, now)
            for association in associations:
                _associate(session, namespace_id, association, now)
    except db_exc.DBDuplicateEntry:
        raise _duplicate('Metadata definition namespace %s'
                         % values['namespace']) from None
    return namespace_get(context, values['namespace'])


@api._db_operation
def namespace_summary(context, namespace):
    """The namespace's own fields, without what it holds."""
    with _reader.using(context) as session:
        return dict(_namespace_row(session, context, namespace))


@api._db_operation
def namespace_get(context, namespace):
    """The namespace with its associations, objects, properties and tags.

    ``properties`` is a dict of the definitions by name (without their
    name and times); the others are lists in creation order.
    """
    with _reader.using(context) as session:
        row = _namespace_row(session, context, namespace)
        body = dict(row, resource_type_associations=_association_rows(
            session, [row['id']])[row['id']])
        for kind, table in CONTENT_TABLES.items():
            body[kind] = [_content_dict(kind, content) for content in
                          session.execute(sa.select(table).where(
                              table.c.namespace_id == row['id']).order_by(
                                  table.c.id)).mappings()]
    body['objects'] = body.pop('object')
    body['tags'] = body.pop('tag')
    body['properties'] = {
        prop['name']: {key: value for key, value in prop.items()
                       if key not in ('name', 'created_at', 'updated_at')}
        for prop in body.pop('property')}
    return body


def _namespace_sort(sort_key, sort_dir):
    if sort_key not in NAMESPACE_SORT_KEYS:
        raise exception.BadRequest(
            reason='namespaces cannot be sorted by %r; sort keys: %s' % (
                sort_key, ', '.join(NAMESPACE_SORT_KEYS)))
    api._sort_directions([sort_dir], 1)
    sort = [(_namespaces.c[sort_key], sort_dir)]
    if sort_key != 'namespace':
        sort.append((_namespaces.c.namespace, sort_dir))
    return sort


@api._db_operation
def namespace_list(context, visibility=None, resource_types=(),
                   marker=None, limit=None, sort_key='created_at',
                   sort_dir='desc'):
    """A page of the namespaces the caller may see, with associations.

    ``visibility`` keeps only 'public' or 'private' ones;
    ``resource_types`` only those associated with at least one of the
    named types. Paged after namespace ``marker`` (which the caller must
    see, or MetadefNamespaceNotFound) by keyset, so concurrent changes
    neither repeat nor skip namespaces.
    """
    conditions = [_visible(context)]
    if visibility is not None:
        conditions.append(_namespaces.c.visibility == visibility)
    if resource_types:
        conditions.append(sa.exists().where(
            _associations.c.namespace_id == _namespaces.c.id,
            _associations.c.resource_type_id == _resource_types.c.id,
            _resource_types.c.name.in_(list(resource_types))))
    sort = _namespace_sort(sort_key, sort_dir)
    with _reader.using(context) as session:
        marker_row = None
        if marker is not None:
            marker_row = _namespace_row(session, context, marker)
        rows = api._page(session, _namespaces, conditions, sort,
                         marker_row, limit)
        associations = _association_rows(session,
                                         [row['id'] for row in rows])
    return [dict(row, resource_type_associations=associations[row['id']])
            for row in rows]


@api._db_operation
def namespace_update(context, namespace, values):
    """Set the NAMESPACE_COLUMNS in ``values``; rename on ``namespace``.

    Duplicate if the new name is taken.
    """
    new_name = values.get('namespace', namespace)
    try:
        with _writer.using(context) as session:
            updated = session.execute(sa.update(_namespaces).where(
                _namespaces.c.namespace == namespace, _visible(context)
            ).values(updated_at=timeutils.utcnow(), **values)).rowcount
    except db_exc.DBDuplicateEntry:
        raise _duplicate('Metadata definition namespace %s'
                         % new_name) from None
    if not updated:
        raise exception.MetadefNamespaceNotFound(namespace=namespace)
    return namespace_get(context, new_name)


@api._db_operation
def namespace_delete(context, namespace):
    """Delete the namespace and all it holds; refused while protected.

    The UPDATE that checks it is not protected also write-locks the
    row, so contents being added wait and then find it gone.
    """
    with _writer.using(context) as session:
        row = _namespace_row(session, context, namespace)
        if not session.execute(sa.update(_namespaces).where(
                _namespaces.c.id == row['id'],
                _namespaces.c.protected == sa.false()).values(
                    updated_at=timeutils.utcnow())).rowcount:
            raise exception.MetadefProtected(
                what='Namespace %s' % namespace, namespace=namespace)
        for table in (*CONTENT_TABLES.values(), _associations):
            session.execute(sa.delete(table).where(
                table.c.namespace_id == row['id']))
        session.execute(sa.delete(_namespaces).where(
            _namespaces.c.id == row['id']))


# Contents: objects, properties and tags


def _content_where(kind, namespace_id, name):
    table = CONTENT_TABLES[kind]
    return (table.c.namespace_id == namespace_id, table.c.name == name)


def _content_duplicate(kind, namespace, name):
    return _duplicate('Metadata definition %s %s in namespace %s'
                      % (kind, name, namespace))


@api._db_operation
def content_create(context, kind, namespace, contents, replace=False):
    """Create objects, properties or tags (``kind``) in a namespace.

    ``contents`` are dicts with a ``name`` (unique within the list: the
    caller checks) and the kind's fields. With ``replace``, the
    namespace's existing ones of that kind are deleted first, in the
    same transaction. Returns what was created, as content_get does.
    Duplicate, and nothing created, if a name is taken.
    """
    table = CONTENT_TABLES[kind]
    now = timeutils.utcnow()
    try:
        with _writer.using(context) as session:
            row = _namespace_row(session, context, namespace, lock='share')
            if replace:
                session.execute(sa.delete(table).where(
                    table.c.namespace_id == row['id']))
            _insert_contents(session, kind, row['id'], contents, now)
    except db_exc.DBDuplicateEntry:
        names = [content['name'] for content in contents]
        if len(names) == 1:
            raise _content_duplicate(kind, namespace, names[0]) from None
        raise _duplicate('A metadata definition %s named one of %s in '
                         'namespace %s' % (kind, ', '.join(names),
                                           namespace)) from None
    return [content_get(context, kind, namespace, content['name'])
            for content in contents]


@api._db_operation
def content_get(context, kind, namespace, name):
    with _reader.using(context) as session:
        row = _namespace_row(session, context, namespace)
        found = session.execute(sa.select(CONTENT_TABLES[kind]).where(
            *_content_where(kind, row['id'], name))).mappings().first()
    if found is None:
        raise exception.MetadefContentNotFound(kind=kind, name=name,
                                               namespace=namespace)
    return _content_dict(kind, found)


@api._db_operation
def content_list(context, kind, namespace):
    """The namespace's objects, properties or tags, oldest first."""
    table = CONTENT_TABLES[kind]
    with _reader.using(context) as session:
        row = _namespace_row(session, context, namespace)
        return [_content_dict(kind, found) for found in session.execute(
            sa.select(table).where(table.c.namespace_id == row['id']
                                   ).order_by(table.c.id)).mappings()]


@api._db_operation
def content_update(context, kind, namespace, name, content):
    """Replace one object, property or tag by ``content`` (may rename).

    Duplicate if ``content``'s name is another one's.
    """
    table = CONTENT_TABLES[kind]
    try:
        with _writer.using(context) as session:
            row = _namespace_row(session, context, namespace, lock='share')
            values = _content_values(kind, row['id'], content,
                                     timeutils.utcnow())
            del values['created_at']
            updated = session.execute(sa.update(table).where(
                *_content_where(kind, row['id'], name)).values(**values)
            ).rowcount
    except db_exc.DBDuplicateEntry:
        raise _content_duplicate(kind, namespace, content['name']) from None
    if not updated:
        raise exception.MetadefContentNotFound(kind=kind, name=name,
                                               namespace=namespace)
    return content_get(context, kind, namespace, content['name'])


@api._db_operation
def content_delete(context, kind, namespace, name=None):
    """Delete one object, property or tag, or with no ``name`` all.

    MetadefProtected if the namespace is protected;
    MetadefContentNotFound if the named one does not exist.
    """
    with _writer.using(context) as session:
        row = _namespace_row(session, context, namespace, lock='share')
        if row['protected']:
            raise exception.MetadefProtected(
                what=('The %s %s' % (kind, name) if name is not None
                      else 'Its contents'), namespace=namespace)
        table = CONTENT_TABLES[kind]
        conditions = (_content_where(kind, row['id'], name)
                      if name is not None
                      else (table.c.namespace_id == row['id'],))
        deleted = session.execute(sa.delete(table).where(*conditions)
                                  ).rowcount
    if name is not None and not deleted:
        raise exception.MetadefContentNotFound(kind=kind, name=name,
                                               namespace=namespace)
