"""glance-lite-api as a real server: workers, answers, shutdown."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import psutil

from tests.functional import base as functional_base

START_TIMEOUT = 30


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class APIServerTests(unittest.TestCase):

    def setUp(self):
        super().setUp()
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.runner = functional_base.CommandRunner(scratch.name)
        self.port = free_port()
        self.log_path = os.path.join(scratch.name, 'api.log')

    def start(self, *config_lines):
        config = self.runner.write_config(
            'bind_port = %d' % self.port, 'workers = 2', *config_lines)
        with open(self.log_path, 'wb') as log:
            server = subprocess.Popen(
                [os.path.join(functional_base.BIN_DIR, 'glance-lite-api'),
                 '--config-file', config], stdout=log,
                stderr=subprocess.STDOUT)
        self.addCleanup(self.stop, server)
        return server

    def stop(self, server):
        if server.poll() is None:
            server.kill()
            server.wait(10)

    def get(self, path):
        url = 'http://127.0.0.1:%d%s' % (self.port, path)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def wait_until_serving(self, server):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if server.poll() is not None:
                self.fail('glance-lite-api exited with %s:\n%s' % (
                    server.returncode, open(self.log_path).read()))
            try:
                return self.get('/versions')
            except OSError:
                time.sleep(0.2)
        self.fail('glance-lite-api did not answer within %d s'
                  % START_TIMEOUT)

    def wait_for_workers(self, server, count):
        deadline = time.monotonic() + START_TIMEOUT
        while len(psutil.Process(server.pid).children()) != count:
            if time.monotonic() > deadline:
                self.fail('glance-lite-api did not start %d workers' % count)
            time.sleep(0.1)

    def test_serves_with_two_workers_and_stops_on_sigterm(self):
        server = self.start()
        status, body = self.wait_until_serving(server)
        self.assertEqual(200, status)
        self.assertEqual('v2.16', json.loads(body)['versions'][0]['id'])
        self.assertEqual((200, b'OK'), self.get('/healthcheck'))
        self.assertEqual(300, self.get('/')[0])
        # The first worker may answer before the second is forked.
        self.wait_for_workers(server, 2)
        # The embedded database was created and migrated on first start.
        version = self.runner.run('glance-lite-manage', 'db', 'version')
        self.assertEqual('0002_location_digests', version.stdout.strip())

        server.send_signal(signal.SIGTERM)
        self.assertEqual(0, server.wait(START_TIMEOUT))

    def test_missing_paste_file_stops_start_up(self):
        server = self.start('api_paste_config = /nonexistent/paste.ini')
        self.assertEqual(1, server.wait(START_TIMEOUT))
        log = open(self.log_path).read()
        self.assertIn('api_paste_config /nonexistent/paste.ini does not '
                      'exist', log)
        self.assertNotIn('Traceback', log)
