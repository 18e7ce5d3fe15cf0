"""What one API worker process serves requests with.

Each worker process has its own store drivers, its own import executor
(a thread pool whose imports heartbeat their locks), its own reaper of
abandoned imports and the import service on top of them. They are built
when the worker loads the application, after gunicorn forks it, so no
thread or connection is ever shared across a fork; the server's
worker-exit hook calls ``stop`` so running imports get their grace
period.

paste.deploy builds the application from strings alone, so the worker's
services are kept here, one set per process, rather than passed in.
"""

import contextlib
import functools
import threading

from oslo_log import log as logging

from glance_lite.common import context
from glance_lite.import_plugins import loader
from glance_lite.imports import executor
from glance_lite.imports import jobboard
from glance_lite.imports import jobs
from glance_lite.imports import reaper
from glance_lite.imports import service
from glance_lite.store import manager

LOG = logging.getLogger(__name__)

_guard = threading.Lock()
_current = None


class Services:
    """The worker's stores, import service and reaper.

    With a jobboard ([taskflow] jobboard_backend) the worker keeps one
    connection to it: accepted imports are posted there for conductors,
    and the reaper leaves the imports still on it alone. Uploads (PUT
    /file) still run in the worker, which is reading their data.
    """

    def __init__(self, conf):
        self.conf = conf
        self.stores = manager.StoreManager(conf)
        self.executor = executor.ImportExecutor(
            conf['import'].executor_workers,
            conf['import'].heartbeat_interval,
            niceness=conf['import'].executor_niceness)
        self._connections = contextlib.ExitStack()
        self.board = scheduled = None
        if conf.taskflow.jobboard_backend != 'none':
            self.board = self._connections.enter_context(
                jobboard.connected_jobboard(
                    conf, persistence=jobs.persistence_backend()))
            scheduled = functools.partial(jobs.scheduled_tasks, self.board)
        self.imports = service.ImportService(
            conf, self.stores, self.executor,
            plugins=loader.load_plugins(conf), board=self.board,
            scheduled=scheduled)
        self.reaper = reaper.Reaper(context.get_admin_context(), conf,
                                    self.stores, scheduled=scheduled)
        self.reaper.start()


def start(conf):
    """Build this process's services from ``conf``; see ``current``.

    Called by ``glance_lite.api.app.load_app`` before paste builds the
    pipeline, since paste can hand the application nothing but strings.
    Services started earlier must have been stopped.
    """
    global _current
    with _guard:
        if _current is not None:
            # Its reaper would go on working on this process's database
            # with the stores of the old configuration.
            _current.reaper.stop()
        _current = Services(conf)
        return _current


def current():
    """The services ``start`` built in this process."""
    if _current is None:
        raise RuntimeError('the API services were not started; load the '
                           'application with glance_lite.api.app.load_app')
    return _current


def stop(timeout):
    """Let running imports finish for up to ``timeout`` seconds.

    Imports still running or queued after that are abandoned with their
    locks, which another worker or node takes over after lock_ttl.
    Returns how many were abandoned.
    """
    global _current
    with _guard:
        services, _current = _current, None
    if services is None:
        return 0
    services.reaper.stop()
    abandoned = services.executor.shutdown(timeout)
    services._connections.close()
    return abandoned
