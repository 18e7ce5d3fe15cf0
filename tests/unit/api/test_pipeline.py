"""The API's paste pipeline: routing, errors, identity, middleware."""

import os
import unittest

import webob

from glance_lite.api import app
from glance_lite.api import context as api_context
from glance_lite.api import fault
from glance_lite.common import exception
from tests.unit.api import base
from tests.unit import config


class PipelineTests(base.AppTestCase):

    def request(self, path, **kwargs):
        return webob.Request.blank(path, **kwargs).get_response(self.app)

    def test_version_discovery(self):
        root = self.request('/')
        self.assertEqual(300, root.status_int)
        versions = self.request('/versions')
        self.assertEqual(200, versions.status_int)
        self.assertEqual(root.json, versions.json)
        current = versions.json['versions'][0]
        self.assertEqual(('v2.12', 'CURRENT'),
                         (current['id'], current['status']))
        self.assertEqual([{'rel': 'self', 'href': 'http://localhost/v2/'}],
                         current['links'])
        self.assertEqual(['v2.%d' % minor for minor in range(12, -1, -1)],
                         [v['id'] for v in versions.json['versions']])
        v2_root = self.request('/v2/')
        self.assertEqual((300, root.json), (v2_root.status_int, v2_root.json))

    def test_every_answer_carries_a_request_id(self):
        for path in ('/versions', '/no-such-thing'):
            self.assertTrue(self.request(path).headers[
                'x-openstack-request-id'].startswith('req-'))

    def test_unknown_path_and_method_are_json_errors(self):
        missing = self.request('/no-such-thing')
        self.assertEqual(404, missing.status_int)
        self.assertEqual({'error': {
            'code': 404, 'title': 'Not Found',
            'message': 'No resource at /no-such-thing.'}}, missing.json)
        wrong = self.request('/versions', method='DELETE')
        self.assertEqual(405, wrong.status_int)
        self.assertEqual('GET', wrong.headers['Allow'])
        self.assertIn('DELETE is not allowed on /versions',
                      wrong.json['error']['message'])

    def test_oversized_body_is_refused(self):
        response = self.request('/versions', method='POST',
                                body=b'x' * (1024 * 1024))
        self.assertEqual(413, response.status_int)

    def test_healthcheck(self):
        response = self.request('/healthcheck')
        self.assertEqual((200, b'OK'), (response.status_int, response.body))


class FaultWrapperTests(unittest.TestCase):

    def call(self, error):
        def failing_app(environ, start_response):
            raise error

        request = webob.Request.blank('/thing')
        request.environ['openstack.request_id'] = 'req-42'
        return request.get_response(fault.FaultWrapper(failing_app))

    def test_glance_lite_error_keeps_its_status_and_message(self):
        response = self.call(exception.ImportLockHeld(
            image_id='img', store='fast', task_id='task-1',
            heartbeat_at=None))
        self.assertEqual(409, response.status_int)
        self.assertEqual('Image img is already being imported to store '
                         'fast by task task-1.',
                         response.json['error']['message'])

    def test_bug_is_a_500_naming_the_request_not_the_traceback(self):
        response = self.call(KeyError('secret internals'))
        self.assertEqual(500, response.status_int)
        self.assertIn('req-42', response.json['error']['message'])
        self.assertNotIn('secret', response.text)
        self.assertNotIn('Traceback', response.text)


class ContextTests(unittest.TestCase):

    def context_for(self, **headers):
        request = webob.Request.blank('/', headers=headers)
        return api_context.context_from_headers(request)

    def test_identity_from_headers(self):
        ctx = self.context_for(**{'X-User-Id': 'u1', 'X-Project-Id': 'p1',
                                  'X-Roles': 'member, Reader'})
        self.assertEqual(('u1', 'p1', ['member', 'reader'], False),
                         (ctx.user_id, ctx.project_id, ctx.roles,
                          ctx.is_admin))
        self.assertTrue(self.context_for(**{'X-Roles': 'admin'}).is_admin)


class PasteFileTests(unittest.TestCase):

    def test_missing_absolute_path_is_a_configuration_error(self):
        conf = config.make_conf('[DEFAULT]',
                                'api_paste_config = /nonexistent/paste.ini')
        with self.assertRaises(exception.InvalidConfiguration) as caught:
            app.paste_file(conf)
        self.assertIn('/nonexistent/paste.ini does not exist',
                      str(caught.exception))

    def test_falls_back_to_the_shipped_pipeline(self):
        path = app.paste_file(config.make_conf())
        self.assertEqual('glance-lite-paste.ini', os.path.basename(path))
        self.assertTrue(os.path.isfile(path))
