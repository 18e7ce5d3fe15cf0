"""Options of the API server (``[DEFAULT]``)."""

from oslo_config import cfg

from glance_lite.common import exception

# Where Linux says how long a listen backlog may be.
SOMAXCONN_PATH = '/proc/sys/net/core/somaxconn'

ALL_OPTS = [
    cfg.HostAddressOpt(
        'bind_host',
        default='127.0.0.1',
        help='Address glance-lite-api listens on. The default keeps a '
             'local installation private; use 0.0.0.0 or a public '
             'address to serve other hosts.'),
    cfg.PortOpt(
        'bind_port',
        default=9292,
        help='TCP port glance-lite-api listens on (9292 is the Image '
             'service\'s usual port, which clients expect).'),
    cfg.IntOpt(
        'workers',
        default=2,
        min=1,
        help='Number of API worker processes. Each runs its own pool of '
             'request threads and its own import executor; all share the '
             'database, so any worker may answer for any import.'),
    cfg.IntOpt(
        'threads_per_worker',
        default=8,
        min=1,
        help='Requests one worker process serves at the same time. A '
             'request streaming image data occupies a thread for the '
             'whole transfer.'),
    cfg.IntOpt(
        'backlog',
        default=4096,
        min=1,
        help='Connections the kernel queues for glance-lite-api while '
             'every worker is busy (the listen backlog). A connection '
             'beyond it is not refused outright, but its handshake is '
             'dropped and retried by the client after 1, 3, 7... '
             'seconds, until the client gives up with a connection '
             'error; size it for the largest burst of new connections '
             'expected (1000 clients at once need at least 1000 less '
             'what the workers accept at once, see worker_connections). '
             'Linux silently caps it at the sysctl net.core.somaxconn '
             '(4096 by default since Linux 5.4, 128 before): raise that '
             'too for a larger backlog.'),
    cfg.IntOpt(
        'worker_connections',
        default=1000,
        min=1,
        help='Client connections one worker process holds open at once: '
             'those being served by its threads_per_worker threads, '
             'those waiting for a thread and idle keep-alive ones. At '
             'this many a worker stops accepting, and new connections '
             'wait in the listen backlog (as they also do while all its '
             'threads are busy, so the first worker with a free thread '
             'takes them). Each costs a file descriptor '
             '(mind the open files limit, ulimit -n) and a little '
             'memory. Must be more than threads_per_worker.'),
    cfg.IntOpt(
        'graceful_shutdown_timeout',
        default=60,
        min=1,
        help='Seconds a worker may take, after SIGTERM or SIGINT '
             '(Ctrl-C), to finish the '
             'requests it is serving and its running imports. Imports '
             'still running then are abandoned with their locks, which '
             'a later import takes over after [import] lock_ttl.'),
    cfg.IntOpt(
        'http_keepalive_timeout',
        default=60,
        min=1,
        help='Seconds an idle HTTP/1.1 keep-alive connection is kept open '
             'for the client\'s next request. Clients poll (openstacksdk '
             'every 2 seconds while it waits for an image): a timeout '
             'close to their interval makes the server close connections '
             'they are about to reuse, and their request fails with '
             '"Remote end closed connection". A stopping server closes '
             'idle connections within 2 seconds whatever this is.'),
    cfg.StrOpt(
        'api_paste_config',
        default='glance-lite-paste.ini',
        help='The paste.deploy file describing the API pipeline. A '
             'relative name is looked for in the configuration '
             'directories (next to glance-lite.conf); when it is not '
             'found, the pipeline shipped with glance-lite is used.'),
    cfg.StrOpt(
        'auth_strategy',
        default='noauth',
        choices=[
            ('noauth',
             'no authentication: the identity headers (X-User-Id, '
             'X-Project-Id, X-Roles) are believed as clients send them, '
             'and a request without any acts as the [noauth] user and '
             'project with the admin role. Anyone who can reach the API '
             'is an administrator; only for a private installation or '
             'tests.'),
            ('keystone',
             'keystonemiddleware\'s auth_token validates each request\'s '
             'token with the Identity service ([keystone_authtoken]) and '
             'sets the identity headers from it; a request without a '
             'valid token is refused with 401.'),
        ],
        help='How the API learns who is calling. It selects the '
             'glance-lite-api (noauth) or glance-lite-api-keystone '
             '(keystone) pipeline of the paste file.'),
]


def register_opts(conf):
    conf.register_opts(ALL_OPTS)


def check_opts(conf):
    """Refuse a worker that could hold no connection beyond its threads.

    gunicorn would silently stop keeping connections alive instead.
    """
    if conf.worker_connections <= conf.threads_per_worker:
        raise exception.InvalidConfiguration(
            reason='worker_connections (%d) must be more than '
                   'threads_per_worker (%d)' % (conf.worker_connections,
                                                conf.threads_per_worker))


def backlog_cap(path=SOMAXCONN_PATH):
    """The kernel's cap on a listen backlog, or None where it is unknown."""
    try:
        with open(path) as limit:
            return int(limit.read())
    except (OSError, ValueError):
        return None
