"""The conductor: claims import jobs from the jobboard and runs them.

A TaskFlow conductor does the claiming: it watches the jobboard, claims
jobs up to ``[import] executor_workers`` at a time, and consumes each
job once its dispatch says the import has ended, or abandons it (for
another conductor, or this one, to claim again) when it could not be
run now. What running a job means for an import (taking its locks
over, resuming its flow, tidying up) is ``jobs.resume_import``.
"""

from oslo_log import log as logging
from taskflow.conductors.backends import impl_nonblocking
from taskflow import exceptions as taskflow_exceptions

from glance_lite.common import exception
from glance_lite.imports import jobs

LOG = logging.getLogger(__name__)

# How long a conductor that claimed nothing (none posted, or all its
# workers busy) waits before it looks at the jobboard again. TaskFlow's
# 0.5 s let a conductor notice a finished import only that much later:
# 4 MiB imports ran at 3 per second through one conductor. Looking
# costs one Redis read, or nothing on ZooKeeper, whose client keeps the
# job list up to date.
_IDLE_WAIT = 0.05


class ImportConductor(impl_nonblocking.NonBlockingConductor):
    """Runs the imports of ``board`` with this process's stores.

    ``conf``, ``stores`` and ``plugins`` are the conductor's own
    configuration, store drivers and import plugin classes: those of
    the deployment's API servers.
    """

    def __init__(self, name, board, conf, stores, plugins):
        super().__init__(name, board,
                         persistence=jobs.persistence_backend(),
                         wait_timeout=_IDLE_WAIT,
                         max_simultaneous_jobs=conf['import'].executor_workers)
        self.name = name
        self.conf = conf
        self.stores = stores
        self.plugins = plugins

    def _dispatch_job(self, job):
        """Run one claimed job; True to consume it, False to abandon it.

        Overrides TaskFlow's, which would build the engine from the
        flow detail alone: an import's flow needs this process's stores
        and the import's locks taken over before it may run.
        """
        LOG.info('Conductor %s claimed the job of import task %s',
                 self.name, job.name)
        try:
            book = job.book
        except taskflow_exceptions.NotFound:
            # Its record was forgotten: the import ended, and the
            # conductor running it died before consuming its job.
            LOG.info('Conductor %s: import task %s had ended; its job is '
                     'consumed', self.name, job.name)
            return True
        try:
            jobs.resume_import(self.name, self.conf, self.stores,
                               self.plugins, book)
        except (exception.DatabaseTransientError,
                taskflow_exceptions.StorageFailure) as error:
            LOG.warning('Conductor %s could not run import task %s now, '
                        'and leaves it for a later claim: %s',
                        self.name, job.name, error)
            return False
        return True
