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
after the decision, only to word an error message.

Every public function opens and finishes its own transaction; do not
call one inside another's transaction (a failed INSERT aborts the whole
transaction on PostgreSQL).
"""

import contextlib
import functools
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


@_db_operation
def image_create(context, values, properties=None):
    """Create an image row and its custom properties in one transaction."""
    now = timeutils.utcnow()
    image = _new_image_values(values, now)
    try:
        with main_context_manager.writer.using(context) as session:
            session.execute(sa.insert(_images).values(**image))
            for name, value in (properties or {}).items():
                session.execute(sa.insert(_properties).values(
                    image_id=image['id'], name=name, value=value,
                    created_at=now, updated_at=now))
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


@_db_operation
def image_get(context, image_id):
    """The image with its properties, marker lists and locations.

    Raises ImageNotFound for a missing or deleted image.
    """
    with main_context_manager.reader.using(context) as session:
        row = session.execute(
            sa.select(_images).where(_live_image(image_id))
        ).mappings().first()
        if row is None:
            raise exception.ImageNotFound(image_id=image_id)
        image = dict(row)
        image['properties'] = dict(session.execute(
            sa.select(_properties.c.name, _properties.c.value)
            .where(_properties.c.image_id == image_id)).all())
        markers = {}
        for marker, element in session.execute(
                sa.select(_marker_elements.c.marker,
                          _marker_elements.c.element)
                .where(_marker_elements.c.image_id == image_id)
                .order_by(_marker_elements.c.marker,
                          _marker_elements.c.element)):
            markers.setdefault(marker, []).append(element)
        image['markers'] = markers
        image['locations'] = [dict(loc) for loc in session.execute(
            sa.select(_locations)
            .where(_locations.c.image_id == image_id)
            .order_by(_locations.c.id)).mappings()]
        # Derived, not stored: a store is being imported to exactly
        # while an import lock for it exists, so this can never leak.
        image['importing_to_stores'] = list(session.execute(
            sa.select(_import_locks.c.store)
            .where(_import_locks.c.image_id == image_id)
            .order_by(_import_locks.c.store)).scalars())
    return image


@_db_operation
def image_update(context, image_id, values, properties=None):
    """Change only the given fields and custom properties of an image.

    One UPDATE of exactly the columns in ``values`` (never a whole row
    read earlier), and per property one UPDATE, or one INSERT if it is
    new: edits of other fields or properties made meanwhile, by a user
    or an import, are kept. Raises ImageNotFound.
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
