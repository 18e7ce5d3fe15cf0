"""The TaskFlow jobboard that the API posts imports to and conductors claim.

``[taskflow]`` (``glance_lite.conf.taskflow``) names a Redis server or a
ZooKeeper ensemble; ``board_settings`` turns it into the settings
TaskFlow's jobboard backends read, and ``connected_jobboard`` gives a
connected board and closes it afterwards.

Both backends give a claim the same life: it outlives its conductor by
``jobboard_claim_ttl`` seconds and no longer, so that another conductor
takes the import over once the first is dead, never while it runs.
ZooKeeper does that by itself: a claim is an ephemeral node of the
conductor's session, which its client keeps alive and which the server
ends ``jobboard_claim_ttl`` seconds after the client last answered.
TaskFlow's Redis board, though, claims for good unless ``claim`` is
given an expiry, and TaskFlow's conductors give none: a conductor killed
while it ran an import would keep that import forever. So on Redis,
``connected_jobboard`` gives a board whose claims expire after
``jobboard_claim_ttl`` seconds and that renews the claims it holds until
they are consumed, abandoned or trashed, or the board is closed.
"""

import contextlib
import threading

from kazoo import client as kazoo_client
from oslo_log import log as logging
from redis import exceptions as redis_exceptions
from taskflow.jobs import backends as job_backends
from taskflow.jobs.backends import impl_redis
from taskflow.utils import kazoo_utils
from taskflow.utils import misc as taskflow_misc

from glance_lite.common import exception
from glance_lite.conf import taskflow as taskflow_conf

LOG = logging.getLogger(__name__)

# Extends a claim only if the owner key still names this owner: a board
# whose claim expired (a long pause) and was taken by another conductor
# must not keep the other conductor's claim alive.
_RENEW_SCRIPT = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    return redis.call("pexpire", KEYS[1], ARGV[2])
end
return 0
"""


def board_settings(conf):
    """TaskFlow's jobboard settings (``fetch``'s conf) for ``[taskflow]``.

    Redis: ``board``, ``host``, ``port``, ``namespace`` (key prefix),
    ``expiration`` (claim TTL in seconds; read by our board, see the
    module docstring, as TaskFlow's has no such setting), the socket
    timeouts ``socket_connect_timeout`` and ``socket_timeout`` (the claim
    TTL: a server that does not answer for that long has let the claims
    expire anyway), then ``password`` and, with TLS, ``ssl``,
    ``ssl_ca_certs``, ``ssl_certfile``, ``ssl_keyfile`` (redis-py's
    names) only when set: TaskFlow passes every key it knows through
    ``str()``, so a None would become the password "None".

    ZooKeeper: ``board``, ``hosts`` ("host:port,host:port"), ``path``
    ("/<namespace>/jobs"), ``timeout`` (kazoo's session timeout: the
    claim TTL), ``check_compatible`` (False, see below) and, with TLS,
    ``use_ssl``, ``ca``, ``certfile``, ``keyfile`` (kazoo's names).
    TaskFlow does not pass ``ca`` on to kazoo, which is why
    ``connected_jobboard`` makes the kazoo client itself.

    Raises InvalidConfiguration for ``jobboard_backend = none`` (there
    is no jobboard to connect to) and for settings no board could use.
    """
    group = conf.taskflow
    backend = group.jobboard_backend
    if backend == 'none':
        raise exception.InvalidConfiguration(
            reason='[taskflow] jobboard_backend is "none": imports run in '
                   'the API processes and there is no jobboard to connect '
                   'to. Set it to redis or zookeeper to run '
                   'glance-lite-conductor.')
    hosts = [host.strip() for host in group.jobboard_hosts if host.strip()]
    if not hosts:
        raise exception.InvalidConfiguration(
            reason='[taskflow] jobboard_hosts is empty')
    if not group.jobboard_namespace:
        # An empty Redis prefix or ZooKeeper path would mix our jobs with
        # those of any other user of the server.
        raise exception.InvalidConfiguration(
            reason='[taskflow] jobboard_namespace is empty')
    port = group.jobboard_port or taskflow_conf.DEFAULT_PORTS[backend]
    if backend == 'redis':
        return _redis_settings(group, hosts, port)
    return _zookeeper_settings(group, hosts, port)


def _redis_settings(group, hosts, port):
    if len(hosts) > 1:
        # TaskFlow's Redis board talks to a single server; ignoring the
        # other hosts would hide a configuration mistake.
        raise exception.InvalidConfiguration(
            reason='[taskflow] jobboard_hosts names %d hosts but a Redis '
                   'jobboard takes one' % len(hosts))
    ttl = group.jobboard_claim_ttl
    settings = {
        'board': 'redis',
        'host': hosts[0],
        'port': port,
        'namespace': group.jobboard_namespace,
        'expiration': ttl,
        'socket_connect_timeout': float(ttl),
        'socket_timeout': float(ttl),
    }
    if group.jobboard_password:
        settings['password'] = group.jobboard_password
    if group.jobboard_ssl:
        settings['ssl'] = True
        settings.update(_set_only({
            'ssl_ca_certs': group.jobboard_ssl_ca_file,
            'ssl_certfile': group.jobboard_ssl_cert_file,
            'ssl_keyfile': group.jobboard_ssl_key_file,
        }))
    return settings


def _zookeeper_settings(group, hosts, port):
    settings = {
        'board': 'zookeeper',
        'hosts': ','.join(_host_port(host, port) for host in hosts),
        'path': '/%s/jobs' % group.jobboard_namespace.strip('/'),
        'timeout': float(group.jobboard_claim_ttl),
        # TaskFlow would check that the server is at least 3.4 by asking
        # it with the four-letter word "envi", which servers since 3.5
        # refuse unless 4lw.commands.whitelist names it: the check would
        # fail the connection to any current ZooKeeper set up as shipped.
        'check_compatible': False,
    }
    if group.jobboard_ssl:
        settings['use_ssl'] = True
        settings.update(_set_only({
            'ca': group.jobboard_ssl_ca_file,
            'certfile': group.jobboard_ssl_cert_file,
            'keyfile': group.jobboard_ssl_key_file,
        }))
    return settings


def _host_port(host, port):
    # kazoo reads "[::1]:2181" as an IPv6 address and port.
    if ':' in host and not host.startswith('['):
        return '[%s]:%d' % (host, port)
    return '%s:%d' % (host, port)


def _set_only(settings):
    return {key: value for key, value in settings.items() if value}


@contextlib.contextmanager
def connected_jobboard(conf, name=None, persistence=None):
    """Yield a connected jobboard of ``[taskflow]``; close it on exit.

    ``name`` defaults to ``[taskflow] jobboard_name``; ``persistence``
    is the TaskFlow persistence backend that the board loads a job's
    logbook from. Connecting fails with TaskFlow's JobFailure when the
    servers do not answer.
    """
    settings = board_settings(conf)
    name = name or conf.taskflow.jobboard_name
    client = None
    if settings['board'] == 'redis':
        board = RenewingRedisJobBoard(name, settings,
                                      persistence=persistence)
    else:
        client = _zookeeper_client(settings)
        board = job_backends.fetch(name, settings, client=client,
                                   persistence=persistence)
        # A board stops only a client it made itself, and warns that the
        # connection was lost when any other client stops: it is told
        # that it owns ours.
        board._owned = True
    try:
        board.connect()
        yield board
    finally:
        board.close()
        if client is not None:
            # Should a later TaskFlow not read _owned; a no-op otherwise.
            kazoo_utils.finalize_client(client)


def _zookeeper_client(settings):
    """A kazoo client for ``settings``, as TaskFlow would make it, plus TLS.

    TaskFlow's ``kazoo_utils.make_client`` passes the TLS key and
    certificate on but not the CA file, so a server whose certificate
    comes from a private CA could not be checked.
    """
    return kazoo_client.KazooClient(
        hosts=settings['hosts'],
        timeout=settings['timeout'],
        use_ssl=settings.get('use_ssl', False),
        ca=settings.get('ca'),
        certfile=settings.get('certfile'),
        keyfile=settings.get('keyfile'))


class RenewingRedisJobBoard(impl_redis.RedisJobBoard):
    """TaskFlow's Redis jobboard whose claims live as long as their holder.

    A claim made without an explicit expiry (as TaskFlow's conductors
    make them) expires after ``settings['expiration']`` seconds, and a
    thread of the board renews it every third of that time while the
    board holds it. A conductor that dies or hangs stops renewing, and
    its claim is gone ``expiration`` seconds after the last renewal.
    """

    def __init__(self, name, conf, persistence=None):
        super().__init__(name, conf, persistence=persistence)
        self._claim_ttl = float(conf['expiration'])
        self._held = {}  # owner key -> owner name, of claims to renew
        self._held_lock = threading.Lock()
        self._renew = None  # the renewal script, once connected
        self._renewer = None
        self._stop_renewing = None

    def connect(self):
        super().connect()
        self._renew = self._client.register_script(_RENEW_SCRIPT)
        self._stop_renewing = threading.Event()
        self._renewer = threading.Thread(
            target=self._renew_claims, args=(self._stop_renewing,),
            name='jobboard-claim-renewer', daemon=True)
        self._renewer.start()

    def close(self):
        if self._renewer is not None:
            self._stop_renewing.set()
            if self._renewer is not threading.current_thread():
                self._renewer.join()
            self._renewer = None
        with self._held_lock:
            self._held.clear()
        super().close()

    def claim(self, job, who, expiry=None):
        """Claim ``job`` for ``who``; without ``expiry``, renewed."""
        if expiry is not None:
            # The caller chose an expiry, so it extends the claim itself.
            return super().claim(job, who, expiry=expiry)
        super().claim(job, who, expiry=self._claim_ttl)
        with self._held_lock:
            self._held[job.owner_key] = who

    def consume(self, job, who):
        try:
            return super().consume(job, who)
        finally:
            self._forget(job, who)

    def abandon(self, job, who):
        try:
            return super().abandon(job, who)
        finally:
            self._forget(job, who)

    def trash(self, job, who):
        try:
            return super().trash(job, who)
        finally:
            self._forget(job, who)

    def _forget(self, job, who):
        # Whether or not the call succeeded: TaskFlow's conductors leave
        # a job they could not consume or abandon to the claim's expiry.
        with self._held_lock:
            if self._held.get(job.owner_key) == who:
                del self._held[job.owner_key]

    def _renew_claims(self, stop):
        ttl_ms = int(self._claim_ttl * 1000)
        while not stop.wait(self._claim_ttl / 3):
            with self._held_lock:
                held = list(self._held.items())
            for owner_key, who in held:
                try:
                    renewed = self._renew(
                        keys=[owner_key],
                        args=[taskflow_misc.binary_encode(who), ttl_ms])
                except redis_exceptions.RedisError as error:
                    # Tried again at the next turn; if Redis stays away
                    # longer than the TTL, the claim is lost.
                    LOG.warning('Could not renew the jobboard claim %s: '
                                '%s', owner_key.decode(), error)
                    continue
                if not renewed:
                    LOG.warning('Jobboard claim %s of %s was lost (it '
                                'expired or was taken over); no longer '
                                'renewing it', owner_key.decode(), who)
                    with self._held_lock:
                        if self._held.get(owner_key) == who:
                            del self._held[owner_key]
