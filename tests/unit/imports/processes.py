"""Service-level import work in other OS processes.

A child is started with the 'spawn' method, so it shares nothing with
the test process but the database, the store directories and what it
is handed explicitly. It builds its own configuration (the config lines
of tests/unit/imports/base.py), points its own engine at the test's
database before any database use, and builds its own ImportService,
executor included: it is a separate API worker that can be killed, or
can abandon its imports, in the middle of a copy.

A child runs ``main(service, results, *args)``, one of the ``_main_*``
functions below, which reports on ``results`` (a queue) with
``('ok', value)``; if it raises, the child reports ``('error',
traceback)``. The parent reads with ``receive``, which turns a child's
traceback, or a child that died without reporting, into a test failure
instead of a hang. Every wait here has a timeout.
"""

import multiprocessing
import os
import queue
import threading
import time
import traceback

from oslo_utils import timeutils

from glance_lite.common import context
from glance_lite.db import api as db_api
from glance_lite.imports import reaper
from tests.unit import config
from tests.unit.imports import base

SPAWN = multiprocessing.get_context('spawn')

# Generous: these only stop a broken test from hanging the whole run.
TIMEOUT = 120
_POLL = 0.2


def build_child_service(state_path, url):
    """The child's own service, on the test's database and stores."""
    conf = config.make_conf(*base.config_lines(state_path))
    db_api.main_context_manager.configure(connection=url)
    return base.build_service(conf)


def _send(results, value):
    results.put(('ok', value))


def _child_main(main, state_path, url, results, barrier, args):
    try:
        service = build_child_service(state_path, url)
        main(service, results, *args)
    except BaseException:
        if barrier is not None:
            barrier.abort()
        results.put(('error', traceback.format_exc()))


def start(main, state_path, url, results, *args, barrier=None):
    """Start a child running ``main(service, results, *args)``."""
    process = SPAWN.Process(
        target=_child_main, daemon=True,
        args=(main, state_path, url, results, barrier, args))
    process.start()
    return process


def stop(process, timeout=10):
    """Kill ``process`` if it still runs, and reap it (for cleanups)."""
    if process.is_alive():
        process.kill()
    process.join(timeout)


def receive(results, processes, timeout=TIMEOUT):
    """The next value a child reports; fail on its error or death.

    A child that exits without reporting (a non-zero exit, or every
    child gone with nothing on the queue) fails at once rather than
    after ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            message = results.get(timeout=_POLL)
        except queue.Empty:
            gone = [process.exitcode for process in processes
                    if process.exitcode is not None]
            if (any(gone) or len(gone) == len(processes)
                    or time.monotonic() > deadline):
                # What a child sent before exiting is in the pipe by now.
                try:
                    message = results.get(timeout=1)
                except queue.Empty:
                    raise AssertionError(
                        'no report from child processes within %d s; '
                        'exit codes: %s' % (timeout, [
                            process.exitcode for process in processes])
                    ) from None
            else:
                continue
        if message[0] == 'error':
            raise AssertionError('child process failed:\n' + message[1])
        return message[1]


def join(process, timeout=30):
    """Wait for ``process`` to end; return its exit code."""
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join(10)
        raise AssertionError('child process %s did not exit within %d s'
                             % (process.pid, timeout))
    return process.exitcode


def partial_path(store, image_id, write_id):
    """Where the file store ``store`` writes an unfinished copy."""
    return os.path.join(store.datadir, '.%s.partial'
                        % store.object_name(image_id, write_id))


# Import bursts


def _main_import_burst(service, results, barrier, image_id, store, threads,
                       requests, until_refused_with):
    """``threads`` threads, each making ``requests`` copy requests.

    Every thread waits on ``barrier`` (shared with the other children)
    and then sends its requests back to back. With
    ``until_refused_with``, a thread goes on past ``requests`` until a
    refusal's message contains it (within TIMEOUT). Once all are
    answered, the executor gets to finish what this process accepted.
    """
    outcomes = [[] for _ in range(threads)]
    failures = []
    started = []
    ended = []

    def run(index):
        ctx = context.RequestContext()
        try:
            barrier.wait(TIMEOUT)
            started.append(time.monotonic())
            deadline = time.monotonic() + TIMEOUT
            sent = 0
            awaited = until_refused_with is not None
            while sent < requests or awaited:
                if time.monotonic() > deadline:
                    raise AssertionError('no refusal naming %r within %s s'
                                         % (until_refused_with, TIMEOUT))
                sent += 1
                try:
                    task = service.import_image(ctx, image_id, 'copy-image',
                                                stores=[store])
                    outcomes[index].append(('accepted', task['id']))
                except Exception as error:
                    outcomes[index].append(
                        ('raised', type(error).__name__, str(error)))
                    awaited = awaited and until_refused_with not in str(error)
            ended.append((timeutils.utcnow(), time.monotonic()))
        except BaseException:
            barrier.abort()
            failures.append(traceback.format_exc())

    workers = [threading.Thread(target=run, args=(index,))
               for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(TIMEOUT)
    if failures or any(worker.is_alive() for worker in workers):
        raise AssertionError('request threads failed:\n'
                             + '\n'.join(failures))
    abandoned = service.executor.shutdown(TIMEOUT)
    _send(results, {
        'outcomes': [outcome for thread in outcomes for outcome in thread],
        'burst_ended_at': max(ended)[0],
        'burst_seconds': max(ended)[1] - min(started),
        'abandoned': abandoned,
    })


def import_burst(state_path, url, image_id, store, processes=2, threads=10,
                 requests=50, until_refused_with=None):
    """Copy requests for (image, store) from threads in several processes.

    All ``processes * threads`` threads start on one barrier; see
    _main_import_burst for ``until_refused_with``. Returns a
    dict per process: ``outcomes`` (each ``('accepted', task id)`` or
    ``('raised', exception class name, message)``), ``burst_ended_at``
    (utcnow when its last request was answered) and ``abandoned`` (what
    its executor's shutdown returned after waiting for its imports),
    ``burst_seconds`` (from its first thread's start to its last
    answer).
    """
    barrier = SPAWN.Barrier(processes * threads)
    results = SPAWN.Queue()
    children = [start(_main_import_burst, state_path, url, results,
                      barrier, image_id, store, threads, requests,
                      until_refused_with, barrier=barrier)
                for _ in range(processes)]
    try:
        reports = [receive(results, children) for _ in children]
        for child in children:
            exitcode = join(child)
            if exitcode != 0:
                raise AssertionError('child process exited with %s'
                                     % exitcode)
    finally:
        for child in children:
            stop(child)
    return reports


# A copy that a test kills or abandons in the middle


def _main_copy_and_wait(service, results, image_id, store):
    """Accept a copy, report its task id, then idle while it runs."""
    task = service.import_image(context.RequestContext(), image_id,
                                'copy-image', stores=[store])
    _send(results, task['id'])
    time.sleep(TIMEOUT)  # the test kills us long before
    os._exit(3)


def start_copy(state_path, url, image_id, store):
    """A child accepting a copy; returns (process, results queue)."""
    results = SPAWN.Queue()
    return start(_main_copy_and_wait, state_path, url, results, image_id,
                 store), results


def _main_copy_and_abandon(service, results, image_id, store, grace):
    """Accept a copy, shut the executor down mid-copy, exit at once.

    Reports ``{'task_id', 'abandoned'}`` (what shutdown returned), then
    ends the process without any cleanup: the abandoned worker thread
    dies with it, leaving its lock and partial file behind.
    """
    task = service.import_image(context.RequestContext(), image_id,
                                'copy-image', stores=[store])
    partial = partial_path(service.stores.get(store), image_id, task['id'])
    deadline = time.monotonic() + 30
    while not os.path.exists(partial):
        if time.monotonic() > deadline:
            raise AssertionError('the copy did not start within 30 s')
        time.sleep(0.01)
    abandoned = service.executor.shutdown(grace)
    _send(results, {'task_id': task['id'], 'abandoned': abandoned})
    # os._exit skips the queue's flush at exit: flush it here.
    results.close()
    results.join_thread()
    os._exit(0)


def start_abandoned_copy(state_path, url, image_id, store, grace):
    """A child abandoning a copy; returns (process, results queue)."""
    results = SPAWN.Queue()
    return start(_main_copy_and_abandon, state_path, url, results,
                 image_id, store, grace), results


# Reapers racing each other and a request


def _main_reap_or_copy(service, results, barrier, image_id, store, copy):
    """On ``barrier``, reap once, or (``copy``) ask for a copy instead.

    Reports what this child's reaper reaped (a list), or the task of
    its copy once the copy has ended.
    """
    admin = context.get_admin_context()
    barrier.wait(TIMEOUT)
    if not copy:
        _send(results, reaper.reap_expired_imports(admin, service.conf,
                                                   service.stores))
        return
    task = service.import_image(admin, image_id, 'copy-image',
                                stores=[store])
    deadline = time.monotonic() + TIMEOUT
    while db_api.task_get(admin, task['id'])['status'] in (
            db_api.LIVE_TASK_STATUSES):
        if time.monotonic() > deadline:
            raise AssertionError('the copy did not end within %d s'
                                 % TIMEOUT)
        time.sleep(_POLL)
    _send(results, task)


def reap_race(state_path, url, image_id, store, reapers=2):
    """``reapers`` children reap and one asks for a copy, all at once.

    Returns (the reapers' reports, the copy's task).
    """
    results = SPAWN.Queue()
    barrier = SPAWN.Barrier(reapers + 1)
    children = [start(_main_reap_or_copy, state_path, url, results,
                      barrier, image_id, store, copy, barrier=barrier)
                for copy in [False] * reapers + [True]]
    reports = [receive(results, children) for _ in children]
    for child in children:
        join(child)
    return ([report for report in reports if isinstance(report, list)],
            next(report for report in reports if isinstance(report, dict)))
