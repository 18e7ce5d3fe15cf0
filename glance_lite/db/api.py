"""Every SQL statement of glance-lite.

Nothing outside this module builds SQL. Callers pass a
``glance_lite.common.context.RequestContext`` and get plain dicts back,
never ORM objects: a caller cannot "save" a stale image it loaded
earlier, because it never holds anything that could be saved.

The import pipeline's safety rests on the primitives below. Each is
decided by the database in a single statement (an INSERT that a unique
key makes exclusive, or an UPDATE/DELETE whose WHERE clause states the
expected old value, judged by its rowcount), never by reading a row into
Python and writing back what we concluded. Any reading they do happens
after the decision, only to word an error message. Decisions that must
see several rows (is this location the image's last one, which of the
wanted tags are missing) are made under a lock on the image row that
the transaction's first statement takes, so that concurrent deciders
run one after the other.

Every public function opens and finishes its own transaction; do not
call one inside another's transaction (a failed INSERT aborts the whole
transaction on PostgreSQL).
"""

import contextlib
import functools
import operator
import uuid

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_utils import timeutils
import sqlalchemy as sa

from glance_lite.common import exception
from glance_lite.db import models

main_context_manager = enginefacade.transaction_context()

_images = models.Image.__table__
_properties = models.ImageProperty.__table__
_marker_elements = models.ImageMarkerElement.__table__
_locations = models.ImageLocation.__table__
_tasks = models.Task.__table__
_import_locks = models.ImportLock.__table__
_tags = models.ImageTag.__table__
_members = models.ImageMember.__table__

# How often a transaction that lost a deadlock is run again before the
# caller gets DatabaseDeadlock. Each attempt is a whole transaction.
_DEADLOCK_RETRIES = 5


@contextlib.contextmanager
def translate_errors(operation):
    """Turn oslo.db's exceptions into glance-lite's, naming ``operation``.

    Public for ``glance_lite.db.migration``, the other module that talks
    to the database.
    """
    try:
        yield
    except db_exc.DBDeadlock as e:
        raise exception.DatabaseDeadlock(operation=operation, reason=e) from e
    except db_exc.DBConnectionError as e:
        raise exception.DatabaseUnavailable(
            operation=operation, reason=e) from e
    except db_exc.DBDuplicateEntry as e:
        raise exception.Duplicate(
            what='%s: an entry with the same %s' % (
                operation, ', '.join(e.columns or ['key']))) from e
    except db_exc.DBError as e:
        raise exception.DatabaseError(operation=operation, reason=e) from e


def get_engine():
    """The writer engine, for migrations and the manage command."""
    with translate_errors('connecting to the database'):
        return main_context_manager.writer.get_engine()


def _db_operation(func):
    """Retry deadlocks, then turn oslo.db errors into glance-lite's.

    It wraps functions that open their own transaction, so a retry runs
    the whole transaction again, never half of one.
    """
    retrying = oslo_db_api.wrap_db_retry(
        max_retries=_DEADLOCK_RETRIES, retry_on_deadlock=True,
        retry_interval=0.05, inc_retry_interval=True,
        max_retry_interval=1)(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with translate_errors(func.__name__):
            return retrying(*args, **kwargs)
    return wrapper


def _live_image(image_id):
    """WHERE clause matching the image only while it is not deleted."""
    return sa.and_(_images.c.id == image_id,
                   _images.c.deleted == sa.false())


def _insert_for_live_image(table, values, from_=_images):
    """INSERT ``values`` into ``table`` only if the image is not deleted.

    One INSERT ... SELECT FROM images: its rowcount is 0 when the image
    is missing or deleted, so no separate existence check can go stale.
    ``from_`` may join further rows that must exist for the insert.

    The selected rows are share-locked (FOR SHARE) until we commit, so a
    concurrent image_destroy waits for us and then sees our row, or
    commits first and our INSERT finds the image deleted: nothing can be
    added to an image behind its deletion's back.
    """
    columns = list(values)
    source = sa.select(
        *[sa.literal(values[c], table.c[c].type) for c in columns]
    ).select_from(from_).where(
        _live_image(values['image_id'])).with_for_update(read=True)
    return sa.insert(table).from_select(columns, source)


def _insert_if_absent(context, table, values):
    """INSERT ``values`` for a live image unless its unique key exists.

    Returns True if this call inserted the row, False if it existed
    already; the unique key decides, so of many concurrent callers
    exactly one gets True. Raises ImageNotFound for a missing or deleted
    image.
    """
    try:
        with main_context_manager.writer.using(context) as session:
            inserted = session.execute(
                _insert_for_live_image(table, values)).rowcount
    except db_exc.DBDuplicateEntry:
        return False
    if not inserted:
        raise exception.ImageNotFound(image_id=values['image_id'])
    return True


def _delete_one(context, table, *conditions):
    """DELETE the row matching ``conditions``; True if this call did.

    The conditions state the expected current state, so a row another
    writer has changed meanwhile is left alone.
    """
    with main_context_manager.writer.using(context) as session:
        return session.execute(
            sa.delete(table).where(*conditions)).rowcount == 1


# Images


def _new_image_values(values, now):
    image = {
        'id': str(uuid.uuid4()),
        'status': 'queued',
        'visibility': 'shared',
        'min_disk': 0,
        'min_ram': 0,
        'protected': False,
        'os_hidden': False,
        'deleted': False,
        'created_at': now,
        'updated_at': now,
    }
    image.update(values)
    return image


def _insert_tags(session, image_id, tags, now):
    rows = [{'image_id': image_id, 'value': tag, 'created_at': now}
            for tag in sorted(set(tags))]
    if rows:
        session.execute(sa.insert(_tags), rows)


@_db_operation
def image_create(context, values, properties=None, tags=None):
    """Create an image row, its custom properties and tags together."""
    now = timeutils.utcnow()
    image = _new_image_values(values, now)
    try:
        with main_context_manager.writer.using(context) as session:
            session.execute(sa.insert(_images).values(**image))
            for name, value in (properties or {}).items():
                session.execute(sa.insert(_properties).values(
                    image_id=image['id'], name=name, value=value,
                    created_at=now, updated_at=now))
            _insert_tags(session, image['id'], tags or (), now)
    except db_exc.DBDuplicateEntry:
        # oslo.db cannot name primary-key columns on every backend.
        raise exception.Duplicate(what='Image %s' % image['id']) from None
    return image_get(context, image['id'])


@_db_operation
def image_destroy(context, image_id):
    """Mark the image deleted; raises ImageNotFound if it already is.

    One conditional UPDATE, so of two concurrent deletes one succeeds
    and the other is told the image is gone. Every primitive that adds
    to an image checks in its own statement that it is not deleted.

    The image's import locks are dropped in the same transaction, so a
    running import learns at its next heartbeat that it must stop and
    remove what it wrote. Returns what the caller must clean up:
    ``locations`` (whose data to delete) and ``import_locks`` (the
    interrupted writes, by store and task).
    """
    now = timeutils.utcnow()
    with main_context_manager.writer.using(context) as session:
        deleted = session.execute(sa.update(_images).where(
            _live_image(image_id)).values(
                status='deleted', deleted=True, deleted_at=now,
                updated_at=now)).rowcount
        if not deleted:
            raise exception.ImageNotFound(image_id=image_id)
        leftovers = {
            'locations': [dict(row) for row in session.execute(
                sa.select(_locations).where(
                    _locations.c.image_id == image_id)).mappings()],
            'import_locks': [dict(row) for row in session.execute(
                sa.select(_import_locks).where(
                    _import_locks.c.image_id == image_id)).mappings()],
        }
        session.execute(sa.delete(_import_locks).where(
            _import_locks.c.image_id == image_id))
    return leftovers


def _image_dicts(session, rows):
    """Image dicts of ``rows`` (images rows), in their order.

    Each gets its properties, sorted tags, marker lists, locations and
    importing_to_stores, read with one query per kind for all the rows
    together, so a page of images costs as many queries as one image.
    """
    images = {row['id']: dict(row, properties={}, tags=[], markers={},
                              locations=[], importing_to_stores=[])
              for row in rows}

    def rows_of(table, *order_by):
        return session.execute(sa.select(table).where(
            table.c.image_id.in_(list(images))).order_by(*order_by)
        ).mappings()

    if images:
        for row in rows_of(_properties):
            images[row['image_id']]['properties'][row['name']] = row['value']
        for row in rows_of(_tags, _tags.c.value):
            images[row['image_id']]['tags'].append(row['value'])
        for row in rows_of(_marker_elements, _marker_elements.c.marker,
                           _marker_elements.c.element):
            images[row['image_id']]['markers'].setdefault(
                row['marker'], []).append(row['element'])
        for row in rows_of(_locations, _locations.c.id):
            images[row['image_id']]['locations'].append(dict(row))
        # Derived, not stored: a store is being imported to exactly
        # while an import lock for it exists, so this can never leak.
        for row in rows_of(_import_locks, _import_locks.c.store):
            images[row['image_id']]['importing_to_stores'].append(
                row['store'])
    return list(images.values())


@_db_operation
def image_get(context, image_id):
    """The image with its properties, tags, marker lists and locations.

    Raises ImageNotFound for a missing or deleted image.
    """
    with main_context_manager.reader.using(context) as session:
        rows = session.execute(
            sa.select(_images).where(_live_image(image_id))
        ).mappings().all()
        if not rows:
            raise exception.ImageNotFound(image_id=image_id)
        return _image_dicts(session, rows)[0]


@_db_operation
def image_update(context, image_id, values, properties=None,
                 remove_properties=(), tags=None):
    """Change only the given fields, custom properties and tags.

    One UPDATE of exactly the columns in ``values`` (never a whole row
    read earlier), and per property one UPDATE, or one INSERT if it is
    new: edits of other fields or properties made meanwhile, by a user
    or an import, are kept. Then the custom properties named in
    ``remove_properties`` are deleted (absent ones are ignored), and with
    ``tags`` the image's tag set becomes exactly ``tags``. Raises
    ImageNotFound.

    The UPDATE of the image row comes first and locks that row until we
    commit (on SQLite it takes the database's write lock), so the
    property and tag INSERTs of image_property_set_if_absent and
    image_tag_add, which share-lock the row, wait for us: the tags we
    find present are still present when we insert the missing ones.
    """
    now = timeutils.utcnow()
    with main_context_manager.writer.using(context) as session:
        if not session.execute(sa.update(_images).where(
                _live_image(image_id)).values(
                    updated_at=now, **values)).rowcount:
            raise exception.ImageNotFound(image_id=image_id)
        for name, value in (properties or {}).items():
            if not session.execute(sa.update(_properties).where(
                    _properties.c.image_id == image_id,
                    _properties.c.name == name).values(
                        value=value, updated_at=now)).rowcount:
                session.execute(sa.insert(_properties).values(
                    image_id=image_id, name=name, value=value,
                    created_at=now, updated_at=now))
        if remove_properties:
            session.execute(sa.delete(_properties).where(
                _properties.c.image_id == image_id,
                _properties.c.name.in_(list(remove_properties))))
        if tags is not None:
            tags = set(tags)
            session.execute(sa.delete(_tags).where(
                _tags.c.image_id == image_id,
                _tags.c.value.not_in(sorted(tags))))
            # FOR UPDATE makes this a locking read, which sees the
            # latest committed rows even in MySQL's REPEATABLE READ.
            present = set(session.execute(sa.select(_tags.c.value).where(
                _tags.c.image_id == image_id).with_for_update()).scalars())
            _insert_tags(session, image_id, tags - present, now)
    return image_get(context, image_id)


@_db_operation
def image_status_transition(context, image_id, from_statuses, to_status,
                            while_locked_by=None):
    """Move the image to ``to_status`` only from one of ``from_statuses``.

    With ``while_locked_by = (store, task_id)`` only while that task
    owns that import lock, judged in the same statement: a task whose
    lock was taken over cannot change the status its successor relies
    on. Returns True if this call made the change. Of concurrent callers
    wanting the same transition, exactly one succeeds.
    """
    conditions = [_live_image(image_id), _images.c.status.in_(from_statuses)]
    if while_locked_by is not None:
        store, task_id = while_locked_by
        conditions.append(sa.exists().where(
            _import_locks.c.image_id == _images.c.id,
            _import_locks.c.store == store,
            _import_locks.c.task_id == task_id))
    with main_context_manager.writer.using(context) as session:
        return session.execute(sa.update(_images).where(
            *conditions).values(status=to_status,
                                updated_at=timeutils.utcnow())).rowcount == 1


# Listing


def _owned_by_caller(context, table):
    """WHERE clause: ``table``'s row belongs to the caller's project.

    Never true without a project (``owner == None`` would select the
    rows that have no owner).
    """
    if context.project_id is None:
        return sa.false()
    return table.c.owner == context.project_id


def _equal_to(column, value):
    """``column = value``, or ``column IN value`` for a list of values."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return column.in_(list(value))
    return column == value


def _sort_directions(directions, count):
    """One direction per sort key, from one for each or one for all."""
    for direction in directions:
        if direction not in ('asc', 'desc'):
            raise exception.BadRequest(
                reason='sort direction %r is not asc or desc' % direction)
    if len(directions) == 1:
        return directions * count
    if len(directions) != count:
        raise exception.BadRequest(
            reason='%d sort directions for %d sort keys' % (
                len(directions), count))
    return directions


def _sort_terms(sort):
    """ORDER BY for ``sort``, a list of (column, 'asc' or 'desc').

    NULL is the lowest value on every backend (PostgreSQL's own rule is
    the opposite), which _after_marker relies on.
    """
    terms = []
    for column, direction in sort:
        order = sa.asc if direction == 'asc' else sa.desc
        if column.nullable:
            terms.append(order(column.is_not(None)))
        terms.append(order(column))
    return terms


def _after_marker(sort, marker):
    """WHERE clause: the row comes after row ``marker`` in ``sort`` order.

    Keyset pagination: (k1 after m1) or (k1 = m1 and k2 after m2) or ...
    with NULL as the lowest value and compared with IS NULL, so rows
    with NULL keys are neither skipped nor repeated. The last sort key
    must be unique.
    """
    later_rows = []
    same_so_far = []
    for column, direction in sort:
        value = marker[column.name]
        if value is None:
            same = column.is_(None)
            later = column.is_not(None) if direction == 'asc' else sa.false()
        else:
            same = column == value
            if direction == 'asc':
                later = column > value
            elif column.nullable:
                later = sa.or_(column < value, column.is_(None))
            else:
                later = column < value
        later_rows.append(sa.and_(*same_so_far, later))
        same_so_far.append(same)
    return sa.or_(*later_rows)


def _marker_row(session, table, marker, visible, not_found):
    """The row whose id is ``marker``, None without a marker.

    Raises ``not_found`` unless the row meets ``visible``: a caller
    cannot page from a row it may not see.
    """
    if marker is None:
        return None
    row = session.execute(sa.select(table).where(
        table.c.id == marker, visible)).mappings().first()
    if row is None:
        raise not_found
    return row


def _page(session, table, conditions, sort, marker, limit):
    """Rows of ``table`` meeting ``conditions``, sorted, after ``marker``.

    ``marker`` is the row the previous page ended with, or None.
    """
    query = sa.select(table).where(*conditions)
    if marker is not None:
        query = query.where(_after_marker(sort, marker))
    query = query.order_by(*_sort_terms(sort))
    if limit is not None:
        query = query.limit(limit)
    return session.execute(query).mappings().all()


_VISIBILITIES = ('public', 'private', 'shared', 'community')
_MEMBER_STATUSES = ('pending', 'accepted', 'rejected')


def _visible_images(context, member_status):
    """WHERE clause: the live images the caller may see.

    An admin sees them all; a project sees its own, the public and
    community ones, and the shared ones it is a member of with status
    ``member_status`` ('all' for any).
    """
    live = _images.c.deleted == sa.false()
    if context.is_admin:
        return live
    visible = [_images.c.visibility.in_(['public', 'community'])]
    if context.project_id is not None:
        membership = [_members.c.image_id == _images.c.id,
                      _members.c.member == context.project_id]
        if member_status != 'all':
            membership.append(_members.c.status == member_status)
        visible += [_owned_by_caller(context, _images),
                    sa.and_(_images.c.visibility == 'shared',
                            sa.exists().where(*membership))]
    return sa.and_(live, sa.or_(*visible))


def _listed_images(context, visibility, member_status):
    """WHERE clause for the images a listing with ``visibility`` shows."""
    if visibility not in (None, 'all', *_VISIBILITIES):
        raise exception.BadRequest(
            reason='unknown image visibility %r' % visibility)
    if member_status not in ('all', *_MEMBER_STATUSES):
        raise exception.BadRequest(
            reason='unknown member status %r' % member_status)
    visible = _visible_images(context, member_status)
    if visibility in _VISIBILITIES:
        return sa.and_(visible, _images.c.visibility == visibility)
    if visibility is None and not context.is_admin:
        # Community images are for whoever asks for them: other
        # projects' ones stay out of a plain listing.
        return sa.and_(visible, sa.or_(
            _images.c.visibility != 'community',
            _owned_by_caller(context, _images)))
    return visible


_IMAGE_EQUALITY_FILTERS = ('name', 'status', 'owner', 'disk_format',
                           'container_format', 'id', 'checksum',
                           'os_hash_value')

_COMPARISONS = {'gt': operator.gt, 'gte': operator.ge, 'lt': operator.lt,
                'lte': operator.le, 'eq': operator.eq, 'neq': operator.ne}


def _image_filter(key, value):
    """The WHERE clauses of image_list's filter ``key``."""
    columns = _images.c
    if key in _IMAGE_EQUALITY_FILTERS:
        return [_equal_to(columns[key], value)]
    if key in ('protected', 'os_hidden'):
        return [columns[key] == bool(value)]
    if key == 'size_min':
        return [columns.size >= value]
    if key == 'size_max':
        return [columns.size <= value]
    if key in ('created_at', 'updated_at'):
        for op, _when in value:
            if op not in _COMPARISONS:
                raise exception.BadRequest(
                    reason='unknown comparison %r for %s' % (op, key))
        return [_COMPARISONS[op](columns[key], when) for op, when in value]
    if key == 'tags':
        return [sa.exists().where(_tags.c.image_id == columns.id,
                                  _tags.c.value == tag) for tag in value]
    if key == 'properties':
        return [sa.exists().where(_properties.c.image_id == columns.id,
                                  _properties.c.name == name,
                                  _properties.c.value == wanted)
                for name, wanted in value.items()]
    raise exception.BadRequest(reason='unknown image filter %r' % key)


_IMAGE_SORT_KEYS = ('name', 'status', 'container_format', 'disk_format',
                    'size', 'virtual_size', 'id', 'created_at',
                    'updated_at', 'visibility', 'owner', 'min_disk',
                    'min_ram')


def _image_sort(sort_keys, sort_dirs):
    """(column, direction) pairs, ending with the unique id."""
    keys = list(sort_keys or ['created_at'])
    for key in keys:
        if key not in _IMAGE_SORT_KEYS:
            raise exception.BadRequest(
                reason='images cannot be sorted by %r' % key)
    directions = _sort_directions(list(sort_dirs or ['desc']), len(keys))
    if 'id' not in keys:
        keys.append('id')
        directions.append(directions[-1])
    return [(_images.c[key], direction)
            for key, direction in zip(keys, directions, strict=True)]


@_db_operation
def image_list(context, filters=None, marker=None, limit=None,
               sort_keys=None, sort_dirs=None, member_status='accepted'):
    """One page of the images the caller may see, as image_get shapes them.

    Glance's listing semantics: ``filters['visibility']`` picks one
    visibility, or 'all'; without it a non-admin sees its own, the
    public and the shared-with-it images (membership status
    ``member_status``, or 'all'), and no other project's community
    images. Other filters are AND-ed. Sorted by ``sort_keys`` and
    ``sort_dirs`` (default newest first), always ending with id so that
    the order is total and pages neither overlap nor miss rows. The page
    starts after image ``marker`` (ImageNotFound if the caller cannot
    see it) and holds at most ``limit`` images.

    One transaction and a fixed number of queries, whatever the page
    size. Raises BadRequest for an unknown filter, sort key, sort
    direction, visibility or member status.
    """
    filters = dict(filters or {})
    conditions = [_listed_images(context, filters.pop('visibility', None),
                                 member_status)]
    for key, value in filters.items():
        conditions.extend(_image_filter(key, value))
    sort = _image_sort(sort_keys, sort_dirs)
    with main_context_manager.reader.using(context) as session:
        marker_row = _marker_row(
            session, _images, marker, _visible_images(context, 'all'),
            exception.ImageNotFound(image_id=marker))
        return _image_dicts(session, _page(
            session, _images, conditions, sort, marker_row, limit))


# Scalar properties


@_db_operation
def image_property_set_if_absent(context, image_id, name, value):
    """Create property ``name`` unless the image already has one.

    Returns True if this call created it, False if it existed. The
    unique (image_id, name) key decides, so of many concurrent callers
    exactly one gets True.
    """
    now = timeutils.utcnow()
    return _insert_if_absent(context, _properties, {
        'image_id': image_id, 'name': name, 'value': value,
        'created_at': now, 'updated_at': now})


@_db_operation
def image_property_delete_if_value(context, image_id, name, expected_value):
    """Delete property ``name`` only if it still holds ``expected_value``.

    Returns True if this call deleted it. A property that another writer
    has changed meanwhile is left alone.
    """
    return _delete_one(context, _properties,
                       _properties.c.image_id == image_id,
                       _properties.c.name == name,
                       _properties.c.value == expected_value)


# List-valued markers


@_db_operation
def image_marker_add(context, image_id, marker, element):
    """Add ``element`` to list marker ``marker`` of the image.

    Returns True if added, False if it was already there. Other
    elements, including ones added concurrently, are never touched.
    """
    return _insert_if_absent(context, _marker_elements, {
        'image_id': image_id, 'marker': marker, 'element': element,
        'created_at': timeutils.utcnow()})


@_db_operation
def image_marker_remove(context, image_id, marker, element):
    """Remove ``element`` from list marker ``marker``; True if it was there."""
    return _delete_one(context, _marker_elements,
                       _marker_elements.c.image_id == image_id,
                       _marker_elements.c.marker == marker,
                       _marker_elements.c.element == element)


# Tags


@_db_operation
def image_tag_add(context, image_id, tag):
    """Tag the image; True if this call added the tag, False if it had it.

    The (image_id, value) key decides, so of many concurrent callers
    exactly one gets True. Raises ImageNotFound.
    """
    return _insert_if_absent(context, _tags, {
        'image_id': image_id, 'value': tag,
        'created_at': timeutils.utcnow()})


@_db_operation
def image_tag_remove(context, image_id, tag):
    """Remove the tag; True if this call removed it."""
    return _delete_one(context, _tags, _tags.c.image_id == image_id,
                       _tags.c.value == tag)


# Members

_MEMBER_COLUMNS = [_members.c.image_id, _members.c.member, _members.c.status,
                   _members.c.created_at, _members.c.updated_at]


def _member_key(image_id, member):
    """WHERE clause: that membership, of an image that is not deleted."""
    return sa.and_(_members.c.image_id == image_id,
                   _members.c.member == member,
                   sa.exists().where(_live_image(image_id)))


def _member_row(session, image_id, member):
    return session.execute(sa.select(*_MEMBER_COLUMNS).where(
        _member_key(image_id, member))).mappings().first()


def _member_not_found(context, image_id, member):
    """The error for a membership that is not there: which part is gone."""
    if _image_is_live(context, image_id):
        return exception.MemberNotFound(member=member, image_id=image_id)
    return exception.ImageNotFound(image_id=image_id)


@_db_operation
def image_member_create(context, image_id, member):
    """Share the image with project ``member``, pending its answer.

    Returns the membership. The (image_id, member) key decides, so of
    concurrent callers exactly one creates it and the others get
    Duplicate. Raises ImageNotFound for a missing or deleted image.
    """
    now = timeutils.utcnow()
    values = {'image_id': image_id, 'member': member, 'status': 'pending',
              'created_at': now, 'updated_at': now}
    if not _insert_if_absent(context, _members, values):
        raise exception.Duplicate(
            what='Member %s of image %s' % (member, image_id))
    return values


@_db_operation
def image_member_get(context, image_id, member):
    """The membership; raises MemberNotFound or ImageNotFound."""
    with main_context_manager.reader.using(context) as session:
        row = _member_row(session, image_id, member)
    if row is None:
        raise _member_not_found(context, image_id, member)
    return dict(row)


@_db_operation
def image_member_list(context, image_id):
    """The image's memberships, oldest first; raises ImageNotFound."""
    with main_context_manager.reader.using(context) as session:
        if not _image_is_live(context, image_id):
            raise exception.ImageNotFound(image_id=image_id)
        return [dict(row) for row in session.execute(
            sa.select(*_MEMBER_COLUMNS)
            .where(_members.c.image_id == image_id)
            .order_by(_members.c.created_at, _members.c.member)
        ).mappings()]


@_db_operation
def image_member_update(context, image_id, member, status):
    """Set the membership's status; returns the updated membership.

    Raises BadRequest for an unknown status, MemberNotFound or
    ImageNotFound.
    """
    if status not in _MEMBER_STATUSES:
        raise exception.BadRequest(
            reason='unknown member status %r' % status)
    with main_context_manager.writer.using(context) as session:
        if session.execute(sa.update(_members).where(
                _member_key(image_id, member)).values(
                    status=status, updated_at=timeutils.utcnow())).rowcount:
            return dict(_member_row(session, image_id, member))
    raise _member_not_found(context, image_id, member)


@_db_operation
def image_member_delete(context, image_id, member):
    """End the membership; raises MemberNotFound or ImageNotFound."""
    if not _delete_one(context, _members, _member_key(image_id, member)):
        raise _member_not_found(context, image_id, member)


# Import locks


def _lock_key(image_id, store):
    return sa.and_(_import_locks.c.image_id == image_id,
                   _import_locks.c.store == store)


@_db_operation
def import_lock_list(context, image_id):
    """Every import lock of the image, by store."""
    with main_context_manager.reader.using(context) as session:
        return [dict(row) for row in session.execute(
            sa.select(_import_locks).where(
                _import_locks.c.image_id == image_id)
            .order_by(_import_locks.c.store)).mappings()]


@_db_operation
def import_lock_get(context, image_id, store):
    """The lock of (image, store) as a dict, or None if it is free."""
    with main_context_manager.reader.using(context) as session:
        row = session.execute(sa.select(_import_locks).where(
            _lock_key(image_id, store))).mappings().first()
    return dict(row) if row else None


# A conflicting lock can be released between our INSERT failing and our
# reading who holds it; then the INSERT is simply tried again.
_ACQUIRE_ATTEMPTS = 3


@_db_operation
def import_lock_acquire(context, image_id, store, task_id, now=None):
    """Take the import lock of (image, store) for ``task_id``.

    Returns the lock. Raises ImportLockHeld naming the owner task (and
    carrying its ``heartbeat_at``) if another task holds it, and
    ImageNotFound if the image is missing or deleted.
    """
    now = now or timeutils.utcnow()
    lock = {'image_id': image_id, 'store': store, 'task_id': task_id,
            'acquired_at': now, 'heartbeat_at': now}
    for _attempt in range(_ACQUIRE_ATTEMPTS):
        if _insert_if_absent(context, _import_locks, lock):
            return lock
        holder = import_lock_get(context, image_id, store)
        if holder is not None:
            raise exception.ImportLockHeld(
                image_id=image_id, store=store, task_id=holder['task_id'],
                heartbeat_at=holder['heartbeat_at'])
    raise exception.ImportLockHeld(image_id=image_id, store=store,
                                   task_id='(changing hands)',
                                   heartbeat_at=None)


@_db_operation
def import_lock_heartbeat(context, image_id, store, task_id, now=None):
    """Refresh the lock's heartbeat, only while ``task_id`` owns it.

    Raises ImportLockLost if the lock was taken over or released, which
    tells the caller to stop and revert its own work.
    """
    now = now or timeutils.utcnow()
    with main_context_manager.writer.using(context) as session:
        updated = session.execute(sa.update(_import_locks).where(
            _lock_key(image_id, store),
            _import_locks.c.task_id == task_id).values(
                heartbeat_at=now)).rowcount
    if updated != 1:
        raise exception.ImportLockLost(image_id=image_id, store=store,
                                       task_id=task_id)


@_db_operation
def import_lock_take_over(context, image_id, store, expected_task_id,
                          new_task_id, stale_before, now=None):
    """Give a stalled lock to ``new_task_id``.

    Succeeds (returns True) only if the lock is still owned by
    ``expected_task_id`` and its heartbeat is older than
    ``stale_before``; of many concurrent callers at most one wins, and a
    heartbeat that lands first makes them all lose.
    """
    now = now or timeutils.utcnow()
    with main_context_manager.writer.using(context) as session:
        return session.execute(sa.update(_import_locks).where(
            _lock_key(image_id, store),
            _import_locks.c.task_id == expected_task_id,
            _import_locks.c.heartbeat_at < stale_before).values(
                task_id=new_task_id, acquired_at=now,
                heartbeat_at=now)).rowcount == 1


@_db_operation
def import_lock_release(context, image_id, store, task_id):
    """Drop the lock if ``task_id`` still owns it; True if it did."""
    return _delete_one(context, _import_locks, _lock_key(image_id, store),
                       _import_locks.c.task_id == task_id)


@_db_operation
def import_lock_release_all(context, image_id, task_id):
    """Drop every lock ``task_id`` holds on the image; how many it held."""
    with main_context_manager.writer.using(context) as session:
        return session.execute(sa.delete(_import_locks).where(
            _import_locks.c.image_id == image_id,
            _import_locks.c.task_id == task_id)).rowcount


@_db_operation
def import_finish(context, image_id, task_id, stores, activation=None):
    """End an import: activate the image and release its locks, together.

    With ``activation`` (the measured size, checksum, os_hash_algo and
    os_hash_value) a first import's image goes from importing to active
    in the same transaction that releases ``task_id``'s locks of
    ``stores``: whoever sees the image active also sees those stores
    free for the next import. Raises ImageNotFound if the image was
    deleted or is no longer importing.
    """
    now = timeutils.utcnow()
    with main_context_manager.writer.using(context) as session:
        if activation is not None:
            activated = session.execute(sa.update(_images).where(
                _live_image(image_id),
                _images.c.status == 'importing').values(
                    status='active', updated_at=now,
                    **activation)).rowcount
            if not activated:
                raise exception.ImageNotFound(image_id=image_id)
        session.execute(sa.delete(_import_locks).where(
            _import_locks.c.image_id == image_id,
            _import_locks.c.task_id == task_id,
            _import_locks.c.store.in_(stores)))


# Locations


@_db_operation
def image_location_add(context, image_id, store, url, lock_task_id=None,
                       size=None, checksum=None, os_hash_value=None):
    """Record a copy of the image in ``store``, with what was measured.

    Raises LocationExists if the image already has a location there.
    With ``lock_task_id`` the row is inserted only while that task owns
    the import lock of (image, store), judged in the same statement
    under a share lock on the lock row, so a task whose lock was taken
    over can never add a location (ImportLockLost).
    """
    now = timeutils.utcnow()
    values = {'image_id': image_id, 'store': store, 'url': url,
              'status': 'active', 'size': size, 'checksum': checksum,
              'os_hash_value': os_hash_value, 'created_at': now,
              'updated_at': now}
    from_ = _images
    if lock_task_id is not None:
        from_ = _images.join(_import_locks, sa.and_(
            _import_locks.c.image_id == _images.c.id,
            _import_locks.c.store == store,
            _import_locks.c.task_id == lock_task_id))
    statement = _insert_for_live_image(_locations, values, from_)
    try:
        with main_context_manager.writer.using(context) as session:
            inserted = session.execute(statement).rowcount
    except db_exc.DBDuplicateEntry:
        raise exception.LocationExists(image_id=image_id,
                                       store=store) from None
    if inserted:
        return values
    if lock_task_id is not None and _image_is_live(context, image_id):
        raise exception.ImportLockLost(image_id=image_id, store=store,
                                       task_id=lock_task_id)
    raise exception.ImageNotFound(image_id=image_id)


@_db_operation
def image_location_remove(context, image_id, store, url):
    """Forget the location of ``store`` if it is still ``url``.

    Returns True if this call removed it; a location another task has
    put there since is left alone.
    """
    return _delete_one(context, _locations,
                       _locations.c.image_id == image_id,
                       _locations.c.store == store,
                       _locations.c.url == url)


@_db_operation
def image_location_remove_unless_last(context, image_id, store):
    """Forget the image's copy in ``store``, unless it is the only one.

    Returns the removed location. Raises ImageNotFound, StoreCopyNotFound
    when the image has no copy there, and LastCopy when that copy is its
    only one.

    Whether a copy is the last one depends on the other locations, so
    the decision is made under a lock: the transaction's first statement
    updates the image row (its updated_at, since its locations change),
    which locks the row on MySQL and PostgreSQL and takes SQLite's write
    lock. Concurrent removals from the same image therefore run one
    after the other, each seeing what the previous one left, and two of
    them can never remove both of two copies.
    """
    with main_context_manager.writer.using(context) as session:
        if not session.execute(sa.update(_images).where(
                _live_image(image_id)).values(
                    updated_at=timeutils.utcnow())).rowcount:
            raise exception.ImageNotFound(image_id=image_id)
        # FOR UPDATE makes this a locking read, which sees the latest
        # committed rows even in MySQL's REPEATABLE READ.
        locations = {row['store']: dict(row) for row in session.execute(
            sa.select(_locations).where(_locations.c.image_id == image_id)
            .with_for_update()).mappings()}
        if store not in locations:
            raise exception.StoreCopyNotFound(image_id=image_id, store=store)
        if len(locations) == 1:
            raise exception.LastCopy(image_id=image_id, store=store)
        session.execute(sa.delete(_locations).where(
            _locations.c.id == locations[store]['id']))
    return locations[store]


def _image_is_live(context, image_id):
    with main_context_manager.reader.using(context) as session:
        return session.execute(sa.select(_images.c.id).where(
            _live_image(image_id))).first() is not None


# Tasks


@_db_operation
def task_create(context, values):
    """Create a task row; status defaults to pending."""
    now = timeutils.utcnow()
    task = {
        'id': str(uuid.uuid4()),
        'status': 'pending',
        'message': '',
        'result': None,
        'deleted': False,
        'created_at': now,
        'updated_at': now,
    }
    task.update(values)
    with main_context_manager.writer.using(context) as session:
        session.execute(sa.insert(_tasks).values(**task))
    return task_get(context, task['id'])


@_db_operation
def task_update(context, task_id, values, from_statuses=None):
    """Update a task; with ``from_statuses``, only from one of those.

    Returns True if the task was updated. The condition lets a task that
    has ended (say, marked failed when its lock was taken over) never be
    brought back to life by a late update from its old worker.
    """
    conditions = [_tasks.c.id == task_id]
    if from_statuses is not None:
        conditions.append(_tasks.c.status.in_(from_statuses))
    with main_context_manager.writer.using(context) as session:
        return session.execute(sa.update(_tasks).where(*conditions).values(
            updated_at=timeutils.utcnow(), **values)).rowcount == 1


@_db_operation
def task_list_for_image(context, image_id):
    """The image's tasks, oldest first."""
    with main_context_manager.reader.using(context) as session:
        return [dict(row) for row in session.execute(
            sa.select(_tasks).where(
                _tasks.c.image_id == image_id,
                _tasks.c.deleted == sa.false())
            .order_by(_tasks.c.created_at, _tasks.c.id)).mappings()]


def _visible_tasks(context):
    """WHERE clause: the tasks the caller may see (admin: all)."""
    conditions = [_tasks.c.deleted == sa.false()]
    if not context.is_admin:
        conditions.append(_owned_by_caller(context, _tasks))
    return sa.and_(*conditions)


@_db_operation
def task_list(context, filters=None, marker=None, limit=None,
              sort_dir='desc'):
    """One page of the caller's tasks, newest first by default.

    Sorted by (created_at, id) in ``sort_dir``; ``filters`` may name a
    ``status`` and a ``type`` (a value or a list). The page starts after
    task ``marker`` (TaskNotFound if the caller cannot see it) and holds
    at most ``limit`` tasks. Non-admins see only their project's tasks.
    """
    conditions = [_visible_tasks(context)]
    for key, value in (filters or {}).items():
        if key not in ('status', 'type'):
            raise exception.BadRequest(reason='unknown task filter %r' % key)
        conditions.append(_equal_to(_tasks.c[key], value))
    direction, = _sort_directions([sort_dir], 1)
    sort = [(_tasks.c.created_at, direction), (_tasks.c.id, direction)]
    with main_context_manager.reader.using(context) as session:
        marker_row = _marker_row(session, _tasks, marker,
                                 _visible_tasks(context),
                                 exception.TaskNotFound(task_id=marker))
        return [dict(row) for row in _page(
            session, _tasks, conditions, sort, marker_row, limit)]


@_db_operation
def task_get(context, task_id):
    """The task as a dict; raises TaskNotFound."""
    with main_context_manager.reader.using(context) as session:
        row = session.execute(sa.select(_tasks).where(
            _tasks.c.id == task_id,
            _tasks.c.deleted == sa.false())).mappings().first()
    if row is None:
        raise exception.TaskNotFound(task_id=task_id)
    return dict(row)
