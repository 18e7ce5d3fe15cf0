"""The ``[database]`` group: oslo.db's own options, with our defaults.

oslo.db owns the option definitions; we choose the default connection,
an SQLite file under ``state_path``, so that a fresh installation runs
with no database server at all, and the API workers' default pool size
(size_pool_for_threads).
"""

from oslo_config import cfg
from oslo_db import options as oslo_db_options

DEFAULT_CONNECTION = 'sqlite:///$state_path/glance-lite.sqlite'
# What size_pool_for_threads gives the default threads (8 request and 4
# import threads), so that the sample configuration shows it.
DEFAULT_POOL_SIZE = 16


def register_opts(conf):
    # Change the option objects themselves (not only this ConfigOpts'
    # view of them) so oslo-config-generator prints our default too.
    cfg.set_defaults(oslo_db_options.database_opts,
                     connection=DEFAULT_CONNECTION,
                     max_pool_size=DEFAULT_POOL_SIZE)
    conf.register_opts(oslo_db_options.database_opts, group='database')


# Threads of an API worker that use the database besides its request
# and import threads: the reaper, the keeper of queued imports' locks
# and a store write's heartbeat, plus one to spare.
_BACKGROUND_DB_THREADS = 4


def size_pool_for_threads(conf):
    """Default ``max_pool_size`` to the threads of one API worker.

    oslo.db keeps 5 connections in the pool by default, fewer than the
    threads a worker runs at once (``threads_per_worker`` request
    threads and ``[import] executor_workers`` import threads): under
    load, each connection past the fifth was opened for one
    transaction and closed at its end, and PostgreSQL forks a server
    process for every new connection: that cost the contention
    benchmark a third of its requests/s (320 instead of 462). A pool
    as large as the threads keeps the connections open; it never opens
    more than the threads use at once. A ``max_pool_size`` in the
    configuration file wins.
    """
    conf.set_default('max_pool_size',
                     conf.threads_per_worker + conf['import'].executor_workers
                     + _BACKGROUND_DB_THREADS, group='database')
