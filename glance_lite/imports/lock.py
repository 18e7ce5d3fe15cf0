"""Import locks: taking, keeping and taking over the right to import.

The database decides every change of a lock (``glance_lite.db.api``);
this module adds the rules of time. A lock whose heartbeat is older
than ``[import] lock_ttl`` belongs to a task that died or stalled, and a
new import may take it over; a working task proves it is alive by
refreshing its heartbeats every ``[import] heartbeat_interval`` while
its data moves.
"""

import datetime
import time

from oslo_log import log as logging
from oslo_utils import timeutils

from glance_lite.common import exception
from glance_lite.conf import stores as stores_conf
from glance_lite.db import api as db_api

LOG = logging.getLogger(__name__)

LIVE_TASK_STATUSES = ('pending', 'processing')

# Acquire, find a stale owner, take over: a race lost at either step is
# retried from the start, a couple of times at most.
_ACQUIRE_ATTEMPTS = 3


def acquire_import_locks(context, image_id, stores, task_id, lock_ttl):
    """Take the import locks of ``stores`` for ``task_id``: all, or none.

    A lock whose heartbeat is more than ``lock_ttl`` seconds old is taken
    over, and the task that held it is marked failed with the reason.
    Returns ``{store: previous owner's task id}`` for the locks taken
    over, so the caller can remove what those tasks left behind. Raises
    ImportLockHeld, naming the owner, for the first store whose lock is
    live; the locks already taken for this call are then released.
    """
    taken_over = {}
    acquired = []
    try:
        for store in stores:
            previous_owner = _acquire(context, image_id, store, task_id,
                                      lock_ttl)
            acquired.append(store)
            if previous_owner is not None:
                taken_over[store] = previous_owner
    except Exception:
        for store in acquired:
            db_api.import_lock_release(context, image_id, store, task_id)
        raise
    return taken_over


def _acquire(context, image_id, store, task_id, lock_ttl):
    """Take one lock; return the owner it was taken from, if any."""
    for attempt in range(_ACQUIRE_ATTEMPTS):
        try:
            db_api.import_lock_acquire(context, image_id, store, task_id)
            return None
        except exception.ImportLockHeld as held:
            stale_before = timeutils.utcnow() - datetime.timedelta(
                seconds=lock_ttl)
            heartbeat_at = held.kwargs['heartbeat_at']
            if (heartbeat_at is None or heartbeat_at >= stale_before
                    or attempt == _ACQUIRE_ATTEMPTS - 1):
                raise
            owner = held.kwargs['task_id']
            if db_api.import_lock_take_over(context, image_id, store, owner,
                                            task_id, stale_before):
                _fail_preempted_task(context, image_id, store, owner,
                                     task_id, heartbeat_at)
                return owner


def release_abandoned_locks(context, image_id, dead_task_id, task_id,
                            lock_ttl):
    """Take over and drop the other locks of a task found dead.

    A task's heartbeats stop together, so when one of its locks is stale
    they all are. Each is taken over (atomically, so a lock that a live
    task refreshed meanwhile is left alone) and released at once.
    Returns the stores whose locks were dropped, for the caller to
    remove what the dead task wrote there.
    """
    stale_before = timeutils.utcnow() - datetime.timedelta(seconds=lock_ttl)
    released = []
    for held in db_api.import_lock_list(context, image_id):
        if held['task_id'] == dead_task_id and db_api.import_lock_take_over(
                context, image_id, held['store'], dead_task_id, task_id,
                stale_before):
            db_api.import_lock_release(context, image_id, held['store'],
                                       task_id)
            released.append(held['store'])
    return released


def _fail_preempted_task(context, image_id, store, owner, new_owner,
                         heartbeat_at):
    silence = (timeutils.utcnow() - heartbeat_at).total_seconds()
    message = ('Import lock of store %s was taken over by task %s after '
               '%.0f seconds without a heartbeat.' % (store, new_owner,
                                                     silence))
    LOG.warning('Image %s: %s (previous owner: task %s)', image_id,
                message, owner)
    db_api.task_update(context, owner,
                       {'status': 'failure', 'message': message},
                       from_statuses=LIVE_TASK_STATUSES)


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

    ``watch`` wraps a stream of chunks: at most every ``interval``
    seconds it refreshes every lock the task still holds and writes the
    progress into the task's message. A lock found taken over (or gone
    with its image) is dropped from ``held`` into ``lost``. If it is the
    lock of the store being written, the write stops at once with
    ImportLockLost: a preempted task stops at its next heartbeat, not at
    the end of its copy, and the store driver removes its partial file.
    """

    def __init__(self, context, image_id, task_id, stores, interval):
        self.context = context
        self.image_id = image_id
        self.task_id = task_id
        self.interval = interval
        self.held = set(stores)
        self.lost = set()
        self._last_beat = time.monotonic()

    def refresh(self, message=None):
        """Heartbeat every held lock now; note which ones are lost."""
        self._last_beat = time.monotonic()
        for store in sorted(self.held):
            try:
                db_api.import_lock_heartbeat(self.context, self.image_id,
                                             store, self.task_id)
            except exception.ImportLockLost:
                LOG.warning('Task %s lost the import lock of image %s in '
                            'store %s', self.task_id, self.image_id, store)
                self.held.discard(store)
                self.lost.add(store)
        if message is not None:
            db_api.task_update(self.context, self.task_id,
                               {'message': message},
                               from_statuses=LIVE_TASK_STATUSES)

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
                self.refresh(format_progress(store, done, total))
                self.ensure_held(store)
            yield chunk
