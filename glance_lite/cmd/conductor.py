"""glance-lite-conductor: runs the imports that API servers post.

With ``[taskflow] jobboard_backend`` set, the API servers post every
accepted import on the jobboard instead of running it; any number of
conductors, on any hosts, claim the jobs and run them, up to
``[import] executor_workers`` at a time each (see
``glance_lite.imports.jobs``). A conductor needs the configuration of
the API servers: the same database, the same stores (reachable from its
host: the staging store included, for glance-direct), the same import
plugins. Each one also runs a reaper of abandoned imports.

On SIGTERM or SIGINT it stops claiming, lets running imports finish for
``graceful_shutdown_timeout`` seconds, then exits; an import still
running then is left to its claim, which lapses, and another conductor
resumes it.
"""

import functools
import logging as std_logging
import os
import signal
import sys
import threading

from oslo_log import log as logging

from glance_lite import cmd
from glance_lite.common import context
from glance_lite.common import exception
from glance_lite.conf import database
from glance_lite.conf import import_pipeline
from glance_lite.db import api as db_api
from glance_lite.db import migration
from glance_lite.import_plugins import loader
from glance_lite.imports import conductor
from glance_lite.imports import jobboard
from glance_lite.imports import jobs
from glance_lite.imports import reaper
from glance_lite.store import manager

LOG = logging.getLogger(__name__)


def conductor_name(conf):
    """``<host>-<pid>``: unique among the conductors of a jobboard."""
    return '%s-%d' % (conf.host, os.getpid())


def _prepare(conf):
    if conf.taskflow.jobboard_backend == 'none':
        raise exception.InvalidConfiguration(
            reason='[taskflow] jobboard_backend is none: API servers run '
                   'their imports themselves, and there is no jobboard to '
                   'take imports from')
    database.size_pool_for_threads(conf)
    import_pipeline.check_opts(conf)
    stores = manager.StoreManager(conf)
    plugins = loader.load_plugins(conf)
    migration.prepare_sqlite_directory(conf.database.connection)
    engine = db_api.get_engine()
    if engine.dialect.name == 'sqlite':
        migration.upgrade(engine)
    return stores, plugins


def main(argv=None):
    conf = cmd.load_config(argv)
    try:
        stores, plugins = _prepare(conf)
    except exception.GlanceLiteException as error:
        print('glance-lite-conductor: %s' % error.detail, file=sys.stderr)
        return 1
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stopping.set())
    name = conductor_name(conf)
    with jobboard.connected_jobboard(
            conf, persistence=jobs.persistence_backend()) as board:
        cleaner = reaper.Reaper(
            context.get_admin_context(), conf, stores,
            scheduled=functools.partial(jobs.scheduled_tasks, board))
        cleaner.start()
        runner = conductor.ImportConductor(name, board, conf, stores,
                                           plugins)
        thread = threading.Thread(target=runner.run, name='conductor',
                                  daemon=True)
        thread.start()
        LOG.info('Conductor %s takes imports from jobboard %s (%s)', name,
                 conf.taskflow.jobboard_name,
                 conf.taskflow.jobboard_backend)
        while not stopping.wait(1) and thread.is_alive():
            pass
        LOG.info('Conductor %s is stopping: no new claims; running imports '
                 'have %d s to finish', name, conf.graceful_shutdown_timeout)
        runner.stop()
        cleaner.stop()
        if not runner.wait(conf.graceful_shutdown_timeout):
            LOG.warning('Conductor %s leaves its running imports to their '
                        'claims, which another conductor takes over once '
                        'they lapse', name)
            # As the API's workers do: no interpreter shutdown under the
            # abandoned imports' threads.
            std_logging.shutdown()
            os._exit(0)
    return 0
