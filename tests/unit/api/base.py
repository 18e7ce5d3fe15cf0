"""API tests: the real paste application, real database, real stores.

Requests go through the whole pipeline in-process (webob), so routing,
middleware, policy, the import pipeline and the stores all take part;
only the HTTP server is missing (the functional tests add it).
"""

import hashlib
import tempfile
import time
import unittest

import webob

from glance_lite.api import app
from glance_lite.api import services
from tests.unit import config
from tests.unit.db import base as db_base
from tests.unit.imports import base as import_base

ADMIN = {'X-Project-Id': 'admin-project', 'X-User-Id': 'admin',
         'X-Roles': 'admin,member'}
ALICE = {'X-Project-Id': 'alice-project', 'X-User-Id': 'alice',
         'X-Roles': 'member,reader'}
BOB = {'X-Project-Id': 'bob-project', 'X-User-Id': 'bob',
       'X-Roles': 'member,reader'}
PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'
TERMINAL = ('success', 'failure')


class AppTestCase(unittest.TestCase):
    """The real application, for requests that need no database.

    One app per class, its stores under a scratch state directory.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        state = tempfile.TemporaryDirectory()
        cls.addClassCleanup(state.cleanup)
        cls.app = app.load_app(config.make_conf(
            '[DEFAULT]', 'state_path = %s' % state.name))
        cls.addClassCleanup(services.stop, 5)


class APITestCase(db_base.DbTestCase):

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.conf = config.make_conf(
            *import_base.config_lines(tmp.name), *self.extra_config())
        self.app = app.load_app(self.conf)
        self.addCleanup(services.stop, 30)
        self.stores = services.current().stores

    def extra_config(self):
        return ()

    def request(self, method, path, headers=ALICE, json=None, body=None,
                content_type=None):
        request = webob.Request.blank(path, method=method,
                                      headers=dict(headers))
        if json is not None:
            request.json_body = json
            request.content_type = content_type or 'application/json'
        elif body is not None:
            request.body = body
            request.content_type = content_type or 'application/octet-stream'
        return request.get_response(self.app)

    def create_image(self, headers=ALICE, **fields):
        fields.setdefault('disk_format', 'raw')
        fields.setdefault('container_format', 'bare')
        response = self.request('POST', '/v2/images', headers, json=fields)
        self.assertEqual(201, response.status_int, response.text)
        return response.json

    def show(self, image_id, headers=ALICE):
        return self.request('GET', '/v2/images/%s' % image_id, headers)

    def wait_for_image(self, image_id, condition, headers=ALICE,
                       timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            image = self.show(image_id, headers).json
            if condition(image):
                return image
            time.sleep(0.05)
        self.fail('image %s did not reach the expected state: %s' % (
            image_id, image))

    def import_(self, image_id, method, headers=ALICE, **body):
        body['method'] = {'name': method}
        return self.request('POST', '/v2/images/%s/import' % image_id,
                            headers, json=body)

    def active_image(self, data, headers=ALICE, stores=('fast',)):
        image = self.create_image(headers)
        staged = self.request('PUT', '/v2/images/%s/stage' % image['id'],
                              headers, body=data)
        self.assertEqual(204, staged.status_int, staged.text)
        accepted = self.import_(image['id'], 'glance-direct', headers,
                                stores=list(stores))
        self.assertEqual(202, accepted.status_int, accepted.text)
        return self.wait_for_image(image['id'],
                                   lambda i: i['status'] == 'active', headers)

    @staticmethod
    def digests(data):
        return (hashlib.md5(data, usedforsecurity=False).hexdigest(),
                hashlib.sha512(data).hexdigest())
