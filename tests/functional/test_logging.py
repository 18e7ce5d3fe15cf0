"""What a real server writes to its log file, as an operator reads it.

The server runs with ``log_file`` set and oslo.log's default formats,
whose context prefix is ``[global_request_id request_id user project
...]``. Each request is sent with raw HTTP so its request id (the
``x-openstack-request-id`` answer header) is known, and the log is
searched for the lines naming it.

``buggy`` is a store whose driver fails every write with a
RuntimeError (``tests/third_party_store``): an error the service does
not know, as a driver bug would be.
"""

import http.client
import json
import os
import re
import uuid

from tests.functional import base

REQUEST_ID = re.compile(r'req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
                        r'[0-9a-f]{4}-[0-9a-f]{12}')
DATA = b'0123456789abcdef' * 4096
PROJECT = 'logging-project'
HEADERS = base.identity(PROJECT, roles='admin,member')


class LogFileTestCase(base.ServerTestCase):

    ENABLED_BACKENDS = 'fast:file, slow:file, common:file, buggy:raising_file'
    DEBUG = False

    @classmethod
    def log_path(cls):
        return os.path.join(cls.scratch_dir, 'glance-lite-api.log')

    @classmethod
    def config_lines(cls):
        return ['log_file = %s' % cls.log_path(),
                'debug = %s' % cls.DEBUG] + super().config_lines()

    def log_lines(self):
        with open(self.log_path(), errors='replace') as log:
            return log.read().splitlines()

    def lines_with(self, *fragments):
        return [line for line in self.log_lines()
                if all(fragment in line for fragment in fragments)]

    def wait_for_lines(self, *fragments, count=1):
        """The log lines holding every fragment, once there are ``count``.

        The access line of a request is written when its answer has been
        sent, so a client may see the answer a moment before the line.
        """
        return self.wait_for(
            '%d log line(s) with %s' % (count, fragments),
            lambda: (lambda found: found if len(found) >= count else None)(
                self.lines_with(*fragments)), timeout=30)

    def send(self, method, path, body=None, headers=None, json_body=None):
        """(status, request id, body bytes) of one request."""
        headers = dict(HEADERS, **(headers or {}))
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers['Content-Type'] = 'application/json'
        connection = http.client.HTTPConnection('127.0.0.1',
                                                self.server.port,
                                                timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return (response.status,
                    response.getheader('x-openstack-request-id'),
                    response.read())
        finally:
            connection.close()

    def create_image(self):
        status, _, body = self.send('POST', '/v2/images', json_body={
            'name': base.unique('logged'), 'disk_format': 'raw',
            'container_format': 'bare'})
        self.assertEqual(201, status, body)
        return json.loads(body)['id']

    def staged_image(self):
        image_id = self.create_image()
        status, _, body = self.send(
            'PUT', '/v2/images/%s/stage' % image_id, body=DATA,
            headers={'Content-Type': 'application/octet-stream'})
        self.assertEqual(204, status, body)
        return image_id

    def import_image(self, image_id, method, *stores):
        status, request_id, body = self.send(
            'POST', '/v2/images/%s/import' % image_id, json_body={
                'method': {'name': method}, 'stores': list(stores)})
        self.assertEqual(202, status, body)
        return request_id

    def task_of(self, image_id):
        tasks = self.wait_for_tasks_to_end(image_id)
        self.assertEqual(1, len(tasks), tasks)
        return tasks[0]


class AccessAndImportLogTests(LogFileTestCase):

    def assert_one_access_line(self, request_id, method, path, status,
                               sent=None):
        line, = self.wait_for_lines('glance_lite.api.request_log',
                                    request_id)
        self.assertEqual([line], self.lines_with(request_id, ' INFO ',
                                                 '"%s ' % method))
        self.assertIn(' INFO ', line)
        self.assertIn('"%s %s" status: %d len: ' % (method, path, status),
                      line)
        self.assertIn(' %s ' % PROJECT, line)  # the context's project
        self.assertIn('%s-user' % PROJECT, line)
        self.assertRegex(line, r' time: \d+\.\d{3}$')
        if sent is not None:
            self.assertIn(' len: %d ' % sent, line)
        return line

    def test_one_access_line_per_request(self):
        image_id = self.create_image()
        kinds = [
            ('PUT', '/v2/images/%s/file' % image_id, DATA,
             {'Content-Type': 'application/octet-stream'}, 204),
            ('GET', '/v2/images/%s/file' % image_id, None, None, 200),
            ('GET', '/v2/images?limit=1&sort_key=name', None, None, 200),
            ('GET', '/v2/images/%s' % uuid.uuid4(), None, None, 404),
            ('PATCH', '/v2/images/%s' % image_id, b'[]',
             {'Content-Type': 'application/json'}, 415),
        ]
        for method, path, body, headers, expected in kinds:
            with self.subTest(method=method, path=path):
                status, request_id, answer = self.send(method, path, body,
                                                       headers)
                self.assertEqual(expected, status, answer)
                self.assertRegex(request_id, REQUEST_ID)
                self.assert_one_access_line(request_id, method, path,
                                            status, sent=len(answer))
        # The download was logged once its body had gone: all of it.
        status, request_id, answer = self.send(
            'GET', '/v2/images/%s/file' % image_id)
        self.assertEqual(DATA, answer)
        self.assert_one_access_line(request_id, 'GET',
                                    '/v2/images/%s/file' % image_id, 200,
                                    sent=len(DATA))

    def test_import_lifecycle_lines_carry_the_accepting_request_id(self):
        image_id = self.staged_image()
        request_id = self.import_image(image_id, 'glance-direct', 'fast')
        task = self.task_of(image_id)
        self.assertEqual('success', task['status'], task['message'])
        prefix = 'Import task %s of image %s' % (task['id'], image_id)
        accepted, = self.wait_for_lines(
            ' INFO ', 'Accepted glance-direct import task %s of image %s to '
            'fast for project %s' % (task['id'], image_id, PROJECT))
        started, = self.lines_with(' INFO ', prefix + ' started: '
                                   'glance-direct to fast')
        # The staged file was moved into the file store, not copied.
        done, = self.lines_with(' INFO ', prefix + ': store fast done, the '
                                '%d staged bytes moved in without a copy'
                                % len(DATA))
        finished, = self.wait_for_lines(' INFO ', prefix + ' finished in ')
        for line in (accepted, started, done, finished):
            self.assertEqual([request_id], REQUEST_ID.findall(line), line)
        self.assertIn(' %s ' % PROJECT, finished)
        # A copy reads and writes every byte, and says how fast.
        self.import_image(image_id, 'copy-image', 'slow')
        copy = [task for task in self.wait_for_tasks_to_end(image_id)
                if task['input']['method'] == 'copy-image'][0]
        self.assertEqual('success', copy['status'], copy['message'])
        self.wait_for_lines(' INFO ', 'Import task %s of image %s: store slow '
                            'done, %d bytes in ' % (copy['id'], image_id,
                                                    len(DATA)), ' MB/s)')
        # Nothing at DEBUG: the server does not run with debug.
        self.assertEqual([], self.lines_with(' DEBUG '))

    def test_failed_import_line_and_plain_task_message(self):
        image_id = self.staged_image()
        self.import_image(image_id, 'glance-direct', 'fast')
        self.assertEqual('success', self.task_of(image_id)['status'])
        request_id = self.import_image(image_id, 'copy-image', 'buggy')
        task = [task for task in self.wait_for_tasks_to_end(image_id)
                if task['input']['method'] == 'copy-image'][0]
        self.assertEqual(('failure', 'An internal error occurred; the '
                          'service log has the details of task %s.'
                          % task['id']), (task['status'], task['message']))
        failed, = self.wait_for_lines(
            ' ERROR ', 'Import task %s of image %s failed' % (task['id'],
                                                             image_id))
        self.assertEqual([request_id], REQUEST_ID.findall(failed))
        # The traceback with the driver's own words follows, for the
        # operator.
        self.assertIn('RuntimeError: raising_file store: a bug on purpose',
                      '\n'.join(self.log_lines()))

    def test_unexpected_error_is_logged_with_one_request_id(self):
        image_id = self.create_image()
        status, request_id, body = self.send(
            'PUT', '/v2/images/%s/file' % image_id, body=DATA,
            headers={'Content-Type': 'application/octet-stream',
                     'X-Image-Meta-Store': 'buggy'})
        self.assertEqual(500, status, body)
        self.assertEqual(
            'An unexpected error occurred; the service log has the details '
            'of request %s.' % request_id,
            json.loads(body)['error']['message'])
        error, = self.wait_for_lines(
            ' ERROR ', 'Unexpected error in PUT /v2/images/%s/file'
            % image_id)
        self.assertEqual([request_id], REQUEST_ID.findall(error))
        self.assert_one_access_line(request_id, 'PUT',
                                    '/v2/images/%s/file' % image_id, 500)


class DebugLogTests(LogFileTestCase):

    DEBUG = True

    def test_debug_shows_lock_decisions(self):
        image_id = self.staged_image()
        request_id = self.import_image(image_id, 'glance-direct', 'fast')
        task = self.task_of(image_id)
        self.assertEqual('success', task['status'], task['message'])
        for store in ('fast', base.STAGING_STORE):
            acquired, = self.lines_with(
                ' DEBUG ', 'Task %s acquired the import lock of image %s in '
                'store %s' % (task['id'], image_id, store))
            self.assertEqual([request_id], REQUEST_ID.findall(acquired))
        self.wait_for_lines(' DEBUG ', 'Task %s released its import locks '
                            'of image %s' % (task['id'], image_id))
        self.wait_for_lines(' DEBUG ', 'Policy import_image allows for '
                            'project %s' % PROJECT)
