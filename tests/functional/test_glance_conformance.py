"""What Glance's clients and Tempest expect, on a real server.

Version discovery, the v2.0 JSON-patch form Tempest sends, the saving
status of an upload in progress, exact-size listing, deactivation and
the legacy task API, each through HTTP as those clients speak it.
"""

import http.client
import io
import json
import os
import urllib.parse

import glanceclient.exc

from tests.functional import base
from tests.unit.db import base as db_base

V2_0_PATCH = 'application/openstack-images-v2.0-json-patch'
MEMBER = base.identity('conformance-member', roles='member')


class GlanceConformanceTests(base.ServerTestCase):

    FIXTURE = db_base.EmptySQLiteFixture

    def send(self, method, path, body=None, content_type=None,
             headers=base.ADMIN):
        """(status, parsed JSON or None) of a request with a raw body."""
        connection = http.client.HTTPConnection(
            '127.0.0.1', self.server.port, timeout=60)
        self.addCleanup(connection.close)
        headers = dict(headers)
        if content_type:
            headers['Content-Type'] = content_type
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw

    def new_image(self, **fields):
        return self.glance().images.create(
            disk_format='raw', container_format='bare', **fields)

    def test_version_discovery(self):
        for path, status in (('/', 300), ('/versions', 200), ('/v2/', 300)):
            with self.subTest(path=path):
                answered, body = self.send('GET', path, headers={})
                self.assertEqual(status, answered)
                ids = [version['id'] for version in body['versions']]
                self.assertEqual(('v2.12', 'v2.0'), (ids[0], ids[-1]))
                self.assertEqual('%s/v2/' % self.url,
                                 body['versions'][0]['links'][0]['href'])

    def test_v2_0_json_patch_as_tempest_sends_it(self):
        image = self.new_image(name='before')
        path = '/v2/images/%s' % image.id
        status, body = self.send('PATCH', path, json.dumps([
            {'replace': '/name', 'value': 'after'},
            {'add': '/flavour', 'value': 'mint'}]).encode(), V2_0_PATCH)
        self.assertEqual(200, status, body)
        self.assertEqual(('after', 'mint'), (body['name'], body['flavour']))
        status, body = self.send('PATCH', path, json.dumps([
            {'remove': '/flavour'}]).encode(), V2_0_PATCH)
        self.assertEqual(200, status, body)
        self.assertNotIn('flavour', body)
        status, body = self.send('PATCH', path, json.dumps([
            {'add': '/os_glance_anything', 'value': 'x'}]).encode(),
            V2_0_PATCH)
        self.assertEqual(403, status, body)

    def test_upload_in_progress_is_saving(self):
        image = self.new_image()
        data = os.urandom(2 ** 20)
        connection = http.client.HTTPConnection(
            '127.0.0.1', self.server.port, timeout=60)
        self.addCleanup(connection.close)
        connection.putrequest('PUT', '/v2/images/%s/file' % image.id)
        for name, value in dict(
                base.ADMIN, **{'Content-Type': 'application/octet-stream',
                               'Content-Length': str(len(data))}).items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.send(data[:4096])
        self.wait_for_image(image.id,
                            lambda shown: shown['status'] == 'saving',
                            'to be saving')
        # A second upload meanwhile is refused in upload terms.
        status, body = self.send('PUT', '/v2/images/%s/file' % image.id,
                                 b'other', 'application/octet-stream')
        self.assertEqual(409, status, body)
        message = body['error']['message']
        self.assertIn('while it is saving', message)
        self.assertNotIn('import', message)
        self.assertNotIn('stag', message)

        connection.send(data[4096:])
        self.assertEqual(204, connection.getresponse().status)
        self.assertEqual('active', self.image(image.id)['status'])
        self.assertEqual(data, b''.join(self.glance().images.data(image.id)))

    def test_list_by_exact_size(self):
        tag = base.unique('size')
        sizes = {}
        for size in (1000, 1001, 3000):
            image = self.new_image(tags=[tag])
            self.glance().images.upload(image.id, io.BytesIO(b's' * size))
            sizes[image.id] = size

        def listed(**query):
            # As Tempest lists: the parameters in the query string.
            status, body = self.send('GET', '/v2/images?' + urllib.parse
                                     .urlencode(dict(query, tag=tag)))
            self.assertEqual(200, status, body)
            return {image['id']: image['size'] for image in body['images']}

        self.assertEqual([1001], list(listed(size=1001).values()))
        self.assertEqual({1000, 1001},
                         set(listed(size_min=500, size_max=2000).values()))
        self.assertEqual({}, listed(size=1002))
        self.assertEqual(sizes, listed())

    def test_deactivate_and_reactivate(self):
        project = base.unique('owner')
        owner = base.identity(project, roles='member')
        image = self.glance(owner).images.create(
            disk_format='raw', container_format='bare')
        self.glance(owner).images.upload(image.id, io.BytesIO(b'd' * 100))
        # Another project's member may not; the owner may, as in Glance.
        stranger = base.identity(base.unique('stranger'), roles='member')
        self.glance().images.update(image.id, visibility='public')
        with self.assertRaises(glanceclient.exc.HTTPForbidden):
            self.glance(stranger).images.deactivate(image.id)
        self.glance(owner).images.deactivate(image.id)
        self.assertEqual('deactivated', self.image(image.id)['status'])
        # Deactivated, only administrators may download it.
        status, _body = self.send('GET', '/v2/images/%s/file' % image.id,
                                  headers=owner)
        self.assertEqual(403, status)
        self.assertEqual(b'd' * 100,
                         b''.join(self.glance().images.data(image.id)))
        with self.assertRaises(glanceclient.exc.HTTPForbidden):
            self.glance(stranger).images.reactivate(image.id)
        self.glance(owner).images.reactivate(image.id)
        self.assertEqual(b'd' * 100,
                         b''.join(self.glance(owner).images.data(image.id)))
        # Only active <-> deactivated.
        queued = self.new_image()
        status, body = self.send(
            'POST', '/v2/images/%s/actions/deactivate' % queued.id)
        self.assertEqual(403, status, body)

    def test_image_task_names_the_request_and_user_that_started_it(self):
        image = self.new_image()
        status, _body = self.send(
            'PUT', '/v2/images/%s/stage' % image.id, b's' * 100,
            'application/octet-stream')
        self.assertEqual(204, status)
        connection = http.client.HTTPConnection(
            '127.0.0.1', self.server.port, timeout=60)
        self.addCleanup(connection.close)
        connection.request('POST', '/v2/images/%s/import' % image.id,
                           body=json.dumps({'method': {
                               'name': 'glance-direct'}}),
                           headers=dict(base.ADMIN, **{
                               'Content-Type': 'application/json'}))
        response = connection.getresponse()
        response.read()
        self.assertEqual(202, response.status)
        [task] = self.wait_for_tasks_to_end(image.id)
        self.assertEqual(
            ('success', response.getheader('x-openstack-request-id'),
             base.ADMIN['X-User-Id'], {'name': 'glance-direct'}),
            (task['status'], task['request_id'], task['user_id'],
             task['input']['import_req']['method']))

    def test_legacy_import_task_of_an_unreachable_url_fails(self):
        request = {'type': 'import', 'input': {
            'import_from': 'http://glance-lite-dummy.invalid/img.qcow2',
            'import_from_format': 'qcow2',
            'image_properties': {'name': base.unique('task-image'),
                                 'disk_format': 'qcow2',
                                 'container_format': 'bare'}}}
        status, task = self.send('POST', '/v2/tasks',
                                 json.dumps(request).encode(),
                                 'application/json')
        self.assertEqual(201, status, task)
        self.assertEqual(('import', 'pending'),
                         (task['type'], task['status']))

        def ended():
            shown = self.send('GET', '/v2/tasks/%s' % task['id'])[1]
            return shown if shown['status'] in ('success',
                                                'failure') else None

        ended = self.wait_for('the task to end', ended)
        self.assertEqual('failure', ended['status'])
        self.assertIn('glance-lite-dummy.invalid', ended['message'])
        status, listed = self.send('GET', '/v2/tasks?type=import')
        self.assertIn(task['id'], [t['id'] for t in listed['tasks']])
        for name in ('task', 'tasks'):
            self.assertEqual(200, self.send('GET', '/v2/schemas/' + name)[0])
        status, body = self.send('POST', '/v2/tasks',
                                 json.dumps(request).encode(),
                                 'application/json', headers=MEMBER)
        self.assertEqual(403, status, body)
