"""Real Redis and ZooKeeper jobboards for tests, one namespace per test.

``JobboardFixture(backend)`` gives a configuration (``conf``) whose
``[taskflow]`` group points at the local server of ``backend`` ('redis'
on 127.0.0.1:6379, 'zookeeper' on 127.0.0.1:2181) under a namespace of
its own, so tests never see each other's jobs, and removes what was
written there afterwards (the Redis keys, the ZooKeeper path).

A server that does not answer skips the test, unless
GLANCE_LITE_TEST_REQUIRE_BACKENDS names the backend: then the test
fails (tests/backends.py).
"""

import uuid

import fixtures
from kazoo import client as kazoo_client
from kazoo import exceptions as kazoo_exceptions
import redis

from tests import backends
from tests.unit import config

BACKENDS = ('redis', 'zookeeper')
HOST = '127.0.0.1'
PORTS = {'redis': 6379, 'zookeeper': 2181}

# Appended to the reason a jobboard test is skipped for.
HOW_TO_ENABLE = (
    'To run the jobboard tests, run Redis on %s:%d and ZooKeeper on '
    '%s:%d ("bash .ci/run" installs and starts both).' % (
        HOST, PORTS['redis'], HOST, PORTS['zookeeper']))

# Seconds to wait for a server's first answer before skipping.
CONNECT_TIMEOUT = 3


def _redis_client():
    return redis.Redis(host=HOST, port=PORTS['redis'],
                       socket_connect_timeout=CONNECT_TIMEOUT,
                       socket_timeout=CONNECT_TIMEOUT)


def _zookeeper_client():
    """A started kazoo client; its caller stops and closes it."""
    client = kazoo_client.KazooClient(
        hosts='%s:%d' % (HOST, PORTS['zookeeper']))
    try:
        client.start(timeout=CONNECT_TIMEOUT)
    except Exception:
        client.close()
        raise
    return client


def _stop(client):
    client.stop()
    client.close()


# Why each backend found missing is: asked once per process, as asking
# ZooKeeper takes CONNECT_TIMEOUT when nothing listens.
_UNAVAILABLE = {}


def unavailable_reason(backend):
    """Why ``backend``'s server cannot be used, or None when it answers."""
    if backend in _UNAVAILABLE:
        return _UNAVAILABLE[backend]
    try:
        if backend == 'redis':
            with _redis_client() as client:
                client.ping()
        else:
            _stop(_zookeeper_client())
    except Exception as error:
        _UNAVAILABLE[backend] = '%s does not answer on %s:%d (%s: %s). %s' % (
            backend, HOST, PORTS[backend], type(error).__name__, error,
            HOW_TO_ENABLE)
        return _UNAVAILABLE[backend]
    return None


class JobboardFixture(fixtures.Fixture):
    """A ``[taskflow]`` configuration for a fresh namespace of ``backend``.

    ``config_lines`` are more lines of the configuration file (for
    example ``'jobboard_claim_ttl = 2'``: they go into ``[taskflow]``).
    The fixture's ``conf`` is a complete glance-lite configuration;
    ``config_file`` is its text, for a process of the test's own.
    """

    def __init__(self, backend, *config_lines):
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError('unknown jobboard backend %r' % backend)
        self.backend = backend
        self.config_lines = config_lines

    def setUp(self):
        # Before Fixture.setUp, which would wrap a SkipTest raised by
        # _setUp in an error.
        reason = unavailable_reason(self.backend)
        if reason is not None:
            backends.skip_or_fail(self.backend, reason)
        super().setUp()

    def _setUp(self):
        # No "jobs" in it: TaskFlow's ZooKeeper board derives its trash
        # path by replacing every "jobs" of the jobs path.
        self.namespace = 'glance_lite_test_%s' % uuid.uuid4().hex
        lines = ['[taskflow]',
                 'jobboard_backend = %s' % self.backend,
                 'jobboard_hosts = %s' % HOST,
                 'jobboard_port = %d' % PORTS[self.backend],
                 'jobboard_namespace = %s' % self.namespace]
        lines.extend(self.config_lines)
        self.config_file = '\n'.join(lines) + '\n'
        self.addCleanup(self._remove_namespace)
        self.conf = config.make_conf(*lines)

    def _remove_namespace(self):
        if self.backend == 'redis':
            with _redis_client() as client:
                keys = list(client.scan_iter(
                    match=self.namespace + ':*', count=1000))
                if keys:
                    client.delete(*keys)
        else:
            client = _zookeeper_client()
            try:
                client.delete('/' + self.namespace, recursive=True)
            except kazoo_exceptions.NoNodeError:
                pass
            finally:
                _stop(client)

    def leftovers(self):
        """What the namespace holds on the server now (keys or paths)."""
        if self.backend == 'redis':
            with _redis_client() as client:
                return sorted(key.decode() for key in client.scan_iter(
                    match=self.namespace + ':*', count=1000))
        client = _zookeeper_client()
        try:
            return _tree(client, '/' + self.namespace)
        finally:
            _stop(client)


def _tree(client, path):
    try:
        children = client.get_children(path)
    except kazoo_exceptions.NoNodeError:
        return []
    found = [path]
    for child in sorted(children):
        found.extend(_tree(client, '%s/%s' % (path, child)))
    return found
