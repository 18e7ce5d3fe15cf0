"""Running accepted imports on a bounded pool of worker threads.

An accepted import holds its locks before it runs, so while it waits
in the queue its heartbeats must go on, or another request could take
its locks over; a keep-alive thread does that. When the service stops,
running imports get a grace period; what is still queued or running
after it is abandoned with its locks in place, and since nobody
heartbeats them any more, a later import takes them over after
[import] lock_ttl.
"""

import concurrent.futures
import os
import threading
import time

import futurist
from futurist import waiters
from oslo_log import log as logging
from taskflow import engines
from taskflow import exceptions as taskflow_exceptions

from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.imports import flow
from glance_lite.imports import tasks

LOG = logging.getLogger(__name__)


def run_import(job, persistence=None, start_over=False):
    """Run one import's flow to its end, whatever that end is.

    ``persistence``, for a conductor's run (glance_lite.imports.jobs),
    is the (backend, logbook, flow detail) TaskFlow records the flow's
    progress in, and resumes it from: the steps an earlier run finished
    are not run again. Without it the flow lives in memory, as an
    import in the API process dies with the process that could resume
    it. ``start_over`` sets every recorded step back to pending first:
    the record is of a run that was fenced, whose steps undo themselves.

    On any failure the flow has reverted; the acceptance is given back
    once more in case the flow could not do it (an engine error, a
    failing revert), so that no path leaves a lock behind, and only
    then is the task marked failed with the reason. Returns the error
    that made the import fail, or None.
    """
    # A worker per target store: they all read one shared source
    # (imports.fanout), which waits until every one of them started.
    # The pool is the standard library's, not one the engine makes: the
    # engine's own (futurist) pool is stopped by waiting for workers that
    # poll their queue every second, which added up to a second to every
    # import.
    store_writers = concurrent.futures.ThreadPoolExecutor(
        max_workers=max(1, len(job.stores_to_import)),
        thread_name_prefix='import-%s' % job.task_id)
    recorded = {}
    if persistence is not None:
        backend, book, flow_detail = persistence
        recorded = {'backend': backend, 'book': book,
                    'flow_detail': flow_detail}
    error = None
    succeeded = False
    job.started_at = time.monotonic()
    try:
        engine = engines.load(flow.build_import_flow(job), engine='parallel',
                              executor=store_writers, **recorded)
        if start_over:
            # reset() needs the steps' records loaded, which compiling
            # and preparing the engine does (run() skips both then).
            engine.compile()
            engine.prepare()
            engine.reset()
        engine.run()
        succeeded = True
    except Exception as raised:
        error = _first_cause(raised)
    finally:
        store_writers.shutdown(wait=True)
        # A flow that ran to its end gave everything back in the
        # transaction that marked its task a success: the image's
        # watchers may already be importing again, and nothing of this
        # import may touch the database after that.
        if not succeeded:
            tasks.release_claims(job)
    # Only now that the image is back as it was: a client that sees the
    # task fail may import again at once, and must not be refused by
    # what this import has not given back yet.
    if error is not None:
        db_api.import_task_fail(job.context, job.image_id, job.task_id,
                                job.lease, _failure_message(job, error))
    return error


def _first_cause(error):
    """The error that made the import fail, out of the engine's error.

    Several stores failing at once (their shared source failed) come as
    one WrappedFailure: the first is the reason. Copies that were only
    given up because another store failed are no reason.
    """
    if not isinstance(error, taskflow_exceptions.WrappedFailure):
        return error
    causes = [cause.exception for cause in error
              if not cause.check(exception.CopyAbandoned)]
    return (causes or [next(iter(error)).exception])[0]


def _failure_message(job, error):
    """Log why an import failed; return the task message users read.

    Users get the exception's plain message; the log gets the detail
    (and the traceback of an error that is not glance-lite's own).
    """
    if not isinstance(error, exception.GlanceLiteException):
        LOG.error('Import task %s of image %s failed', job.task_id,
                  job.image_id, exc_info=error)
        return exception.message_for_users(error, job.task_id)
    LOG.warning('Import task %s of image %s failed: %s', job.task_id,
                job.image_id, error.detail)
    if isinstance(error, exception.ImportLockLost):
        # Deleting an image drops its locks: that is the usual loss.
        try:
            db_api.image_get(job.context, job.image_id)
        except exception.ImageNotFound:
            return 'The image was deleted while it was being imported.'
    return str(error)


def lower_thread_priority(niceness):
    """Add ``niceness`` to the calling thread's nice value, if it can.

    On Linux a thread's nice value is its own (setpriority on its
    native id), and the threads it starts inherit it. Raising it needs
    no privilege; it cannot be lowered again, which is why only threads
    that run nothing but imports call this.
    """
    if not niceness or not hasattr(os, 'setpriority'):
        return
    thread_id = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id,
                       min(19, current + niceness))
    except OSError as error:
        LOG.warning('Could not lower the priority of import thread %d: %s',
                    thread_id, error)


class ImportExecutor:
    """Runs accepted imports on ``workers`` threads of their own.

    The threads run at ``niceness`` below the caller's priority (see
    [import] executor_niceness), so that moving data never starves the
    API's requests of CPU.
    """

    def __init__(self, workers, heartbeat_interval, niceness=0):
        self._pool = futurist.ThreadPoolExecutor(max_workers=workers)
        self._niceness = niceness
        self._lowered = threading.local()
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
        if not getattr(self._lowered, 'done', False):
            # Once per pool thread: the pool runs nothing but imports.
            lower_thread_priority(self._niceness)
            self._lowered.done = True
        # The import's log lines carry the id of the request that
        # accepted it (and its caller), as that request's lines do.
        job.context.update_store()
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
