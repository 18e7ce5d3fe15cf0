"""The imports running now or abandoned, one entry per import task.

Behind ``glance-lite-manage imports list``. An import holds one lock per
target store (and the staging store's, for a first import); each lock
row carries its owner's host and pid and the bytes moved so far, so
grouping a task's locks gives the whole import: where it writes, who
runs it, how far it got and whether its owner still beats.
"""

from oslo_utils import timeutils

from glance_lite.db import api as db_api
from glance_lite.imports import reaper

LIVE = 'live'
EXPIRED = 'expired'


def _total(locks, column):
    """Sum of ``column`` over the locks that report it; None if none do.

    Only the locks of stores being written carry progress (a first
    import's staging lock, say, carries none).
    """
    values = [lock[column] for lock in locks if lock[column] is not None]
    return sum(values) if values else None


def list_imports(context, lock_ttl, now=None):
    """A dict per import task holding locks, oldest heartbeat first.

    Keys: image_id, task_id, method, stores (sorted), owner_host,
    owner_pid, heartbeat_at (the task's latest), silence (seconds since
    then), bytes_done, bytes_total (summed over its stores; None when
    not known), percent (None when bytes_total is unknown or 0) and
    state: ``live``, or ``expired`` once silence passes ``lock_ttl``
    (the reaper's to clean; any new import to its stores takes it
    over).
    """
    now = now or timeutils.utcnow()
    tasks = {}
    for lock in db_api.import_lock_list_all(context):
        tasks.setdefault((lock['image_id'], lock['task_id']), []).append(lock)
    imports = []
    for (image_id, task_id), locks in tasks.items():
        heartbeat_at = max(lock['heartbeat_at'] for lock in locks)
        silence = (now - heartbeat_at).total_seconds()
        owner = locks[0]
        done = _total(locks, 'bytes_done')
        total = _total(locks, 'bytes_total')
        imports.append({
            'image_id': image_id, 'task_id': task_id,
            'method': reaper.task_method(context, task_id),
            'stores': sorted(lock['store'] for lock in locks),
            'owner_host': owner['owner_host'],
            'owner_pid': owner['owner_pid'],
            'heartbeat_at': heartbeat_at,
            'silence': round(silence, 1),
            'bytes_done': done, 'bytes_total': total,
            'percent': (round(100.0 * done / total, 1)
                        if done is not None and total else None),
            'state': EXPIRED if silence > lock_ttl else LIVE,
        })
    imports.sort(key=lambda entry: entry['heartbeat_at'])
    return imports
