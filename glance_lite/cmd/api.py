"""glance-lite-api: the image service's API server.

Start-up checks the configuration and the paste pipeline, and brings
the embedded SQLite database to the newest schema (a shared database
server is migrated by the operator with ``glance-lite-manage db sync``,
as in every OpenStack service). gunicorn then serves the API with
``workers`` processes of ``threads_per_worker`` threads each; on
SIGTERM or SIGINT (Ctrl-C) it stops accepting connections and gives
running requests and imports ``graceful_shutdown_timeout`` seconds to
finish (see ``glance_lite.cmd.serving``).
"""

import ctypes
import logging as std_logging
import os
import sys

from gunicorn.app import base
from oslo_log import log as logging

from glance_lite.api import app
from glance_lite.api import services
from glance_lite import cmd
from glance_lite.cmd import serving
from glance_lite.common import exception
from glance_lite.conf import api as api_conf
from glance_lite.conf import database
from glance_lite.conf import import_pipeline
from glance_lite.db import api as db_api
from glance_lite.db import migration
from glance_lite.import_plugins import loader
from glance_lite.store import manager

LOG = logging.getLogger(__name__)


def bind_address(conf):
    host = conf.bind_host
    if ':' in host:  # IPv6
        host = '[%s]' % host
    return '%s:%d' % (host, conf.bind_port)


class APIServer(base.BaseApplication):
    """gunicorn, configured from oslo.config rather than its own CLI."""

    def __init__(self, conf):
        self.conf = conf
        super().__init__()

    def load_config(self):
        settings = {
            'bind': bind_address(self.conf),
            'workers': self.conf.workers,
            'worker_class': serving.DrainingWorker,
            'threads': self.conf.threads_per_worker,
            'worker_connections': self.conf.worker_connections,
            'backlog': self.conf.backlog,
            'graceful_timeout': self.conf.graceful_shutdown_timeout,
            'keepalive': self.conf.http_keepalive_timeout,
            'proc_name': 'glance-lite-api',
            # gunicorn's control socket has one path per user: several
            # servers on one host (or a test run) would fight over it.
            'control_socket_disable': True,
            'when_ready': self._when_ready,
            'worker_exit': self._worker_exit,
        }
        for name, value in settings.items():
            self.cfg.set(name, value)

    def _when_ready(self, arbiter):
        LOG.info('Serving the Image API on %s with %d worker(s)',
                 bind_address(self.conf), self.conf.workers)

    def _worker_exit(self, arbiter, worker):
        """Let running imports finish in what is left of the grace period.

        The worker has stopped serving requests. Imports still running
        at the deadline are abandoned with their locks, which are taken
        over after lock_ttl. The process then ends at once: a normal
        exit would run the interpreter's shutdown under the abandoned
        imports' threads, where concurrent.futures refuses new work and
        they would fail with a Python runtime error instead of simply
        stopping.
        """
        if services.stop(worker.drain_time_left()):
            std_logging.shutdown()
            os._exit(0)

    def run(self):
        serving.DrainingArbiter(self).run()

    def load(self):
        # Called in each worker after the fork: every worker builds its
        # own application, database connections included.
        return app.load_app(self.conf)


def prepare(conf):
    """Everything that must be right before a worker starts."""
    database.size_pool_for_threads(conf)
    import_pipeline.check_opts(conf)
    api_conf.check_opts(conf)
    cap = api_conf.backlog_cap()
    if cap is not None and conf.backlog > cap:
        LOG.warning('The listen backlog is %d, not the %d of [DEFAULT] '
                    'backlog: the kernel caps it at net.core.somaxconn; '
                    'raise that sysctl for more', cap, conf.backlog)
    app.paste_file(conf)
    # Each worker loads its own stores; loading them here first turns a
    # broken store configuration into one clear error, not a worker
    # crash per process.
    manager.StoreManager(conf)
    loader.load_plugins(conf)
    migration.prepare_sqlite_directory(conf.database.connection)
    engine = db_api.get_engine()
    if engine.dialect.name == 'sqlite':
        migration.upgrade(engine)
    # The workers are forked from this process: none may inherit a
    # pooled connection of ours.
    engine.dispose()


# glibc's mallopt parameters (malloc.h) and the values we set.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_MMAP_THRESHOLD = 32 * 1024 * 1024
_TRIM_THRESHOLD = 32 * 1024 * 1024
_ARENA_MAX = 2


def keep_transfer_buffers():
    """Let workers reuse freed multi-MiB buffers instead of refaulting them.

    Image data moves in chunks of several MiB. With glibc's adaptive
    defaults, freed chunks are often given back to the kernel (unmapped
    or trimmed) and the next chunk is faulted in again as zeroed pages:
    the benchmarks measured 150k to 600k minor faults and up to 1.4 s
    of system time per GiB staged, which made glance-direct's throughput
    swing by a third between runs. Fixed thresholds keep such buffers in
    the heap; what a worker keeps is bounded by its busiest moment, not
    by image size. Set before gunicorn forks, so every worker has it;
    a C library without mallopt is left as it is.

    Each thread that allocates gets a malloc arena of its own, up to
    8 per core, and each arena keeps its freed buffers: an import to
    several stores runs a reader thread, a thread per store and the
    engine's pool, and without a cap every import could leave buffers in
    yet another arena (measured: +20 MiB per 3-store copy, 8 copies in a
    row). Two arenas bound what a worker keeps whatever its threads.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    mallopt(_M_ARENA_MAX, _ARENA_MAX)


def main(argv=None):
    conf = cmd.load_config(argv)
    try:
        prepare(conf)
    except exception.GlanceLiteException as e:
        # Told to the operator starting it: the detail, paths and all.
        print('glance-lite-api: %s' % e.detail, file=sys.stderr)
        return 1
    keep_transfer_buffers()
    try:
        APIServer(conf).run()
    except exception.AddressUnavailable as e:
        print('glance-lite-api: %s' % e, file=sys.stderr)
        return 1
    return 0
