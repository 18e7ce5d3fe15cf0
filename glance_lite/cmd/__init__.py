"""Console entry points. Each one starts with ``load_config``."""

import os
import sys

from oslo_log import log as logging

from glance_lite import conf as glance_conf


def load_config(argv=None, cli_opts=()):
    """Parse the command line and config files, set up logging.

    Also creates ``state_path``: the embedded SQLite database lives
    there and SQLite cannot create a file in a missing directory.
    """
    conf = glance_conf.CONF
    conf.register_cli_opts(cli_opts)
    logging.register_options(conf)
    # Without a log file, log to stderr: stdout carries command output.
    conf.set_default('use_stderr', True)
    conf(sys.argv[1:] if argv is None else argv, project='glance-lite')
    logging.setup(conf, 'glance-lite')
    os.makedirs(conf.state_path, exist_ok=True)
    return conf
