"""Imports through a database outage, on a real two-worker server.

Each class starts its own PostgreSQL or MariaDB (tests/private_db.py),
migrates it with ``glance-lite-manage db sync`` and runs
``glance-lite-api`` on it. While an import copies into ``slow`` (a
throttled store, so a 12 MiB copy takes several seconds), the database
server is SIGKILLed and started again on the same data directory:

- an outage shorter than ``[import] db_retry_timeout``: requests made
  during it are answered 503 with Retry-After and a JSON body; the
  import rides it out and completes, leaving nothing behind;
- an outage longer than that: the import gives up, and the reaper
  (``[import] reaper_interval``) must clean up within lock_ttl +
  reaper_interval after the database returns, so that a retried import
  succeeds;
- a restart with no request during it: the pool does not ping its
  connections, so each worker's next request meets a dead pooled
  connection, which must be retried on a new one, not answered 503.
"""

import http.client
import io
import json
import os
import tempfile
import time

from tests.functional import base
from tests import private_db

SIZE = 12 * 2 ** 20 + 5
LOCK_TTL = 5
HEARTBEAT = 1
REAPER_INTERVAL = 2
CHUNK = 64 * 1024


def copy_request(*stores):
    return {'method': {'name': 'copy-image'}, 'stores': list(stores)}


class _OutageTestCase(base.ServerTestCase):
    """A server on the class's own database server ``SERVER``."""

    SERVER = None
    DB_RETRY_TIMEOUT = 30
    REAPER_INTERVAL = REAPER_INTERVAL
    ENABLED_BACKENDS = 'fast:file, slow:throttled_file'
    STORES = ('fast', 'slow')
    ALL_STORE_DIRS = STORES + (base.STAGING_STORE,)

    @classmethod
    def setUpClass(cls):
        cls.database = cls.SERVER()
        # Class cleanups run last-in first-out: the database outlives
        # the API server.
        cls.addClassCleanup(cls.database.stop)
        cls.database.start()
        sync_dir = tempfile.TemporaryDirectory()
        cls.addClassCleanup(sync_dir.cleanup)
        synced = base.CommandRunner(sync_dir.name).run(
            'glance-lite-manage', 'db', 'sync', config_lines=[
                '[database]', 'connection = %s' % cls.database.url])
        if synced.returncode != 0:
            raise AssertionError('db sync failed: %s' % synced.stderr)
        super().setUpClass()

    @classmethod
    def config_lines(cls):
        return super().config_lines() + [
            '[database]', 'connection = %s' % cls.database.url,
            '[import]', 'lock_ttl = %d' % LOCK_TTL,
            'heartbeat_interval = %d' % HEARTBEAT,
            'db_retry_timeout = %d' % cls.DB_RETRY_TIMEOUT,
            'reaper_interval = %d' % cls.REAPER_INTERVAL,
            '[fast]', 'filesystem_store_chunk_size = %d' % CHUNK,
            '[os_glance_staging_store]',
            'filesystem_store_chunk_size = %d' % CHUNK,
            '[slow]', 'throttle_seconds_per_chunk = 0.05']

    def setUp(self):
        super().setUp()
        # A test that failed half-way must not leave the next one
        # without a database.
        self.addCleanup(self.ensure_database_runs)

    def ensure_database_runs(self):
        if not self.database.accepts_connections():
            self.database.restart()

    # Helpers -------------------------------------------------------------

    def staged_image(self):
        glance = self.glance()
        image = glance.images.create(name=base.unique('outage'),
                                     disk_format='raw',
                                     container_format='bare')
        data = os.urandom(SIZE)
        glance.images.stage(image.id, io.BytesIO(data), len(data))
        return image.id, data

    def active_image(self):
        """An image active in ``fast`` (adopted, so at once): (id, data)."""
        image_id, data = self.staged_image()
        self.import_(image_id, {'method': {'name': 'glance-direct'},
                                'stores': ['fast']})
        self.wait_for_image(image_id, lambda i: i['status'] == 'active',
                            'to become active')
        return image_id, data

    def import_(self, image_id, body):
        status, answer = self.raw('POST', '/v2/images/%s/import' % image_id,
                                  body=body)
        self.assertEqual(202, status, answer)

    def wait_for_partial(self, image_id, store):
        return self.wait_for(
            'a write of %s to %s' % (image_id, store),
            lambda: [name for name in self.store_files(store, image_id)
                     if name.endswith('.partial')], timeout=30,
            interval=0.01)

    def assert_unavailable_answers(self, image_id):
        """Requests during the outage: 503, Retry-After, a JSON message."""
        for method, path, body in [
                ('GET', '/v2/images/%s' % image_id, None),
                ('GET', '/v2/images', None),
                ('POST', '/v2/images/%s/import' % image_id,
                 copy_request('fast')),
                ('GET', '/v2/images/%s/tasks' % image_id, None)]:
            connection = http.client.HTTPConnection(
                '127.0.0.1', self.server.port, timeout=60)
            try:
                headers = dict(base.ADMIN, **{
                    'Content-Type': 'application/json'})
                connection.request(method, path, headers=headers, body=(
                    None if body is None else json.dumps(body)))
                response = connection.getresponse()
                answer = json.loads(response.read())
            finally:
                connection.close()
            self.assertEqual(503, response.status, (method, path, answer))
            self.assertTrue(response.getheader('Retry-After', '').isdigit(),
                            response.getheaders())
            self.assertIn('retry later', answer['error']['message'])

    def outage(self, image_id, seconds):
        """Crash the database, check the answers, restart after ``seconds``."""
        started = time.monotonic()
        self.database.crash()
        self.assert_unavailable_answers(image_id)
        time.sleep(max(0, seconds - (time.monotonic() - started)))
        self.database.restart()

    def assert_clean(self, image_id, stores, data):
        """Active in ``stores``, no marker, one complete file per store."""
        image = self.image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(set(stores), base.stores_of(image))
        self.assertEqual('', image['os_glance_importing_to_stores'])
        found = self.files_of(image_id)
        self.assertEqual(set(stores), set(found), found)
        for store in stores:
            self.assertEqual([False], [name.startswith('.')
                                       for name in found[store]], found)
            self.assertEqual(data, self.read_store_file(store, image_id))


class ShortOutageMixin:
    """An outage shorter than db_retry_timeout (and than lock_ttl)."""

    OUTAGE = 2

    def test_copy_rides_out_outage(self):
        image_id, data = self.active_image()
        self.import_(image_id, copy_request('slow'))
        self.wait_for_partial(image_id, 'slow')
        self.outage(image_id, self.OUTAGE)
        tasks = self.wait_for_tasks_to_end(image_id)
        self.assertEqual(['success', 'success'],
                         [task['status'] for task in tasks], tasks)
        self.assert_clean(image_id, ['fast', 'slow'], data)

    def test_first_import_rides_out_outage(self):
        image_id, data = self.staged_image()
        self.import_(image_id, {'method': {'name': 'glance-direct'},
                                'stores': ['slow']})
        self.wait_for_partial(image_id, 'slow')
        self.outage(image_id, self.OUTAGE)
        tasks = self.wait_for_tasks_to_end(image_id)
        self.assertEqual(['success'], [task['status'] for task in tasks],
                         tasks)
        self.assert_clean(image_id, ['slow'], data)


class LongOutageMixin:
    """An outage longer than db_retry_timeout: the reaper cleans up.

    Needs the reaper ([import] reaper_interval); until it exists the
    task stays processing and this fails.
    """

    DB_RETRY_TIMEOUT = 1
    OUTAGE = 15

    def test_copy_given_up_then_reaped(self):
        image_id, data = self.active_image()
        self.import_(image_id, copy_request('slow'))
        self.wait_for_partial(image_id, 'slow')
        self.outage(image_id, self.OUTAGE)
        deadline = LOCK_TTL + REAPER_INTERVAL + 5
        tasks = self.wait_for_tasks_to_end(image_id, timeout=deadline)
        self.assertEqual(['success', 'failure'],
                         [task['status'] for task in tasks], tasks)
        self.assert_clean(image_id, ['fast'], data)
        self.import_(image_id, copy_request('slow'))
        self.wait_for_tasks_to_end(image_id)
        self.assert_clean(image_id, ['fast', 'slow'], data)


class RestartMixin:
    """A restart nothing noticed: no request and no reaper during it."""

    # The reaper would meet the dead connections first.
    REAPER_INTERVAL = 3600

    def test_requests_after_a_restart_succeed(self):
        image_id, _data = self.active_image()
        connections = base.WorkerConnections(self.server, per_worker=1)
        self.addCleanup(connections.close)
        path = '/v2/images/%s' % image_id
        for worker, connection in connections.all():
            status, body = base.http_request(connection, 'GET', path)
            self.assertEqual(200, status, (worker, body))
        self.database.crash()
        self.database.restart()
        for worker, connection in connections.all():
            status, body = base.http_request(connection, 'GET', path)
            self.assertEqual(200, status, (worker, body))


class PostgreSQLShortOutageTests(ShortOutageMixin, _OutageTestCase):
    SERVER = private_db.PrivatePostgreSQL


class MariaDBShortOutageTests(ShortOutageMixin, _OutageTestCase):
    SERVER = private_db.PrivateMariaDB


class PostgreSQLLongOutageTests(LongOutageMixin, _OutageTestCase):
    SERVER = private_db.PrivatePostgreSQL


class MariaDBLongOutageTests(LongOutageMixin, _OutageTestCase):
    SERVER = private_db.PrivateMariaDB


class PostgreSQLRestartTests(RestartMixin, _OutageTestCase):
    SERVER = private_db.PrivatePostgreSQL


class MariaDBRestartTests(RestartMixin, _OutageTestCase):
    SERVER = private_db.PrivateMariaDB
