"""Options of the ``[DEFAULT]`` group."""

import os
import socket

from oslo_config import cfg


def _default_state_path():
    state_home = os.environ.get('XDG_STATE_HOME') or os.path.join(
        os.path.expanduser('~'), '.local', 'state')
    return os.path.join(state_home, 'glance-lite')


ALL_OPTS = [
    cfg.StrOpt(
        'state_path',
        default=_default_state_path(),
        sample_default='$XDG_STATE_HOME/glance-lite',
        help='Directory where glance-lite keeps its local state: the '
             'embedded SQLite database and, by default, the data of file '
             'stores. It is created on first start. A multi-node '
             'deployment points [database] connection at a shared server '
             'instead of the embedded database.'),
    cfg.StrOpt(
        'host',
        default=socket.gethostname(),
        sample_default='<current hostname>',
        help='Name of this node. Import locks record it with the process '
             'id of their owner, so that when an import is found '
             'abandoned the reaper, the task message and '
             '"glance-lite-manage imports list" say which process on '
             'which node stopped. Give each node of a deployment its own '
             'name.'),
]


def register_opts(conf):
    conf.register_opts(ALL_OPTS)
