"""glance-lite-api as a real server: workers, answers, shutdown."""

import http.client
import json
import os
import signal
import tempfile
import time
import unittest

from tests.functional import base as functional_base

START_TIMEOUT = functional_base.START_TIMEOUT


class APIServerTests(unittest.TestCase):

    def setUp(self):
        super().setUp()
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.runner = functional_base.CommandRunner(scratch.name)
        self.server = functional_base.APIServer(self.runner, workers=2)
        self.addCleanup(self.assert_nothing_left, self.server)
        self.addCleanup(self.server.stop)

    def assert_nothing_left(self, server):
        self.assertEqual([], server.leftover_processes())

    def test_serves_with_two_workers_and_stops_on_sigterm(self):
        server = self.server.start()
        status, body = self.server.wait_until_serving()
        self.assertEqual(200, status)
        self.assertEqual('v2.12', json.loads(body)['versions'][0]['id'])
        self.assertEqual((200, b'OK'), self.server.get('/healthcheck'))
        self.assertEqual(300, self.server.get('/')[0])
        # The first worker may answer before the second is forked.
        self.server.wait_for_workers(2)
        # The embedded database was created and migrated on first start.
        version = self.runner.run('glance-lite-manage', 'db', 'version')
        self.assertEqual(functional_base.head_revision(),
                         version.stdout.strip())

        server.send_signal(signal.SIGTERM)
        self.assertEqual(0, server.wait(START_TIMEOUT))

    def test_an_idle_connection_outlives_a_client_polling_interval(self):
        # openstacksdk polls every 2 s on one kept-alive connection; a
        # server closing idle connections after 2 s (gunicorn's default)
        # made its polls fail with "Remote end closed connection".
        self.server.start()
        self.server.wait_until_serving()
        connection = http.client.HTTPConnection('127.0.0.1',
                                                self.server.port, timeout=30)
        self.addCleanup(connection.close)
        for pause in (0, 3):
            time.sleep(pause)
            connection.request('GET', '/versions')
            response = connection.getresponse()
            response.read()
            self.assertEqual(200, response.status)

    def test_a_worker_with_every_thread_busy_leaves_connections_to_others(
            self):
        # One thread per worker, and one worker's thread held by a
        # request whose body has not all arrived. gthread would queue
        # about half of the new connections behind it; they must all go
        # to the other worker instead.
        self.server.start('threads_per_worker = 1')
        self.server.wait_until_serving()
        self.server.wait_until_every_worker_serves()
        held = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=30)
        self.addCleanup(held.close)
        body = json.dumps({'name': 'held'}).encode()
        held.putrequest('POST', '/v2/images')
        for name, value in dict(functional_base.ADMIN, **{
                'Content-Type': 'application/json',
                'Content-Length': str(len(body))}).items():
            held.putheader(name, value)
        held.endheaders(body[:1])
        # Time for a worker to take it and start reading the body.
        time.sleep(0.5)
        for _ in range(12):
            connection = http.client.HTTPConnection(
                '127.0.0.1', self.server.port, timeout=10)
            try:
                connection.request('GET', '/versions')
                response = connection.getresponse()
                response.read()
            finally:
                connection.close()
            self.assertEqual(200, response.status)
        held.send(body[1:])
        response = held.getresponse()
        self.assertEqual(201, response.status, response.read())

    def test_missing_paste_file_stops_start_up(self):
        server = self.server.start(
            'api_paste_config = /nonexistent/paste.ini')
        self.assertEqual(1, server.wait(START_TIMEOUT))
        log = self.server.log()
        self.assertIn('api_paste_config /nonexistent/paste.ini does not '
                      'exist', log)
        self.assertNotIn('Traceback', log)

    def test_store_directory_that_is_a_file_stops_start_up(self):
        # The file driver creates its directory at start-up: a regular
        # file in its place is found then, not at the first import.
        not_a_directory = os.path.join(self.runner.scratch_dir, 'plain')
        with open(not_a_directory, 'w') as plain:
            plain.write('not a directory\n')
        server = self.server.start(
            'enabled_backends = fast:file, broken:file',
            '[glance_store]', 'default_backend = fast',
            '[broken]', 'filesystem_store_datadir = %s' % not_a_directory)
        self.assertNotEqual(0, server.wait(START_TIMEOUT))
        log = self.server.log()
        self.assertIn('Store broken is unavailable: %s' % not_a_directory,
                      log)
        with self.assertRaises(OSError):
            self.server.get('/versions', timeout=2)
