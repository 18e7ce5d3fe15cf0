"""The reaper: undoing imports whose owner stopped heartbeating.

An import's owner can die (SIGKILL, host loss) or stall (SIGSTOP, a
long I/O or GC pause, a partition from the database) with its locks
held. Nobody may have to ask for the same store again for that to be
cleaned up: every process that runs imports also runs a ``Reaper``,
which at start and then every ``[import] reaper_interval`` seconds
reaps every lock whose heartbeat is older than ``[import] lock_ttl``.
A new import that meets such a lock reaps it the same way.

Reaping one dead task (``reap_abandoned_import``) is decided by one
database transaction (``db_api.import_reap``): of any number of reapers
and requests, on any number of hosts, exactly one gets the task's
stores. It then removes what the task wrote, by the task's id only, so
it never touches another task's data. A stalled owner that wakes up
finds its locks gone: every write it tries is refused (see
``glance_lite.db.api._lock_own_rows``), and its own revert removes its
partial file.
"""

import collections
import threading

from oslo_log import log as logging
from oslo_utils import timeutils

from glance_lite.common import exception
from glance_lite.conf import stores as stores_conf
from glance_lite.db import api as db_api
from glance_lite.imports import lock

LOG = logging.getLogger(__name__)


def reap_expired_imports(context, conf, stores, scheduled=None):
    """Reap every import whose locks are older than lock_ttl, once.

    ``scheduled``, with a jobboard, returns the task ids of the imports
    on it (jobs.scheduled_tasks): those wait for a conductor, however
    old their locks, and are left alone.

    Returns one dict per import this call reaped (see
    ``reap_abandoned_import``); imports another reaper got first are
    not in it.
    """
    expired = collections.OrderedDict()
    for held in db_api.import_lock_list_all(
            context, stale_before=lock.stale_before(
                conf['import'].lock_ttl)):
        expired.setdefault((held['image_id'], held['task_id']), held)
    if expired and scheduled is not None:
        on_board = scheduled()
        expired = collections.OrderedDict(
            (key, held) for key, held in expired.items()
            if key[1] not in on_board)
    reaped = []
    for (image_id, task_id), held in expired.items():
        outcome = reap_abandoned_import(context, conf, stores, image_id,
                                        task_id, held)
        if outcome is not None:
            reaped.append(outcome)
    return reaped


def reap_abandoned_import(context, conf, stores, image_id, dead_task_id,
                          held=None, scheduled=None):
    """Undo the import ``dead_task_id`` if its locks are still stale.

    Not while ``scheduled()`` names it: its job is on the jobboard, and
    a conductor will run it (see ``reap_expired_imports``).

    ``held`` is one of its locks as last read (host, pid, heartbeat),
    to name the dead owner; it is read here if not given. Returns None
    if there was nothing to reap (another reaper won, or the owner beat
    again), else a dict: image_id, task_id, method, stores (that it
    held), owner_host, owner_pid, silence (seconds since its last
    heartbeat), removed (the stores its writes were removed from) and
    status (the image status restored, or None).
    """
    if scheduled is not None and dead_task_id in scheduled():
        return None
    if held is None:
        held = next((row for row in db_api.import_lock_list(
            context, image_id) if row['task_id'] == dead_task_id), None)
        if held is None:
            return None
    silence = (timeutils.utcnow() - held['heartbeat_at']).total_seconds()
    message = ('The import stopped: the process running it (pid %s on '
               'host %s) stopped responding %.0f seconds ago. What it had '
               'written was removed, and the image is as it was before.'
               % (held['owner_pid'] or '?', held['owner_host'] or '?',
                  silence))
    outcome = db_api.import_reap(
        context, image_id, dead_task_id,
        lock.stale_before(conf['import'].lock_ttl), message)
    if not outcome['stores']:
        return None
    # A conductor's job lost from the jobboard (Redis keeps its data in
    # memory) leaves its flow's record behind.
    db_api.import_flow_forget(context, dead_task_id)
    removed = []
    for store in outcome['stores']:
        if store in outcome['kept']:
            continue
        if remove_writes(stores, store, image_id, dead_task_id):
            removed.append(store)
    method = task_method(context, dead_task_id)
    # A stage request holds the staging lock alone, under its write id,
    # with no task row.
    what = ('the stage request' if method is None and outcome['stores'] == [
        stores_conf.STAGING_STORE] else 'import task')
    LOG.warning('Reaped %s %s of image %s: its owner (pid %s on host %s) '
                'sent no heartbeat for %.0f s; stores %s freed, its writes '
                'removed from %s, image status %s', what, dead_task_id,
                image_id, held['owner_pid'], held['owner_host'], silence,
                ', '.join(outcome['stores']), ', '.join(removed) or 'none',
                outcome['status'] or 'unchanged')
    return {'image_id': image_id, 'task_id': dead_task_id,
            'method': method,
            'stores': outcome['stores'], 'owner_host': held['owner_host'],
            'owner_pid': held['owner_pid'], 'silence': silence,
            'removed': removed, 'status': outcome['status']}


def task_method(context, task_id):
    """The import method of ``task_id``; None if it has no task row.

    An import takes its locks before it writes its task row, so a lock
    may name a task that does not exist (yet, or ever if it died there).
    """
    try:
        return db_api.task_get(context, task_id)['input'].get('method')
    except exception.TaskNotFound:
        return None


def remove_writes(stores, store, image_id, task_id):
    """Remove what ``task_id`` wrote in ``store``; False if it could not.

    Only objects named by the task's id, or by a conductor's lease of it,
    are touched (lock.discard_task_writes). What a store too
    broken to answer keeps is logged with the task id, and
    ``glance-lite-manage stores check`` finds it later.
    """
    try:
        lock.discard_task_writes(stores.get(store), image_id, task_id)
    except exception.GlanceLiteException:
        LOG.exception('Could not remove what reaped task %s wrote for '
                      'image %s in store %s', task_id, image_id, store)
        return False
    return True


class Reaper:
    """Runs ``reap_expired_imports`` at start and every reaper_interval.

    One per process that runs imports: with several processes and
    hosts, their runs race harmlessly, since each import is reaped by
    exactly one of them.
    """

    def __init__(self, context, conf, stores, scheduled=None):
        self.context = context
        self.conf = conf
        self.stores = stores
        self.scheduled = scheduled
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name='reaper',
                                        daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stopping.set()

    def _run(self):
        while True:
            try:
                reap_expired_imports(self.context, self.conf, self.stores,
                                     scheduled=self.scheduled)
            except exception.GlanceLiteException as error:
                LOG.warning('The reaper could not run: %s; it will try '
                            'again in %g s', error,
                            self.conf['import'].reaper_interval)
            except Exception:
                LOG.exception('The reaper failed')
            if self._stopping.wait(self.conf['import'].reaper_interval):
                return
