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
    cfg.FloatOpt(
        'reaper_interval',
        default=30.0,
        min=1.0,
        help='Seconds between two runs of the reaper that every process '
             'running imports runs in the background (also once at '
             'start). The reaper takes over import locks whose heartbeat '
             'is older than lock_ttl, removes what their dead owner '
             'wrote, fails its task with the reason and frees the stores, '
             'without waiting for a new request to the same store. An '
             'abandoned import is cleaned up within lock_ttl + '
             'reaper_interval of its last heartbeat. A run that finds '
             'nothing abandoned costs one query over the import lock '
             'table, which holds a row per running import and store.'),
    cfg.IntOpt(
        'db_retry_timeout',
        default=60,
        min=0,
        help='Seconds each database call of a running import (lock '
             'heartbeats, task and image updates, locations, the final '
             'write and every revert) retries when the database is '
             'unreachable or deadlocked, backing off exponentially, '
             'before the import gives up. API requests never wait: they '
             'are answered 503 at once. The default equals the default '
             'lock_ttl: an import that could not heartbeat for lock_ttl '
             'is considered dead and its locks may be taken over, so '
             'retrying much longer only delays its cleanup, while a '
             'shorter budget would fail imports through outages their '
             'locks survive. 0 disables retrying.'),
    cfg.IntOpt(
        'executor_workers',
        default=4,
        min=1,
        help='Number of import flows one service process runs at the '
             'same time. Further accepted imports wait in its queue. '
             'Imports are mostly bound by disk and network, so a value '
             'above the number of cores is reasonable.'),
    cfg.IntOpt(
        'executor_niceness',
        default=10,
        min=0,
        max=19,
        help='How much lower than the API\'s own threads the threads '
             'that run accepted imports (web-download, glance-direct, '
             'copy-image) are scheduled, as a Linux nice increment of '
             'those threads only (their helper threads inherit it). An '
             'import hashes every byte it moves and can keep cores busy '
             'for minutes; at a lower priority it takes only the CPU '
             'that requests leave, so the API keeps answering quickly '
             'while data moves, and an idle host still gives the import '
             'all of its CPU. Uploads (PUT /file) run in their request '
             'and keep its priority. 0 leaves the priority unchanged. '
             'Ignored where the platform has no per-thread priority.'),
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
