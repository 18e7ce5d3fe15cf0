"""SIGTERM drains: answers in flight complete, running imports finish.

gunicorn stops accepting connections and lets each worker finish the
requests it is serving; the worker's exit hook then gives its running
imports the same grace period. The server here copies slowly (a
throttled store), so the copy is certainly running when SIGTERM comes.
"""

import hashlib
import http.client
import json
import os
import signal
import tempfile
import unittest

from tests.functional import base

DATA = os.urandom(4 * 1024 * 1024)
CHUNK = 65536


class GracefulShutdownTests(unittest.TestCase):

    def setUp(self):
        super().setUp()
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.runner = base.CommandRunner(scratch.name)
        self.server = self.start_server()

    def start_server(self):
        server = base.APIServer(self.runner, workers=2)
        self.addCleanup(server.stop)
        return server.start_and_wait(
            'enabled_backends = fast:file, slow:throttled_file',
            'graceful_shutdown_timeout = 30',
            '[glance_store]', 'default_backend = fast',
            '[fast]', 'filesystem_store_chunk_size = %d' % CHUNK,
            # 64 chunks of 64 KiB at 0.05 s: the copy takes about 3 s.
            '[slow]', 'throttle_seconds_per_chunk = 0.05')

    def request(self, method, path, body=None, content_type=None):
        connection = http.client.HTTPConnection('127.0.0.1',
                                                self.server.port, timeout=60)
        self.addCleanup(connection.close)
        headers = {'Content-Type': content_type} if content_type else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None

    def active_image(self):
        status, image = self.request(
            'POST', '/v2/images', json.dumps(
                {'disk_format': 'raw', 'container_format': 'bare'}),
            'application/json')
        self.assertEqual(201, status, image)
        path = '/v2/images/%s' % image['id']
        self.assertEqual(204, self.request(
            'PUT', path + '/file', DATA, 'application/octet-stream')[0])
        return path

    def wait_for_exit(self):
        self.assertEqual(0, self.server.process.wait(60), self.server.log())

    def test_a_download_in_flight_completes(self):
        path = self.active_image()
        connection = http.client.HTTPConnection('127.0.0.1',
                                                self.server.port, timeout=60)
        self.addCleanup(connection.close)
        connection.request('GET', path + '/file')
        response = connection.getresponse()
        first = response.read(CHUNK)
        self.server.process.send_signal(signal.SIGTERM)
        rest = response.read()
        self.assertEqual(200, response.status)
        self.assertEqual(hashlib.md5(DATA).hexdigest(),
                         hashlib.md5(first + rest).hexdigest())
        self.wait_for_exit()

    def test_a_running_copy_finishes_before_the_worker_exits(self):
        path = self.active_image()
        status, _ = self.request('POST', path + '/import', json.dumps(
            {'method': {'name': 'copy-image'}, 'stores': ['slow']}),
            'application/json')
        self.assertEqual(202, status)
        status, image = self.request('GET', path)
        self.assertEqual('slow', image.get('os_glance_importing_to_stores'))
        self.server.process.send_signal(signal.SIGTERM)
        self.wait_for_exit()

        self.server = self.start_server()
        status, image = self.request('GET', path)
        self.assertEqual(('fast,slow', None), (
            image['stores'], image.get('os_glance_importing_to_stores')))
        status, tasks = self.request('GET', path + '/tasks')
        self.assertEqual(['success', 'success'],
                         [task['status'] for task in tasks['tasks']])
