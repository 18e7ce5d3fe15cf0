"""The ``[database]`` group: oslo.db's own options, with our default URL.

oslo.db owns the option definitions; we only choose the default
connection, an SQLite file under ``state_path``, so that a fresh
installation runs with no database server at all.
"""

from oslo_db import options as oslo_db_options

DEFAULT_CONNECTION = 'sqlite:///$state_path/glance-lite.sqlite'


def register_opts(conf):
    oslo_db_options.set_defaults(conf, connection=DEFAULT_CONNECTION)
