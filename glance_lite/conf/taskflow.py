"""The ``[taskflow]`` group: the jobboard that conductors take imports from.

With a jobboard, the API only posts an accepted import as a job on a
TaskFlow jobboard in Redis or ZooKeeper, and ``glance-lite-conductor``
processes (on any host) claim the jobs and run them; a conductor that
dies leaves its claim to expire, and another conductor takes the import
over. ``glance_lite.imports.jobboard`` turns these options into
TaskFlow's jobboard settings.
"""

from oslo_config import cfg

from glance_lite.conf import groups

GROUP = cfg.OptGroup(
    'taskflow',
    title='TaskFlow jobboard of image imports',
    help='Where accepted imports wait until a glance-lite-conductor '
         'process claims and runs them. Without a jobboard '
         '(jobboard_backend = none) each API process runs the imports it '
         'accepts itself.')

BACKENDS = ('none', 'redis', 'zookeeper')

#: The port of each jobboard backend when jobboard_port is not set.
DEFAULT_PORTS = {'redis': 6379, 'zookeeper': 2181}

ALL_OPTS = [
    cfg.StrOpt(
        'jobboard_backend',
        default='none',
        choices=[
            ('none', 'No jobboard: an API process runs the imports it '
                     'accepts in its own thread pool ([import] '
                     'executor_workers). An import then dies with the '
                     'process, and only the reaper cleans up after it.'),
            ('redis', 'A Redis server. Simple to run; a dead conductor\'s '
                      'claim ends when it expires (jobboard_claim_ttl).'),
            ('zookeeper', 'A ZooKeeper ensemble. A claim lives as long as '
                          'its conductor\'s ZooKeeper session, which '
                          'ends when the conductor stops answering.'),
        ],
        help='Where accepted imports are posted as jobs for '
             'glance-lite-conductor processes to claim and run. A '
             'jobboard lets imports run on other hosts than the API and '
             'survive the death of the process running them: another '
             'conductor claims the job once the dead one\'s claim is '
             'gone.'),
    cfg.ListOpt(
        'jobboard_hosts',
        default=['127.0.0.1'],
        help='Host names or IP addresses of the jobboard servers. Redis '
             'takes exactly one. ZooKeeper takes every member of the '
             'ensemble, so that the jobboard stays reachable while any '
             'majority of them is up.'),
    cfg.PortOpt(
        'jobboard_port',
        default=None,
        min=1,
        help='TCP port of every jobboard host. Unset means the backend\'s '
             'usual port: 6379 for Redis, 2181 for ZooKeeper.'),
    cfg.StrOpt(
        'jobboard_password',
        secret=True,
        help='Password sent to Redis (its AUTH command, requirepass) when '
             'connecting. A Redis server reachable by other users should '
             'require one: whoever can write to the jobboard can make '
             'conductors run imports. Not used by ZooKeeper.'),
    cfg.StrOpt(
        'jobboard_namespace',
        default='glance_lite',
        help='What sets this deployment\'s jobs apart from other users of '
             'the same server: the prefix of the Redis keys ("<namespace>:'
             '...") or the ZooKeeper path ("/<namespace>/jobs") of the '
             'jobboard. API processes and conductors of one deployment '
             'must use the same namespace, and two deployments sharing a '
             'server different ones.'),
    cfg.StrOpt(
        'jobboard_name',
        default='glance-lite-imports',
        help='Name of the jobboard, shown in the logs of the API and the '
             'conductors. Only jobboard_namespace decides which jobs a '
             'process sees.'),
    cfg.BoolOpt(
        'jobboard_ssl',
        default=False,
        help='Connect to the jobboard servers over TLS, checking their '
             'certificate against jobboard_ssl_ca_file (or the system\'s '
             'trusted CAs). Job postings name images and where their '
             'data comes from, and claims decide which conductor runs '
             'an import: use TLS whenever the servers are reached over '
             'a network others share.'),
    cfg.StrOpt(
        'jobboard_ssl_ca_file',
        help='File of the CA certificates that the jobboard servers\' '
             'certificates are checked against, for a private CA. Unset '
             'means the system\'s trusted CAs. Only used with '
             'jobboard_ssl.'),
    cfg.StrOpt(
        'jobboard_ssl_cert_file',
        help='Client certificate presented to jobboard servers that '
             'authenticate their clients by certificate, with '
             'jobboard_ssl_key_file. Only used with jobboard_ssl.'),
    cfg.StrOpt(
        'jobboard_ssl_key_file',
        help='Private key of jobboard_ssl_cert_file. Only used with '
             'jobboard_ssl.'),
    cfg.IntOpt(
        'jobboard_claim_ttl',
        default=30,
        min=1,
        help='Seconds a conductor\'s claim on an import survives the '
             'conductor\'s death before another conductor may take the '
             'import over. With Redis it is the expiry of the claim, '
             'which a living conductor keeps renewing; with ZooKeeper it '
             'is the session timeout of the conductor\'s connection, '
             'which the client keeps alive by itself (the server clamps '
             'it to its minSessionTimeout and maxSessionTimeout, by '
             'default 4 and 40 seconds). A short value takes dead '
             'conductors\' imports over sooner, but one shorter than '
             'the pauses a busy host or the network may have (a few '
             'seconds) lets a second conductor claim an import whose '
             'conductor is only slow.'),
]


def register_opts(conf):
    groups.register_group_opts(conf, GROUP, ALL_OPTS)
