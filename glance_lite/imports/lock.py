"""Import locks: taking, keeping and taking over the right to import.

The database decides every change of a lock (``glance_lite.db.api``);
this module adds the rules of time. A lock whose heartbeat is older
than ``[import] lock_ttl`` belongs to a task that died or stalled: the
reaper (``glance_lite.imports.reaper``) undoes that task, periodically
or when a new import wants the store. A working task proves it is alive
by refreshing its heartbeats every ``[import] heartbeat_interval``
while its data moves.
"""

import datetime
import os
import threading
import time

from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from glance_lite.common import exception
from glance_lite.conf import stores as stores_conf
from glance_lite.db import api as db_api

LOG = logging.getLogger(__name__)

LIVE_TASK_STATUSES = db_api.LIVE_TASK_STATUSES

# Acquire, find a dead owner, reap it: a race lost at either step is
# retried from the start, a couple of times at most.
_ACQUIRE_ATTEMPTS = 3

# Heartbeats come every heartbeat_interval; at DEBUG, one line per task
# at most this often says they still do.
_HEARTBEAT_LOG_INTERVAL = 30.0


def lock_owner(conf):
    """What a lock records of the process that takes it: host and pid."""
    return {'owner_host': conf.host, 'owner_pid': os.getpid()}


def new_lease(task_id):
    """A lease for one conductor's run of ``task_id``: ``<task id>_<nonce>``.

    Each run names its writes by its lease, and a lease starts with the
    task's id, so everything any run of a task wrote is found by that
    id (``discard_task_writes``).
    """
    return '%s_%s' % (task_id, uuidutils.generate_uuid(dashed=False)[:12])


def discard_task_writes(store, image_id, task_id):
    """Remove from ``store`` (a driver) what every run of ``task_id`` wrote.

    The task's own id names the writes of a run in the API process; a
    lease of it (``new_lease``) those of each conductor that ran it.
    """
    store.discard(image_id, task_id)
    runs = task_id + '_'
    for stored in list(store.list_objects(image_id)):
        if stored.write_id.startswith(runs):
            store.discard(image_id, stored.write_id)


def stale_before(lock_ttl):
    """The heartbeat time before which a lock's owner counts as dead."""
    return timeutils.utcnow() - datetime.timedelta(seconds=lock_ttl)


def refuse_if_held(state, stores, lock_ttl):
    """Refuse at once an import whose target store's lock is live.

    ``state`` is the image's import state as just read
    (db_api.image_import_state). Raises ImportLockHeld, naming the
    owner, for the first of ``stores`` whose lock has a heartbeat newer
    than ``lock_ttl``: the request is refused as of that read, when the
    lock was held, without trying to take it (which would cost a
    failing INSERT and a read of the holder). A stale lock is left to
    acquire_import_locks, which reaps it; a free store is taken there
    atomically, so this check never decides who wins.
    """
    live_since = stale_before(lock_ttl)
    for store in stores:
        held = state['import_locks'].get(store)
        if held is not None and held['heartbeat_at'] >= live_since:
            raise exception.ImportLockHeld(
                image_id=state['id'], store=store, task_id=held['task_id'],
                heartbeat_at=held['heartbeat_at'])


def acquire_import_locks(context, image_id, stores, task_id, owner,
                         lock_ttl, reap):
    """Take the import locks of ``stores`` for ``task_id``: all, or none.

    A lock whose heartbeat is more than ``lock_ttl`` seconds old belongs
    to a dead task: ``reap(dead_task_id)`` undoes that task (the
    reaper's own atomic statement decides, so a request and a reaper
    never both win) and the lock is tried again. Raises ImportLockHeld,
    naming the owner, for the first store whose lock is live; the locks
    already taken for this call are then released.
    """
    acquired = []
    try:
        for store in stores:
            _acquire(context, image_id, store, task_id, owner, lock_ttl,
                     reap)
            acquired.append(store)
    except Exception:
        for store in acquired:
            db_api.import_lock_release(context, image_id, store, task_id)
            LOG.debug('Task %s released the import lock of image %s in '
                      'store %s: not all its locks could be taken',
                      task_id, image_id, store)
        raise


def _acquire(context, image_id, store, task_id, owner, lock_ttl, reap):
    for attempt in range(_ACQUIRE_ATTEMPTS):
        try:
            db_api.import_lock_acquire(context, image_id, store, task_id,
                                       owner)
            LOG.debug('Task %s acquired the import lock of image %s in '
                      'store %s', task_id, image_id, store)
            return
        except exception.ImportLockHeld as held:
            heartbeat_at = held.kwargs['heartbeat_at']
            LOG.debug('Task %s: the import lock of image %s in store %s is '
                      'held by task %s, last heartbeat %s', task_id,
                      image_id, store, held.kwargs['task_id'], heartbeat_at)
            if (heartbeat_at is None
                    or heartbeat_at >= stale_before(lock_ttl)
                    or attempt == _ACQUIRE_ATTEMPTS - 1):
                raise
            reap(held.kwargs['task_id'])


def format_progress(store, done, total):
    """'Copying to store fast: 512.0 of 1024.0 MiB (50%)'."""
    where = ('Staging data' if store == stores_conf.STAGING_STORE
             else 'Copying to store %s' % store)
    if not total:
        return '%s: %.1f MiB' % (where, done / 2 ** 20)
    return '%s: %.1f of %.1f MiB (%d%%)' % (
        where, done / 2 ** 20, total / 2 ** 20, done * 100 // total)


class LockKeeper:
    """Keeps one task's import locks alive while its data moves.

    The locks count as the task's while they are held under ``lease``
    (the task's id, unless a conductor runs it under a lease of its
    own). ``watch`` wraps a stream of chunks: at most every ``interval``
    seconds it refreshes every lock the task still holds and writes the
    progress into the task's message. A lock found taken over (or gone
    with its image) is dropped from ``held`` into ``lost``. If it is the
    lock of the store being written, the write stops at once with
    ImportLockLost: a preempted task stops at its next heartbeat, not at
    the end of its copy, and the store driver removes its partial file.

    The target stores of one import are written at the same time, each
    through its own ``watch``: one refresh per interval heartbeats all
    of them (with the progress of the store that made it), and every
    write checks its own lock at each chunk.
    """

    def __init__(self, context, image_id, task_id, stores, interval,
                 lease=None):
        self.context = context
        self.image_id = image_id
        self.task_id = task_id
        self.lease = lease or task_id
        self.interval = interval
        self.held = set(stores)
        self.lost = set()
        self._last_beat = time.monotonic()
        self._last_beat_logged = self._last_beat
        self._beating = threading.Lock()

    def refresh(self, progress=None):
        """Heartbeat every held lock now; note which ones are lost.

        ``progress`` (store, bytes done, bytes total) is recorded on
        that store's lock and worded into the task's message.
        """
        with self._beating:
            self._refresh(progress)

    def _refresh(self, progress):
        self._last_beat = time.monotonic()
        message = format_progress(*progress) if progress else None
        still_held = db_api.import_lock_heartbeat(
            self.context, self.image_id, self.task_id, progress=progress,
            message=message, lease=self.lease)
        for store in sorted(self.held - still_held):
            LOG.warning('Task %s lost the import lock of image %s in '
                        'store %s', self.task_id, self.image_id, store)
            self.lost.add(store)
        self.held &= still_held
        if self._last_beat - self._last_beat_logged >= (
                _HEARTBEAT_LOG_INTERVAL):
            self._last_beat_logged = self._last_beat
            LOG.debug('Task %s heartbeats its import locks of image %s in '
                      '%s%s', self.task_id, self.image_id,
                      ', '.join(sorted(self.held)) or 'no store',
                      ': %s' % message if message else '')

    def ensure_held(self, store):
        """Raise ImportLockLost unless ``store`` is still locked for us.

        ``None`` stands for "any": a copy-image is worth going on with
        while at least one of its locks is held.
        """
        if (store in self.lost) if store is not None else not self.held:
            raise exception.ImportLockLost(
                image_id=self.image_id, task_id=self.task_id,
                store=store if store is not None else 'any store')

    def watch(self, chunks, store, total):
        """Yield ``chunks``, heartbeating on the way (see the class)."""
        done = 0
        for chunk in chunks:
            done += len(chunk)
            if time.monotonic() - self._last_beat >= self.interval:
                with self._beating:
                    # Another store's write may have just done it.
                    if time.monotonic() - self._last_beat >= self.interval:
                        self._refresh((store, done, total))
            self.ensure_held(store)
            yield chunk
