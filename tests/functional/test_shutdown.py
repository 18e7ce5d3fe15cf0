"""SIGTERM and SIGINT drain: requests in flight complete, imports finish.

gunicorn stops accepting connections and lets each worker finish the
requests it is serving; the worker's exit hook then gives its running
imports the same grace period. SIGINT is sent to the whole process
group, as a terminal's Ctrl-C does, and to the master alone. The server
here copies slowly (a throttled store), so the copy is certainly
running when the signal comes, and uploads are held back by the test
until the server has stopped listening.
"""

import hashlib
import http.client
import json
import os
import signal
import tempfile
import threading
import time
import unittest

from tests.functional import base

DATA = os.urandom(4 * 1024 * 1024)
CHUNK = 65536
# The upload in flight: UPLOAD_MIB chunks of 1 MiB, the first
# UPLOAD_BEFORE_SIGNAL of them sent before the signal.
MIB = 1024 * 1024
UPLOAD_MIB = 256
UPLOAD_BEFORE_SIGNAL = 16


class GracefulShutdownTests(unittest.TestCase):

    def setUp(self):
        super().setUp()
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.runner = base.CommandRunner(scratch.name)
        self.server = self.start_server()

    def start_server(self, grace=30, seconds_per_chunk=0.05):
        server = base.APIServer(self.runner, workers=2)
        self.addCleanup(server.stop)
        return server.start_and_wait(
            'enabled_backends = fast:file, slow:throttled_file',
            'graceful_shutdown_timeout = %d' % grace,
            '[glance_store]', 'default_backend = fast',
            '[fast]', 'filesystem_store_chunk_size = %d' % CHUNK,
            # 64 chunks of 64 KiB at 0.05 s: the copy takes about 3 s.
            '[slow]', 'throttle_seconds_per_chunk = %s' % seconds_per_chunk)

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
        path = self.new_image()
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
        self.server.send_signal(signal.SIGTERM)
        rest = response.read()
        self.assertEqual(200, response.status)
        self.assertEqual(hashlib.md5(DATA).hexdigest(),
                         hashlib.md5(first + rest).hexdigest())
        self.wait_for_exit()

    def new_image(self):
        status, image = self.request(
            'POST', '/v2/images', json.dumps(
                {'disk_format': 'raw', 'container_format': 'bare'}),
            'application/json')
        self.assertEqual(201, status, image)
        return '/v2/images/%s' % image['id']

    def start_copy_to_slow(self, path):
        status, _ = self.request('POST', path + '/import', json.dumps(
            {'method': {'name': 'copy-image'}, 'stores': ['slow']}),
            'application/json')
        self.assertEqual(202, status)
        status, image = self.request('GET', path)
        self.assertEqual('slow', image.get('os_glance_importing_to_stores'))

    def stop_during_upload_and_copy(self, signum, whole_group):
        """Signal the server while an upload and a copy are running.

        The upload sends its first chunks, then waits until the server
        has closed its listening socket (so the signal was handled while
        the request was in flight), then sends the rest. Returns the
        upload's status and the sha512 of what was sent.
        """
        copied = self.active_image()
        uploaded = self.new_image()
        self.start_copy_to_slow(copied)
        chunk = os.urandom(MIB)
        half_sent = threading.Event()
        stopped_listening = threading.Event()

        def body():
            for index in range(UPLOAD_MIB):
                if index == UPLOAD_BEFORE_SIGNAL:
                    half_sent.set()
                    stopped_listening.wait(30)
                yield chunk

        connection = http.client.HTTPConnection('127.0.0.1',
                                                self.server.port, timeout=120)
        self.addCleanup(connection.close)
        outcome = {}

        def upload():
            connection.request('PUT', uploaded + '/file', body=body(),
                               headers={'Content-Type':
                                        'application/octet-stream',
                                        'Content-Length':
                                        str(UPLOAD_MIB * MIB)})
            response = connection.getresponse()
            outcome['status'] = response.status
            outcome['body'] = response.read()

        uploader = threading.Thread(target=upload)
        uploader.start()
        self.assertTrue(half_sent.wait(30))
        self.server.send_signal(signum, whole_group=whole_group)
        deadline = time.monotonic() + 20
        while self.server.is_listening() and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = not self.server.is_listening()
        stopped_listening.set()
        uploader.join(120)
        self.assertTrue(refused, 'the server still accepts connections')
        self.assertEqual(204, outcome.get('status'), outcome)
        self.wait_for_exit()
        self.assertFalse(self.server.is_listening())
        self.assertEqual([], self.server.leftover_processes())
        self.assertNotIn('Traceback', self.server.log())

        self.server = self.start_server()
        expected = hashlib.sha512(chunk * UPLOAD_MIB).hexdigest()
        status, image = self.request('GET', uploaded)
        self.assertEqual(('active', expected),
                         (image['status'], image['os_hash_value']))
        status, image = self.request('GET', copied)
        self.assertEqual(('fast,slow', ''), (
            image['stores'], image['os_glance_importing_to_stores']))
        status, tasks = self.request('GET', copied + '/tasks')
        self.assertEqual([('success', '')] * 2,
                         [(task['status'], task['message'] or '')
                          for task in tasks['tasks']])

    def test_sigterm_to_the_master_drains(self):
        self.stop_during_upload_and_copy(signal.SIGTERM, whole_group=False)

    def test_ctrl_c_drains(self):
        """SIGINT to master and workers at once, as a terminal sends it."""
        self.stop_during_upload_and_copy(signal.SIGINT, whole_group=True)

    def test_sigint_to_the_master_drains(self):
        self.stop_during_upload_and_copy(signal.SIGINT, whole_group=False)

    def test_a_copy_outlasting_the_grace_period_is_abandoned_not_failed(self):
        self.server.stop()
        # 64 chunks at 0.5 s: the copy would take 32 s; the grace is 5 s.
        # (A worker keeps its kept-alive connections up to 2 s of the
        # grace period; a shorter grace leaves the master killing it
        # before it can say what it abandoned.)
        self.server = self.start_server(grace=5, seconds_per_chunk=0.5)
        path = self.active_image()
        self.start_copy_to_slow(path)
        self.server.send_signal(signal.SIGINT, whole_group=True)
        self.wait_for_exit()
        self.assertIn('Abandoned 1 import(s) at shutdown', self.server.log())
        self.assertNotIn('Traceback', self.server.log())

        self.server = self.start_server()
        status, tasks = self.request('GET', path + '/tasks')
        copy = [task for task in tasks['tasks']
                if task['status'] != 'success']
        self.assertEqual(['processing'], [task['status'] for task in copy])
        self.assertNotIn('shutdown', copy[0]['message'] or '')
