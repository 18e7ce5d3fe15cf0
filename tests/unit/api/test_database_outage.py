"""Every route answers 503 while the database is down, through the paste app.

The real application runs in-process against a private database server
(tests/private_db.py) that the test SIGKILLs: every request then meets a
real refused connection (PostgreSQL's libpq wording, which oslo.db does
not translate, and MariaDB's 2003), or, for the pool's connections from
before the crash, a real lost one.
"""

import tempfile
import uuid

import webob

from glance_lite.api import app
from glance_lite.api import fault
from glance_lite.api import services
from tests import private_db
from tests.unit import config
from tests.unit.api import base
from tests.unit.db import test_outage
from tests.unit.imports import base as import_base

PATCH = base.PATCH_TYPE


class OutageAnswersMixin:

    def setUp(self):
        super().setUp()
        state = tempfile.TemporaryDirectory()
        self.addCleanup(state.cleanup)
        self.app = app.load_app(config.make_conf(
            *import_base.config_lines(state.name)))
        self.addCleanup(services.stop, 5)
        created = self.request('POST', '/v2/images', json={
            'disk_format': 'raw', 'container_format': 'bare'})
        self.assertEqual(201, created.status_int, created.text)
        self.existing = created.json['id']
        self.server.crash()
        self.addCleanup(self.server.restart)

    def request(self, method, path, json=None, body=None,
                content_type=None):
        request = webob.Request.blank(path, method=method,
                                      headers=base.ADMIN)
        if json is not None:
            request.json_body = json
            request.content_type = content_type or 'application/json'
        elif body is not None:
            request.body = body
            request.content_type = 'application/octet-stream'
        return request.get_response(self.app)

    def test_every_route_answers_503(self):
        image = '/v2/images/%s' % self.existing
        calls = [
            ('GET', '/v2/images', {}),
            ('GET', image, {}),
            ('POST', '/v2/images', {'json': {'disk_format': 'raw'}}),
            ('PATCH', image, {'json': [{'op': 'replace', 'path': '/name',
                                        'value': 'x'}],
                              'content_type': PATCH}),
            ('PUT', image + '/stage', {'body': b'staged data'}),
            ('PUT', image + '/file', {'body': b'uploaded data'}),
            ('POST', image + '/import', {'json': {
                'method': {'name': 'glance-direct'}}}),
            ('GET', image + '/tasks', {}),
            ('GET', '/v2/tasks', {}),
            ('GET', '/v2/tasks/%s' % uuid.uuid4(), {}),
            ('DELETE', image, {}),
        ]
        for method, path, kwargs in calls:
            with self.subTest(method=method, path=path):
                response = self.request(method, path, **kwargs)
                self.assertEqual(503, response.status_int, response.text)
                self.assertEqual(str(fault.DATABASE_RETRY_AFTER),
                                 response.headers['Retry-After'])
                self.assertEqual(
                    {'code': 503, 'title': 'Service Unavailable',
                     'message': fault.DATABASE_UNAVAILABLE_MESSAGE},
                    response.json['error'])

    def test_nothing_changed_once_the_database_is_back(self):
        image = '/v2/images/%s' % self.existing
        for method, path, body in [('PUT', image + '/stage', b'data'),
                                   ('PUT', image + '/file', b'data'),
                                   ('DELETE', image, None)]:
            self.assertEqual(503, self.request(method, path,
                                               body=body).status_int)
        self.server.restart()
        shown = self.request('GET', image)
        self.assertEqual(200, shown.status_int, shown.text)
        self.assertEqual('queued', shown.json['status'])


class PostgreSQLOutageAnswersTests(OutageAnswersMixin,
                                   test_outage.PrivateServerTestCase):
    SERVER = private_db.PrivatePostgreSQL


class MariaDBOutageAnswersTests(OutageAnswersMixin,
                                test_outage.PrivateServerTestCase):
    SERVER = private_db.PrivateMariaDB
