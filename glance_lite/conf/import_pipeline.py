"""The ``[import]`` group: locks and workers of the import pipeline."""

from oslo_config import cfg

from glance_lite.common import exception
from glance_lite.conf import groups

GROUP = cfg.OptGroup(
    'import',
    title='Image import pipeline',
    help='How imports lock their target stores and how many run at once.')

ALL_OPTS = [
    cfg.FloatOpt(
        'heartbeat_interval',
        default=5.0,
        min=0.1,
        help='Seconds between two refreshes of an import lock heartbeat '
             'while image data moves. Each refresh is one small UPDATE; '
             'a shorter interval lets a dead importer be detected sooner '
             'at the price of more database writes.'),
    cfg.IntOpt(
        'lock_ttl',
        default=60,
        min=3,
        help='Seconds after the last heartbeat before an import lock is '
             'considered abandoned and a new import to the same store '
             'may take it over. The default of 60 tolerates eleven '
             'missed heartbeats at the default interval (a stalled '
             'source, a database fail-over) while a crashed importer '
             'blocks its store for one minute, not an hour. Must be at '
             'least three times heartbeat_interval.'),
    cfg.IntOpt(
        'executor_workers',
        default=4,
        min=1,
        help='Number of import flows one service process runs at the '
             'same time. Further accepted imports wait in its queue. '
             'Imports are mostly bound by disk and network, so a value '
             'above the number of cores is reasonable.'),
]


def register_opts(conf):
    groups.register_group_opts(conf, GROUP, ALL_OPTS)


def check_opts(conf):
    """Refuse option combinations that would let live imports be preempted.

    A TTL shorter than a few heartbeat intervals would let a second
    importer take over the lock of a healthy one after a single late
    heartbeat.
    """
    group = conf['import']
    if group.lock_ttl < 3 * group.heartbeat_interval:
        raise exception.InvalidConfiguration(
            reason='[import] lock_ttl (%d) must be at least three times '
                   '[import] heartbeat_interval (%g)' % (
                       group.lock_ttl, group.heartbeat_interval))
