"""Running accepted imports on a bounded pool of worker threads.

An accepted import holds its locks before it runs, so while it waits
in the queue its heartbeats must go on, or another request could take
its locks over; a keep-alive thread does that. When the service stops,
running imports get a grace period; what is still queued or running
after it is abandoned with its locks in place, and since nobody
heartbeats them any more, a later import takes them over after
[import] lock_ttl.
"""

import threading

import futurist
from futurist import waiters
from oslo_log import log as logging
from taskflow import engines

from glance_lite.db import api as db_api
from glance_lite.imports import flow
from glance_lite.imports import lock
from glance_lite.imports import tasks

LOG = logging.getLogger(__name__)


def run_import(job):
    """Run one import's flow to its end, whatever that end is.

    On any failure the flow has reverted; the task is then marked
    failed with the reason, and the acceptance is given back once more
    in case the flow could not do it (an engine error, a failing
    revert): no path leaves a lock behind. Returns the error that made
    the import fail, or None.
    """
    try:
        engines.load(flow.build_import_flow(job), engine='serial').run()
    except Exception as error:
        LOG.warning('Import task %s of image %s failed: %s', job.task_id,
                    job.image_id, error)
        db_api.task_update(job.context, job.task_id,
                           {'status': 'failure', 'message': str(error)},
                           from_statuses=lock.LIVE_TASK_STATUSES)
        return error
    finally:
        tasks.release_claims(job)
    return None


class ImportExecutor:

    def __init__(self, workers, heartbeat_interval):
        self._pool = futurist.ThreadPoolExecutor(max_workers=workers)
        self._interval = heartbeat_interval
        self._queued = {}
        self._futures = set()
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._keepalive = threading.Thread(
            target=self._keep_queued_alive, name='import-keepalive',
            daemon=True)
        self._keepalive.start()

    def submit(self, job):
        """Queue an accepted import; its locks are kept alive meanwhile."""
        with self._guard:
            self._queued[job.task_id] = job
        future = self._pool.submit(self._run, job)
        with self._guard:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future):
        with self._guard:
            self._futures.discard(future)

    def _run(self, job):
        with self._guard:
            self._queued.pop(job.task_id, None)
        run_import(job)

    def _keep_queued_alive(self):
        while not self._stopping.wait(self._interval):
            with self._guard:
                waiting = list(self._queued.values())
            for job in waiting:
                try:
                    job.keeper.refresh()
                except Exception:
                    LOG.exception('Could not heartbeat the locks of queued '
                                  'import task %s', job.task_id)

    def shutdown(self, timeout):
        """Stop taking work; wait up to ``timeout`` s for running imports.

        Queued imports are cancelled and running ones that outlast the
        timeout are abandoned; both keep their locks, which go stale and
        are taken over later. Returns how many imports were abandoned.
        """
        self._stopping.set()
        with self._guard:
            pending = list(self._futures)
        running = [future for future in pending if not future.cancel()]
        done, not_done = waiters.wait_for_all(running, timeout)
        self._pool.shutdown(wait=False)
        abandoned = len(pending) - len(done)
        if abandoned:
            LOG.warning('Abandoned %d import(s) at shutdown; their locks '
                        'will be taken over after lock_ttl', abandoned)
        return abandoned
