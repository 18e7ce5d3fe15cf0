"""Console entry points. Each one starts with ``load_config``."""

import sys

from oslo_log import log as logging

from glance_lite import conf as glance_conf
from glance_lite.conf import log as log_conf


def load_config(argv=None, cli_opts=()):
    """Parse the command line and config files, set up logging.

    Creates nothing: a command that makes the embedded database creates
    its directory (``glance_lite.db.migration.prepare_sqlite_directory``),
    and one that only reads must not leave an empty database behind.
    """
    conf = glance_conf.CONF
    conf.register_cli_opts(cli_opts)
    log_conf.register_opts(conf)
    conf(sys.argv[1:] if argv is None else argv, project='glance-lite')
    logging.setup(conf, 'glance-lite')
    return conf
