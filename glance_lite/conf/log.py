"""oslo.log's options, with the defaults glance-lite runs with.

oslo.log owns the option definitions (``debug``, ``log_file``,
``log_dir``, ``use_stderr``, the format strings); we only choose one
default. Logs go to stderr unless the operator turns ``use_stderr``
off: stdout carries the output of commands such as
``glance-lite-manage``, and a server started in a terminal should show
what it does. With ``log_file`` (relative to ``log_dir``) set, lines
also go to that file.
"""

from importlib import metadata

from oslo_config import cfg
from oslo_log import log as logging


def _oslo_log_opts():
    """oslo.log's option objects, as it publishes them to the generator.

    oslo.log has no public list of its options besides the
    ``oslo.config.opts`` entry point that oslo-config-generator reads;
    taking them from there keeps us off its private modules.
    """
    entry_point, = metadata.entry_points(group='oslo.config.opts',
                                         name='oslo.log')
    return [opt for _group, opts in entry_point.load()() for opt in opts]


def set_defaults():
    """Change oslo.log's option objects, so the sample config shows it.

    ``cfg.set_defaults`` changes the option objects themselves (not one
    ConfigOpts' view of them), which is what oslo-config-generator
    prints; oslo.log's own ``set_defaults`` does not cover
    ``use_stderr``.
    """
    cfg.set_defaults(_oslo_log_opts(), use_stderr=True)


def register_opts(conf):
    set_defaults()
    logging.register_options(conf)
