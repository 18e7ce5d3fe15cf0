"""Options of the API server (``[DEFAULT]``)."""

from oslo_config import cfg

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
        'graceful_shutdown_timeout',
        default=60,
        min=1,
        help='Seconds a worker may take, after SIGTERM, to finish the '
             'requests it is serving and its running imports. Imports '
             'still running then are abandoned with their locks, which '
             'a later import takes over after [import] lock_ttl.'),
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
