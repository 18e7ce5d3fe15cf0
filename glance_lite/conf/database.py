"""The ``[database]`` group: oslo.db's own options, with our default URL.

oslo.db owns the option definitions; we only choose the default
connection, an SQLite file under ``state_path``, so that a fresh
installation runs with no database server at all.
"""

from oslo_config import cfg
from oslo_db import options as oslo_db_options

DEFAULT_CONNECTION = 'sqlite:///$state_path/glance-lite.sqlite'


def register_opts(conf):
    # Change the option objects themselves (not only this ConfigOpts'
    # view of them) so oslo-config-generator prints our default too.
    cfg.set_defaults(oslo_db_options.database_opts,
                     connection=DEFAULT_CONNECTION)
    conf.register_opts(oslo_db_options.database_opts, group='database')
