"""POST /v2/tasks: Glance's legacy import task, through the whole API."""

import time

from tests.unit.api import base
from tests.unit.api import test_image_formats

DATA = b'legacy task data' * 1000


def task_request(url, **image_properties):
    image_properties.setdefault('disk_format', 'raw')
    image_properties.setdefault('container_format', 'bare')
    return {'type': 'import',
            'input': {'import_from': url, 'import_from_format': 'raw',
                      'image_properties': image_properties}}


class LegacyTaskTestCase(base.APITestCase):

    def create_task(self, body, headers=base.ADMIN):
        return self.request('POST', '/v2/tasks', headers, json=body)

    def wait_for_task(self, task_id, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task = self.request('GET', '/v2/tasks/%s' % task_id,
                                base.ADMIN).json
            if task['status'] in base.TERMINAL:
                return task
            time.sleep(0.05)
        self.fail('task %s did not end: %s' % (task_id, task))


class LegacyImportTaskTests(LegacyTaskTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = test_image_formats.SampleServer({'data.raw': DATA})
        cls.addClassCleanup(cls.server.stop)

    def extra_config(self):
        return ('[import_filtering_opts]', 'allowed_hosts = 127.0.0.1',
                'allowed_ports = %d' % self.server.port)

    def test_import_task_creates_and_fills_an_image(self):
        body = task_request(self.server.url('data.raw'), name='from-task',
                            visibility='public', color='green')
        created = self.create_task(body)
        self.assertEqual(201, created.status_int, created.text)
        task = created.json
        self.assertEqual(('import', 'pending', body['input']),
                         (task['type'], task['status'], task['input']))
        self.assertTrue(created.headers['Location'].endswith(
            '/v2/tasks/%s' % task['id']))

        ended = self.wait_for_task(task['id'])
        self.assertEqual('success', ended['status'], ended['message'])
        image_id = ended['result']['image_id']
        self.assertEqual(image_id, ended['image_id'])
        image = self.show(image_id, base.ADMIN).json
        self.assertEqual(('from-task', 'active', 'public', 'green',
                          len(DATA)),
                         (image['name'], image['status'],
                          image['visibility'], image['color'],
                          image['size']))
        self.assertEqual(DATA, self.request(
            'GET', '/v2/images/%s/file' % image_id, base.ADMIN).body)
        listed = self.request('GET', '/v2/tasks?type=import', base.ADMIN)
        self.assertEqual([task['id']],
                         [t['id'] for t in listed.json['tasks']])

    def test_only_administrators_by_default(self):
        refused = self.create_task(
            task_request(self.server.url('data.raw')), base.ALICE)
        self.assertEqual(403, refused.status_int, refused.text)
        self.assertEqual([], self.request('GET', '/v2/images',
                                          base.ADMIN).json['images'])

    def test_bad_task_is_refused(self):
        good = task_request(self.server.url('data.raw'))
        missing = dict(good, input=dict(good['input']))
        del missing['input']['import_from']
        cases = [
            (dict(good, type='convert'), 400, "'convert' is not one of"),
            (missing, 400, "'import_from' is a required property"),
            (dict(good, input='x'), 400, 'invalid task at input'),
            (task_request(self.server.url('data.raw'), status='active'),
             403, "attribute 'status' is read-only"),
            (task_request('http://127.0.0.1:1/x'), 400, None),
        ]
        for body, status, fragment in cases:
            with self.subTest(body=body):
                response = self.create_task(body)
                self.assertEqual(status, response.status_int, response.text)
                if fragment:
                    self.assertIn(fragment,
                                  response.json['error']['message'])
        # Nothing was left behind by the refusals.
        self.assertEqual([], self.request('GET', '/v2/images',
                                          base.ADMIN).json['images'])

    def test_task_schema_knows_the_import_type(self):
        schema = self.request('GET', '/v2/schemas/task').json
        self.assertIn('import', schema['properties']['type']['enum'])


class UnreachableURLTests(LegacyTaskTestCase):

    def test_task_fails_when_the_url_cannot_be_fetched(self):
        # .invalid never resolves (RFC 2606): accepted, then it fails.
        created = self.create_task(task_request(
            'http://glance-lite-test.invalid/image.qcow2'))
        self.assertEqual(201, created.status_int, created.text)
        ended = self.wait_for_task(created.json['id'])
        self.assertEqual('failure', ended['status'])
        self.assertIn('glance-lite-test.invalid', ended['message'])
        self.assertEqual('queued', self.show(ended['image_id'],
                                             base.ADMIN).json['status'])
