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

Transient errors (the server unreachable, a lost connection, a deadlock
or lock wait timeout) are retried, a whole transaction at a time, as
long as the caller's context allows (``RequestContext.db_retry_timeout``;
see ``_db_operation``). A retry may follow a COMMIT that landed although
its reply was lost with the connection, so every primitive the import
pipeline uses is harmless to run twice: each says in its docstring what
a second run after a landed first one does.
"""

import contextlib
import functools
import operator
import sqlite3
import sys
import threading
import time
import uuid

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log as logging
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from glance_lite.common import exception
from glance_lite.conf import stores as stores_conf
from glance_lite.db import models

LOG = logging.getLogger(__name__)

main_context_manager = enginefacade.transaction_context()


def _without_pre_ping(engine):
    """Stop the pool from pinging every connection it hands out.

    oslo.db creates its engines with SQLAlchemy's ``pool_pre_ping`` and
    no option to turn it off: a ``SELECT 1`` round trip before every
    transaction, which doubled the statements of a refused import. A
    connection that died while pooled is found instead by its first
    statement failing: SQLAlchemy then invalidates the whole pool, and
    _RetryBudget runs that transaction again at once on a new
    connection, whatever the caller's retry budget.
    """
    engine.pool._pre_ping = False


main_context_manager.append_on_engine_create(_without_pre_ping)
# oslo.db sleeps 0 s at every connection check-in by default, to let
# eventlet's green threads run (thread_checkin). Ours are real threads,
# which the interpreter switches anyway: the sleep only made a refused
# request give up the GIL once more, and wait to get it back.
main_context_manager.configure(thread_checkin=False)

_images = models.Image.__table__
_properties = models.ImageProperty.__table__
_marker_elements = models.ImageMarkerElement.__table__
_locations = models.ImageLocation.__table__
_tasks = models.Task.__table__
_import_locks = models.ImportLock.__table__
_tags = models.ImageTag.__table__
_members = models.ImageMember.__table__

# A task in these statuses may still write; any other status is final.
LIVE_TASK_STATUSES = ('pending', 'processing')
# The list marker naming the stores an image's last imports failed in.
FAILED_IMPORT_MARKER = 'os_glance_failed_import'
# The stores an image is being imported to (derived from import locks).
IMPORTING_MARKER = 'os_glance_importing_to_stores'
# An image's status while its first import runs: saving for an upload
# (PUT /file, as Glance), importing for the import API.
FIRST_IMPORT_WORKING_STATUSES = ('importing', 'saving')

# How often a transaction that lost its connection is run again at once,
# whatever its retry budget: the pool does not ping connections, so a
# connection that died while pooled (the server restarted) is found dead
# by its first statement, and the pool is invalidated then.
_DISCONNECT_RETRIES = 1
# How often a transaction that lost a deadlock is run again before the
# caller gets DatabaseDeadlock, whatever its retry budget. Each attempt
# is a whole transaction.
_DEADLOCK_RETRIES = 5

# PostgreSQL SQLSTATEs of a server going away or not there yet: admin,
# crash and "cannot connect now" (starting up, shutting down), too many
# connections; class 08 is "connection exception".
_PG_UNAVAILABLE = ('57P01', '57P02', '57P03', '53300')
# Serialization failure, deadlock, lock not available (lock_timeout).
_PG_CONFLICT = ('40001', '40P01', '55P03')


def transient_error(error):
    """The glance-lite class of a transient database error, or None.

    oslo.db turns most of them into DBConnectionError or DBDeadlock
    (MySQL's 1205 lock wait timeout included), but not all: psycopg2
    words a refused connection as "connection to server at ... failed"
    since libpq 14, which oslo.db leaves as a bare OperationalError, and
    so it does with PostgreSQL's "the database system is starting up"
    and with serialization failures. Those are told apart here by their
    SQLSTATE (none at all for libpq's own connection failures). A pool
    that cannot hand out a connection in time is unavailable too, and
    SQLite's "database is locked" is a conflict like a deadlock.
    """
    if isinstance(error, (exception.DatabaseUnavailable,
                          db_exc.DBConnectionError, sa_exc.TimeoutError)):
        return exception.DatabaseUnavailable
    if isinstance(error, (exception.DatabaseDeadlock, db_exc.DBDeadlock)):
        return exception.DatabaseDeadlock
    if isinstance(error, sa_exc.OperationalError):
        sqlstate = getattr(error.orig, 'pgcode', '')
        if error.connection_invalidated or sqlstate is None or (
                sqlstate and (sqlstate.startswith('08')
                              or sqlstate in _PG_UNAVAILABLE)):
            return exception.DatabaseUnavailable
        if sqlstate in _PG_CONFLICT:
            return exception.DatabaseDeadlock
        if isinstance(error.orig, sqlite3.OperationalError) and (
                'database is locked' in str(error.orig)):
            # A deferred SQLite transaction that read first cannot take
            # the write lock while another writer holds it: SQLite
            # refuses at once (its busy timeout would deadlock), and the
            # whole transaction may simply run again.
            return exception.DatabaseDeadlock
    return None


@contextlib.contextmanager
def translate_errors(operation):
    """Turn oslo.db's exceptions into glance-lite's, naming ``operation``.

    Public for ``glance_lite.db.migration``, the other module that talks
    to the database.
    """
    try:
        yield
    except exception.GlanceLiteException:
        raise
    except db_exc.DBDuplicateEntry as e:
        raise exception.Duplicate(
            what='%s: an entry with the same %s' % (
                operation, ', '.join(e.columns or ['key']))) from e
    except Exception as e:
        transient = transient_error(e)
        if transient is not None:
            raise transient(operation=operation, reason=e) from e
        if isinstance(e, db_exc.DBError):
            raise exception.DatabaseError(operation=operation,
                                          reason=e) from e
        raise


def get_engine():
    """The writer engine, for migrations and the manage command."""
    with translate_errors('connecting to the database'):
        return main_context_manager.writer.get_engine()


_flow_engine = None
_flow_engine_guard = threading.Lock()


def get_flow_persistence_engine():
    """The engine TaskFlow records conductors' import flows with.

    A plain SQLAlchemy engine on the service's database, not oslo.db's:
    TaskFlow retries the database errors it knows (SQLAlchemy's, which
    it wraps in StorageFailure), while oslo.db's engine turns a deadlock
    into its own DBDeadlock, which TaskFlow let through: on MariaDB,
    concurrent imports' first saves of their steps deadlock now and
    then on the atomdetails indexes, and such an import failed.

    On SQLite its transactions also take the write lock when they begin
    (BEGIN IMMEDIATE): TaskFlow reads, then writes, in one transaction,
    and SQLite refuses such a write at once ("database is locked")
    whenever another process wrote meanwhile; this way it waits for
    the other writer, up to the driver's busy timeout, instead.
    """
    global _flow_engine
    url = get_engine().url
    with _flow_engine_guard:
        if _flow_engine is None or _flow_engine.url != url:
            _flow_engine = sa.create_engine(url)
            if url.get_backend_name() == 'sqlite':
                sa.event.listen(_flow_engine, 'connect',
                                _sqlite_autobegin_off)
                sa.event.listen(_flow_engine, 'begin',
                                _sqlite_begin_immediate)
        return _flow_engine


def _sqlite_autobegin_off(dbapi_connection, _record):
    # The driver would BEGIN (deferred) by itself before a write.
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection):
    connection.exec_driver_sql('BEGIN IMMEDIATE')


# Retries each kind of transient error gets whatever the budget.
_FREE_RETRIES = {exception.DatabaseDeadlock: _DEADLOCK_RETRIES,
                 exception.DatabaseUnavailable: _DISCONNECT_RETRIES}


class _RetryBudget:
    """Whether one call of a database operation should try again.

    oslo.db's ``wrap_db_retry`` counts attempts; this is its
    ``exception_checker``, which adds a deadline: a transient error is
    retried until ``budget`` seconds (the context's db_retry_timeout)
    have passed since the call began, a deadlock at least
    _DEADLOCK_RETRIES times and a lost connection _DISCONNECT_RETRIES
    times even without a budget. Each retry is logged
    (the first at WARNING, later ones at DEBUG), and so is giving up.
    """

    def __init__(self, operation, budget):
        self.operation = operation
        self.budget = budget
        self.deadline = (None if budget is None
                         else time.monotonic() + budget)
        self.failures = 0

    def __call__(self, error):
        kind = transient_error(error)
        if kind is None:
            return False
        self.failures += 1
        left = (0 if self.deadline is None
                else self.deadline - time.monotonic())
        if left > 0 or self.failures <= _FREE_RETRIES[kind]:
            LOG.log(logging.WARNING if self.failures == 1 else logging.DEBUG,
                    'Database operation %s failed (attempt %d, %.1f s of '
                    'retrying left): %s', self.operation, self.failures,
                    max(left, 0), error)
            return True
        if self.budget:
            LOG.warning('Giving up database operation %s after %d attempts '
                        'in %s s: %s', self.operation, self.failures,
                        self.budget, error)
        return False


def _db_operation(func):
    """Retry transient errors, then turn oslo.db errors into glance-lite's.

    It wraps functions that take the context first and open their own
    transaction, so a retry runs the whole transaction again, never
    half of one. How long is the context's ``db_retry_timeout``
    (_RetryBudget): requests fail fast, imports ride out an outage.
    Backoff is oslo.db's: 0.05 s, doubling up to 1 s, with jitter for
    deadlocks.
    """
    @functools.wraps(func)
    def wrapper(context, *args, **kwargs):
        budget = _RetryBudget(func.__name__,
                              getattr(context, 'db_retry_timeout', None))
        retrying = oslo_db_api.wrap_db_retry(
            max_retries=sys.maxsize, retry_interval=0.05,
            inc_retry_interval=True, max_retry_interval=1,
            exception_checker=budget)(func)
        with translate_errors(func.__name__):
            return retrying(context, *args, **kwargs)
    return wrapper


@contextlib.contextmanager
def _single_read(context):
    """A connection for one SELECT, with as few round trips as it takes.

    Around a statement, a reader transaction costs psycopg2 a BEGIN and
    a ROLLBACK, each a round trip to the server of its own: on
    PostgreSQL the single SELECT runs in autocommit instead, which sees
    one snapshot all the same. PyMySQL and SQLite begin their
    transactions without a round trip, and switching a MySQL connection
    to autocommit and back would cost two statements: there the
    transaction stays, and its ROLLBACK is the one other round trip. It
    is a plain connection of the engine, not enginefacade's reader,
    whose connection the pool rolled back a second time.

    psycopg2's ``autocommit`` is switched on the driver's connection
    itself: through SQLAlchemy's ``isolation_level`` option, handing the
    connection back to the pool would reset the isolation level with a
    ``SET default_transaction_isolation``, a second round trip. Switched
    off again before SQLAlchemy ends its (empty) transaction, the
    connection goes back to the pool as it came.
    """
    engine = main_context_manager.reader.get_engine()
    if engine.dialect.name != 'postgresql':
        with engine.connect() as connection:
            yield connection
        return
    with engine.connect() as connection:
        driver_connection = connection.connection.dbapi_connection
        driver_connection.autocommit = True
        try:
            yield connection
        finally:
            if not driver_connection.closed:
                driver_connection.autocommit = False


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

    With ``while_locked_by = (store, lease)`` only while that import
    lock is held under that lease (a task's id, or the lease of the
    conductor running it), judged in the same transaction (see
    ``_lock_own_rows``): a task whose lock was taken cannot change the
    status its successor relies on. Returns True if this call made the
    change. Of concurrent callers wanting the same transition, exactly
    one succeeds.

    Run again after its commit landed, it finds the image moved on and
    returns False: the import pipeline's callers (release_claims) do not
    depend on the answer.
    """
    with main_context_manager.writer.using(context) as session:
        if while_locked_by is not None:
            store, lease = while_locked_by
            if store not in _lock_own_rows(session, image_id, lease):
                return False
        return session.execute(sa.update(_images).where(
            _live_image(image_id), _images.c.status.in_(from_statuses)
        ).values(status=to_status,
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
                           'os_hash_value', 'size', 'virtual_size',
                           'min_ram', 'min_disk')

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
def image_import_markers_reveal(context, image_id):
    """Give the image its two import markers, empty, if it has not them.

    Glance shows ``os_glance_importing_to_stores`` and
    ``os_glance_failed_import`` from an image's first import on, as ""
    while they list nothing, and clients wait for that "" (Tempest's
    copy-image waiter does). They are kept as empty properties, which
    the API shows unless the marker has elements; clients cannot change
    them (reserved names). Idempotent, and harmless under concurrency:
    the unique (image, name) key keeps one row each.
    """
    now = timeutils.utcnow()
    for marker in (IMPORTING_MARKER, FAILED_IMPORT_MARKER):
        _insert_if_absent(context, _properties, {
            'image_id': image_id, 'name': marker, 'value': '',
            'created_at': now})


@_db_operation
def image_marker_add(context, image_id, marker, element,
                     while_locked_by=None):
    """Add ``element`` to list marker ``marker`` of the image.

    Returns True if added, False if it was already there or, with
    ``while_locked_by = (store, lease)``, if that import lock is no
    longer held under that lease: a reaped task marks nothing. Other elements,
    including ones added concurrently, are never touched. Raises
    ImageNotFound for a missing or deleted image.

    Run again after its commit landed, it finds the element there and
    returns False, the answer for an element that was already present.
    """
    if while_locked_by is None:
        return _insert_if_absent(context, _marker_elements, {
            'image_id': image_id, 'marker': marker, 'element': element,
            'created_at': timeutils.utcnow()})
    store, lease = while_locked_by
    with main_context_manager.writer.using(context) as session:
        if store not in _lock_own_rows(session, image_id, lease):
            return False
        return _add_marker_element(session, image_id, marker, element,
                                   timeutils.utcnow()) == 1


@_db_operation
def image_marker_remove(context, image_id, marker, element):
    """Remove ``element`` from list marker ``marker``; True if it was there.

    Run again after its commit landed, it finds nothing and returns False.
    """
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


def _import_state_query():
    """image_import_state's SELECT, built once: only its parameters vary.

    The image's few locations and locks are joined to it, so their
    product is small. A caller without a project (None) matches no
    membership row.
    """
    is_member = sa.exists().where(
        _members.c.image_id == _images.c.id,
        _members.c.member == sa.bindparam('project_id'))
    joined = _images.outerjoin(
        _import_locks, _import_locks.c.image_id == _images.c.id).outerjoin(
        _locations, _locations.c.image_id == _images.c.id)
    return sa.select(
        _images.c.id, _images.c.owner, _images.c.visibility,
        _images.c.status, is_member.label('is_member'),
        _import_locks.c.store.label('lock_store'), _import_locks.c.task_id,
        _import_locks.c.heartbeat_at,
        _locations.c.store.label('location_store'),
    ).select_from(joined).where(_images.c.id == sa.bindparam('image_id'),
                                _images.c.deleted == sa.false())


_IMPORT_STATE = _import_state_query()


@_db_operation
def image_import_state(context, image_id):
    """What decides whether an import of the image may be refused at once.

    One SELECT, so that a request doomed to a 409 costs the database a
    single statement: the image's id, owner, visibility and status,
    ``is_member`` (the caller's project is a member of it), the stores
    it has a location in (``location_stores``, a set) and its import
    locks (``import_locks``: store -> {task_id, heartbeat_at}). Raises
    ImageNotFound for a missing or deleted image.

    Only a read: a refusal made from it is right as of the read (the
    lock was held, the copy was there), and anything it does not refuse
    goes on to take its locks atomically (import_lock_acquire).
    """
    with _single_read(context) as connection:
        rows = connection.execute(_IMPORT_STATE, {
            'image_id': image_id, 'project_id': context.project_id,
        }).mappings().all()
    if not rows:
        raise exception.ImageNotFound(image_id=image_id)
    state = {key: rows[0][key]
             for key in ('id', 'owner', 'visibility', 'status')}
    state['is_member'] = bool(rows[0]['is_member'])
    state['location_stores'] = {row['location_store'] for row in rows
                                if row['location_store'] is not None}
    state['import_locks'] = {
        row['lock_store']: {'task_id': row['task_id'],
                            'heartbeat_at': row['heartbeat_at']}
        for row in rows if row['lock_store'] is not None}
    return state


# A conflicting lock can be released between our INSERT failing and our
# reading who holds it; then the INSERT is simply tried again.
_ACQUIRE_ATTEMPTS = 3


@_db_operation
def import_lock_acquire(context, image_id, store, task_id, owner=None,
                        now=None):
    """Take the import lock of (image, store) for ``task_id``.

    ``owner`` (``owner_host``, ``owner_pid``) names the process that will
    run the task. The lock is held under the task's id as its lease
    until a conductor takes it over (``import_lock_take_over``).
    Returns the lock. Raises ImportLockHeld naming the
    owner task (and carrying its ``heartbeat_at``) if another task holds
    it, and ImageNotFound if the image is missing or deleted.

    Run again after its commit landed, it finds ``task_id`` holding the
    lock and returns that lock: task ids are never reused, so no other
    call can have taken it for this task.
    """
    now = now or timeutils.utcnow()
    lock = {'image_id': image_id, 'store': store, 'task_id': task_id,
            'lease': task_id, 'acquired_at': now, 'heartbeat_at': now}
    lock.update(owner or {})
    for _attempt in range(_ACQUIRE_ATTEMPTS):
        if _insert_if_absent(context, _import_locks, lock):
            return lock
        holder = import_lock_get(context, image_id, store)
        if holder is not None and holder['task_id'] == task_id:
            return holder
        if holder is not None:
            raise exception.ImportLockHeld(
                image_id=image_id, store=store, task_id=holder['task_id'],
                heartbeat_at=holder['heartbeat_at'])
    raise exception.ImportLockHeld(image_id=image_id, store=store,
                                   task_id='(changing hands)',
                                   heartbeat_at=None)


@_db_operation
def import_lock_heartbeat(context, image_id, task_id, progress=None,
                          message=None, now=None, lease=None):
    """Refresh every lock ``task_id`` holds on the image, in one statement.

    Only the locks held under ``lease`` (the task's id by default; see
    ``import_lock_take_over``) count as the caller's.

    All of a task's locks thus always carry the same heartbeat, so a
    reaper finds them stale together or not at all. ``progress``
    (store, bytes done, bytes total) is recorded on that store's lock,
    and ``message`` becomes the task's message while it is live.
    Returns the set of stores the task still holds: a lock missing from
    it was taken from the task (reaped, or dropped with its image), and
    the task must stop writing there.
    Harmless to run again after its commit landed: it refreshes the
    heartbeats once more.
    """
    now = now or timeutils.utcnow()
    values = {'heartbeat_at': now}
    if progress is not None:
        store, done, total = progress
        values['bytes_done'] = sa.case(
            (_import_locks.c.store == store, done),
            else_=_import_locks.c.bytes_done)
        values['bytes_total'] = sa.case(
            (_import_locks.c.store == store, total),
            else_=_import_locks.c.bytes_total)
    owned = _held_under(image_id, lease or task_id)
    with main_context_manager.writer.using(context) as session:
        session.execute(sa.update(_import_locks).where(owned).values(
            **values))
        if message is not None:
            session.execute(sa.update(_tasks).where(
                _tasks.c.id == task_id,
                _tasks.c.status.in_(LIVE_TASK_STATUSES)).values(
                    message=message, updated_at=now))
        return set(session.execute(
            sa.select(_import_locks.c.store).where(owned)).scalars())


@_db_operation
def import_lock_release(context, image_id, store, lease):
    """Drop the lock if it is still held under ``lease``; True if it was.

    A lease is the id of the task holding the lock, or the lease of the
    conductor that took the task's locks over.
    Run again after its commit landed, it finds no lock and returns False.
    """
    return _delete_one(context, _import_locks, _lock_key(image_id, store),
                       _import_locks.c.lease == lease)


@_db_operation
def import_lock_release_all(context, image_id, lease):
    """Drop every lock held under ``lease`` on the image; how many it held.

    Run again after its commit landed, it finds none and returns 0.
    """
    with main_context_manager.writer.using(context) as session:
        return session.execute(sa.delete(_import_locks).where(
            _held_under(image_id, lease))).rowcount


@_db_operation
def import_lock_take_over(context, image_id, task_id, lease, owner,
                          now=None):
    """Hold every lock of ``task_id`` on the image under a new ``lease``.

    What a conductor does when it claims an import's job, whoever held
    the task's locks before (the API process that accepted it, or a
    conductor whose claim lapsed): one statement moves them all, with a
    fresh heartbeat and ``owner`` (``owner_host``, ``owner_pid``). From
    then on every write of the former holder is refused, since each one
    checks its lease in the transaction that makes it
    (``_lock_own_rows``). Returns the stores taken over: none when the
    task's locks are gone (reaped, released, or dropped with the image).
    Run again after its commit landed, it takes them over once more.
    """
    now = now or timeutils.utcnow()
    with main_context_manager.writer.using(context) as session:
        session.execute(sa.update(_import_locks).where(
            _import_locks.c.image_id == image_id,
            _import_locks.c.task_id == task_id).values(
                lease=lease, heartbeat_at=now, **(owner or {})))
        return set(session.execute(sa.select(_import_locks.c.store).where(
            _held_under(image_id, lease))).scalars())


@_db_operation
def import_lock_list_all(context, stale_before=None):
    """Every import lock of every image, oldest heartbeat first.

    With ``stale_before``, only the locks whose heartbeat is older: the
    ones a reaper may take. The lock table holds a row per running
    import and store, so this stays small.
    """
    query = sa.select(_import_locks).order_by(
        _import_locks.c.heartbeat_at, _import_locks.c.image_id,
        _import_locks.c.store)
    if stale_before is not None:
        query = query.where(_import_locks.c.heartbeat_at < stale_before)
    with main_context_manager.reader.using(context) as session:
        return [dict(row) for row in session.execute(query).mappings()]


def _held_under(image_id, lease):
    return sa.and_(_import_locks.c.image_id == image_id,
                   _import_locks.c.lease == lease)


def _lock_own_rows(session, image_id, lease):
    """Row-lock the import locks held under ``lease``; return their stores.

    The first statement of every transaction in which an import task
    writes to its image: an UPDATE of its own lock rows that changes
    nothing, but holds them until the transaction ends. A reaper that
    is deleting them at that moment makes us wait and then find them
    gone; once we have them, no reaper can take them before we commit.
    So "is the lock still ours?" and the write it guards are one
    decision, on every backend (on SQLite the UPDATE takes the database
    write lock first).
    """
    owned = _held_under(image_id, lease)
    session.execute(sa.update(_import_locks).where(owned).values(
        lease=_import_locks.c.lease))
    return set(session.execute(
        sa.select(_import_locks.c.store).where(owned)).scalars())


def _add_marker_element(session, image_id, marker, element, now):
    """Add ``element`` to list marker ``marker`` unless it is there.

    INSERT ... SELECT ... WHERE NOT EXISTS, so that it never raises a
    duplicate error, which would abort the caller's transaction on
    PostgreSQL. Only for a caller that holds the import lock of the
    store ``element`` names, which keeps concurrent adders of the same
    element away. Returns the number of rows inserted.
    """
    absent = ~sa.exists().where(_marker_elements.c.image_id == image_id,
                                _marker_elements.c.marker == marker,
                                _marker_elements.c.element == element)
    return session.execute(sa.insert(_marker_elements).from_select(
        ['image_id', 'marker', 'element', 'created_at'],
        sa.select(sa.literal(image_id, _images.c.id.type),
                  sa.literal(marker, _marker_elements.c.marker.type),
                  sa.literal(element, _marker_elements.c.element.type),
                  sa.literal(now, _marker_elements.c.created_at.type))
        .where(_live_image(image_id), absent))).rowcount


@_db_operation
def import_finish(context, image_id, task_id, outcome, activation=None,
                  staged_url=None, lease=None):
    """End a successful import in one transaction, if it still owns it.

    The task owns what it holds under ``lease``: its own id unless a
    conductor took its locks over (``import_lock_take_over``).

    ``outcome`` is the task's result: ``stores_succeeded`` and
    ``stores_failed``. For every store whose lock ``task_id`` still
    holds, the failed-import marker gains the failed ones and loses the
    succeeded ones; then all the task's locks are dropped and the task
    is marked a success. With ``activation`` (the measured size and
    digests) a first import's image also goes from importing to active,
    which needs the staging lock. So whoever sees the image active sees
    its stores free and its task ended, and a task whose locks were
    reaped while it was stalled changes nothing: it gets ImportLockLost
    (ImageNotFound if the image was deleted). ``staged_url``, the staged
    data a glance-direct import consumed, is forgotten in the same
    transaction; its file is the caller's to delete.

    Run again after its commit landed, it finds its task a success
    (nothing else makes a task one) and returns as the first run did.
    """
    now = timeutils.utcnow()
    with main_context_manager.writer.using(context) as session:
        lease = lease or task_id
        held = _lock_own_rows(session, image_id, lease)
        needed = ({stores_conf.STAGING_STORE} if activation is not None
                  else set(outcome['stores_succeeded']))
        if not held & needed:
            if _task_status(session, task_id) == 'success':
                return  # run again after our own commit landed
            if _image_is_live(context, image_id):
                raise exception.ImportLockLost(
                    image_id=image_id, task_id=task_id,
                    store=', '.join(sorted(needed)))
            raise exception.ImageNotFound(image_id=image_id)
        if activation is not None and not session.execute(
                sa.update(_images).where(
                    _live_image(image_id),
                    _images.c.status.in_(FIRST_IMPORT_WORKING_STATUSES)
                ).values(status='active', updated_at=now,
                         **activation)).rowcount:
            raise exception.ImageNotFound(image_id=image_id)
        for store in held.intersection(outcome['stores_failed']):
            _add_marker_element(session, image_id, FAILED_IMPORT_MARKER,
                                store, now)
        session.execute(sa.delete(_marker_elements).where(
            _marker_elements.c.image_id == image_id,
            _marker_elements.c.marker == FAILED_IMPORT_MARKER,
            _marker_elements.c.element.in_(
                held.intersection(outcome['stores_succeeded']))))
        if staged_url is not None:
            session.execute(sa.delete(_locations).where(
                _locations.c.image_id == image_id,
                _locations.c.store == stores_conf.STAGING_STORE,
                _locations.c.url == staged_url))
        session.execute(sa.delete(_import_locks).where(
            _held_under(image_id, lease)))
        session.execute(sa.update(_tasks).where(
            _tasks.c.id == task_id,
            _tasks.c.status.in_(LIVE_TASK_STATUSES)).values(
                status='success', message='', result=outcome,
                updated_at=now))


def _task_status(session, task_id):
    return session.execute(sa.select(_tasks.c.status).where(
        _tasks.c.id == task_id)).scalar()


@_db_operation
def import_lock_leases(context, image_id, task_id):
    """The leases the locks of ``task_id`` on the image are held under."""
    with main_context_manager.reader.using(context) as session:
        return set(session.execute(sa.select(_import_locks.c.lease).where(
            _import_locks.c.image_id == image_id,
            _import_locks.c.task_id == task_id)).scalars())


@_db_operation
def import_task_fail(context, image_id, task_id, lease, message):
    """Mark a live import task failed, unless another run holds its locks.

    A run whose locks a conductor took over (``import_lock_take_over``)
    must not fail the task the new run is carrying on: the update
    happens only while no lock of the task is held under another lease
    than ``lease``, judged in the same statement. True if it was marked.
    Run again after its commit landed, it finds the task ended.
    """
    taken_over = sa.exists().where(
        _import_locks.c.image_id == image_id,
        _import_locks.c.task_id == task_id,
        _import_locks.c.lease != lease)
    with main_context_manager.writer.using(context) as session:
        return session.execute(sa.update(_tasks).where(
            _tasks.c.id == task_id,
            _tasks.c.status.in_(LIVE_TASK_STATUSES),
            ~taken_over).values(
                status='failure', message=message,
                updated_at=timeutils.utcnow())).rowcount == 1


@_db_operation
def import_flow_forget(context, task_id):
    """Delete what TaskFlow recorded of the flow of import ``task_id``.

    A conductor's run records the flow in TaskFlow's tables: a logbook
    holding a flow detail holding an atom detail per step, the logbook
    and the flow detail named by the task id (glance_lite.imports.jobs).
    Once the import has ended nothing will resume it. The rows are
    deleted one table after the other, children first, rather than
    through the foreign keys' cascade, which SQLite does not enforce.
    Run again after its commit landed, it finds nothing to delete.
    """
    atoms, flows, books = (models.Base.metadata.tables[name] for name in
                           ('atomdetails', 'flowdetails', 'logbooks'))
    with main_context_manager.writer.using(context) as session:
        session.execute(sa.delete(atoms).where(atoms.c.parent_uuid.in_(
            sa.select(flows.c.uuid).where(flows.c.parent_uuid == task_id))))
        session.execute(sa.delete(flows).where(
            flows.c.parent_uuid == task_id))
        session.execute(sa.delete(books).where(books.c.uuid == task_id))


@_db_operation
def import_reap(context, image_id, dead_task_id, stale_before, message):
    """Undo, in the database, an import whose owner stopped heartbeating.

    One transaction: its first statement deletes the locks of
    ``dead_task_id`` on the image whose heartbeat is older than
    ``stale_before``; that DELETE is the decision, so of several reapers
    (or a reaper and a request finding the same dead lock) exactly one
    gets the stores and the others get nothing. For the stores it got,
    the locations the dead task added are removed (the failed-import
    marker is left alone: a client waiting for a retried copy must not
    see the dead one as that copy's failure); if it held the staging
    lock (a first import, or a stage request: ``task_id`` is then its
    write id, with no task row), the image goes back from importing to
    uploading when its staged data is there, or to queued, from
    uploading to queued when nothing was staged (a stager that died
    while writing), and from saving (an upload, whose data is the
    task's own) to queued; the task becomes a failure with
    ``message``. The dead task, should it wake up, finds its locks gone
    and every write it tries refused.

    Returns ``{'stores': [...], 'status': restored status or None,
    'kept': [...]}``, with no stores when another reaper won. The data
    the task wrote is the caller's to remove, by the task id, after
    this commits, except in the ``kept`` stores: there it is the
    image's recorded data (a stager that died after recording it).
    """
    now = timeutils.utcnow()
    dead = sa.and_(_import_locks.c.image_id == image_id,
                   _import_locks.c.task_id == dead_task_id,
                   _import_locks.c.heartbeat_at < stale_before)
    with main_context_manager.writer.using(context) as session:
        stores = sorted(session.execute(
            sa.delete(_import_locks).where(dead).returning(
                _import_locks.c.store)).scalars())
        if not stores:
            return {'stores': [], 'status': None, 'kept': []}
        targets = [store for store in stores
                   if store != stores_conf.STAGING_STORE]
        # A stager that recorded its data and died before it let go of
        # the lock: that data is the image's now.
        kept = sorted(session.execute(sa.select(_locations.c.store).where(
            _locations.c.image_id == image_id,
            _locations.c.store == stores_conf.STAGING_STORE,
            _locations.c.task_id == dead_task_id)).scalars())
        session.execute(sa.delete(_locations).where(
            _locations.c.image_id == image_id,
            _locations.c.store.in_(targets),
            _locations.c.task_id == dead_task_id))
        status = None
        if stores_conf.STAGING_STORE in stores:
            staged = sa.exists().where(
                _locations.c.image_id == image_id,
                _locations.c.store == stores_conf.STAGING_STORE)
            restored = sa.case(
                (sa.and_(_images.c.status.in_(('importing', 'uploading')),
                         staged), 'uploading'), else_='queued')
            if session.execute(sa.update(_images).where(
                    _live_image(image_id),
                    _images.c.status.in_(FIRST_IMPORT_WORKING_STATUSES
                                         + ('uploading',))
            ).values(status=restored, updated_at=now)).rowcount:
                status = session.execute(sa.select(_images.c.status).where(
                    _images.c.id == image_id)).scalar_one()
        session.execute(sa.update(_tasks).where(
            _tasks.c.id == dead_task_id,
            _tasks.c.status.in_(LIVE_TASK_STATUSES)).values(
                status='failure', message=message, updated_at=now))
    return {'stores': stores, 'status': status, 'kept': kept}


# Locations


@_db_operation
def image_location_add(context, image_id, store, url, lock_task_id=None,
                       size=None, checksum=None, os_hash_value=None,
                       inspected_format=None, virtual_size=None,
                       lock_lease=None):
    """Record a copy of the image in ``store``, with what was measured.

    Raises LocationExists if the image already has a location there.
    With ``lock_task_id`` the row is inserted only while that task owns
    the import lock of (image, store), judged in the same statement
    under a share lock on the lock row, so a task whose lock was taken
    over can never add a location (ImportLockLost); ``lock_lease``, when
    a conductor holds the task's locks, is the lease they are held
    under. Staged data also
    records what its inspection found: ``inspected_format`` and
    ``virtual_size`` (glance_lite.imports.inspection).

    Run again after its commit landed, it meets its own row: a location
    in ``store`` at exactly ``url`` (URLs name the task that wrote the
    data, so no other call adds the same one) counts as this call's
    success, not as LocationExists.
    """
    now = timeutils.utcnow()
    values = {'image_id': image_id, 'store': store, 'url': url,
              'status': 'active', 'size': size, 'checksum': checksum,
              'os_hash_value': os_hash_value, 'task_id': lock_task_id,
              'inspected_format': inspected_format,
              'virtual_size': virtual_size,
              'created_at': now, 'updated_at': now}
    from_ = _images
    if lock_task_id is not None:
        from_ = _images.join(_import_locks, sa.and_(
            _import_locks.c.image_id == _images.c.id,
            _import_locks.c.store == store,
            _import_locks.c.lease == (lock_lease or lock_task_id)))
    statement = _insert_for_live_image(_locations, values, from_)
    try:
        with main_context_manager.writer.using(context) as session:
            inserted = session.execute(statement).rowcount
    except db_exc.DBDuplicateEntry:
        if _location_url(context, image_id, store) == url:
            return values
        raise exception.LocationExists(image_id=image_id,
                                       store=store) from None
    if inserted:
        return values
    if lock_task_id is not None and _image_is_live(context, image_id):
        raise exception.ImportLockLost(image_id=image_id, store=store,
                                       task_id=lock_task_id)
    raise exception.ImageNotFound(image_id=image_id)


def _location_url(context, image_id, store):
    with main_context_manager.reader.using(context) as session:
        return session.execute(sa.select(_locations.c.url).where(
            _locations.c.image_id == image_id,
            _locations.c.store == store)).scalar()


@_db_operation
def image_location_remove(context, image_id, store, url):
    """Forget the location of ``store`` if it is still ``url``.

    Returns True if this call removed it; a location another task has
    put there since is left alone. Run again after its commit landed,
    it finds nothing and returns False.
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
    """Create a task row; status defaults to pending.

    Callers that give the ``id`` may run it again after its commit
    landed: the task with that id is then returned, as it is ours.
    """
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
    try:
        with main_context_manager.writer.using(context) as session:
            session.execute(sa.insert(_tasks).values(**task))
    except db_exc.DBDuplicateEntry:
        if 'id' not in values:
            raise
    return task_get(context, task['id'])


@_db_operation
def task_update(context, task_id, values, from_statuses=None):
    """Update a task; with ``from_statuses``, only from one of those.

    Returns True if the task was updated. The condition lets a task that
    has ended (say, marked failed when its lock was taken over) never be
    brought back to life by a late update from its old worker.

    A task that already has the ``status`` and ``message`` being set
    counts as updated: that is how a run after a landed commit finds it
    (a task that went pending -> processing is no longer pending), and
    it leaves the row as that update made it.
    """
    conditions = [_tasks.c.id == task_id]
    if from_statuses is not None:
        conditions.append(_tasks.c.status.in_(from_statuses))
    with main_context_manager.writer.using(context) as session:
        if session.execute(sa.update(_tasks).where(*conditions).values(
                updated_at=timeutils.utcnow(), **values)).rowcount == 1:
            return True
        if 'status' not in values:
            return False
        row = session.execute(sa.select(_tasks.c.status, _tasks.c.message)
                              .where(_tasks.c.id == task_id)).first()
    return row is not None and all(
        values[key] == row._mapping[key] for key in ('status', 'message')
        if key in values)


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


# Reads for the operator commands (glance-lite-manage imports / stores)


@_db_operation
def image_location_list_all(context, store=None, image_id=None):
    """Every location of every live image, or of one store or image.

    Locations of deleted images are left out: their rows stay as
    history, but nothing should be left at their URLs, so they explain
    no data and their missing data is no fault.
    """
    query = sa.select(_locations).select_from(_locations.join(
        _images, _images.c.id == _locations.c.image_id)).where(
            _images.c.deleted == sa.false())
    if store is not None:
        query = query.where(_locations.c.store == store)
    if image_id is not None:
        query = query.where(_locations.c.image_id == image_id)
    with main_context_manager.reader.using(context) as session:
        return [dict(row) for row in session.execute(
            query.order_by(_locations.c.store, _locations.c.image_id))
            .mappings()]
