"""Who the API believes the caller is, under each auth_strategy."""

import pathlib
import unittest

import fixtures
from keystoneauth1 import loading
from oslo_config import fixture as config_fixture
import webob
import webob.dec

from glance_lite.api import app
from glance_lite.api import context as api_context
from glance_lite.api import services
from glance_lite import conf as glance_conf
from tests.unit import config

# Nothing listens on port 1: every call to this "Identity service" fails.
UNREACHABLE_IDENTITY = 'http://127.0.0.1:1/identity'

CONFIRMED = {'X-Identity-Status': 'Confirmed', 'X-User-Id': 'u1',
             'X-Project-Id': 'p1', 'X-Roles': 'Member,Reader'}


class Recorder:
    """The application behind the middleware: keeps the contexts it sees."""

    def __init__(self):
        self.contexts = []

    @webob.dec.wsgify
    def __call__(self, request):
        self.contexts.append(request.environ[api_context.ENVIRON_KEY])
        return webob.Response(status=204)


class MiddlewareTestCase(unittest.TestCase):

    config_lines = ()

    def setUp(self):
        self.recorder = Recorder()
        conf = config.make_conf(*self.config_lines)
        self.middleware = api_context.middleware_for(conf)(self.recorder)

    def call(self, **headers):
        request = webob.Request.blank('/', headers=headers)
        request.environ['openstack.request_id'] = 'req-7'
        return request.get_response(self.middleware)

    def context_for(self, **headers):
        self.assertEqual(204, self.call(**headers).status_int)
        return self.recorder.contexts[-1]


class NoAuthTests(MiddlewareTestCase):

    def test_identity_headers_are_believed(self):
        ctx = self.context_for(**{'X-User-Id': 'u1', 'X-Project-Id': 'p1',
                                  'X-Roles': 'Member, Reader'})
        self.assertEqual(('u1', 'p1', ['member', 'reader'], False, 'req-7'),
                         (ctx.user_id, ctx.project_id, ctx.roles,
                          ctx.is_admin, ctx.request_id))

    def test_admin_role_makes_an_admin_in_any_case(self):
        ctx = self.context_for(**{'X-Project-Id': 'p1', 'X-Roles': 'ADMIN'})
        self.assertEqual((['admin'], True), (ctx.roles, ctx.is_admin))

    def test_request_without_identity_acts_as_default_admin(self):
        ctx = self.context_for()
        self.assertEqual(('admin', 'admin', ['admin'], True),
                         (ctx.user_id, ctx.project_id, ctx.roles,
                          ctx.is_admin))

    def test_any_identity_header_disables_the_default(self):
        ctx = self.context_for(**{'X-Roles': 'reader'})
        self.assertEqual((None, None, False),
                         (ctx.user_id, ctx.project_id, ctx.is_admin))


class ConfiguredNoAuthTests(MiddlewareTestCase):

    config_lines = ('[noauth]', 'project_id = ops', 'user_id = operator')

    def test_request_without_identity_acts_as_configured_user(self):
        ctx = self.context_for()
        self.assertEqual(('operator', 'ops', True),
                         (ctx.user_id, ctx.project_id, ctx.is_admin))


class KeystoneMiddlewareTests(MiddlewareTestCase):
    """The context middleware alone, as if auth_token ran before it."""

    config_lines = ('[DEFAULT]', 'auth_strategy = keystone')

    def test_confirmed_identity_is_taken(self):
        ctx = self.context_for(**CONFIRMED)
        self.assertEqual(('u1', 'p1', ['member', 'reader'], False),
                         (ctx.user_id, ctx.project_id, ctx.roles,
                          ctx.is_admin))

    def test_unconfirmed_requests_are_refused(self):
        for status in (None, 'Invalid', 'confirmed'):
            headers = dict(CONFIRMED, **{'X-Roles': 'admin'})
            if status is None:
                del headers['X-Identity-Status']
            else:
                headers['X-Identity-Status'] = status
            with self.subTest(status=status):
                response = self.call(**headers)
                self.assertEqual(401, response.status_int)
                self.assertEqual(401, response.json['error']['code'])
        self.assertEqual([], self.recorder.contexts)

    def test_no_identity_is_refused_not_defaulted(self):
        self.assertEqual(401, self.call().status_int)
        self.assertEqual([], self.recorder.contexts)


class KeystonePipelineTests(fixtures.TestWithFixtures, unittest.TestCase):
    """The shipped keystone pipeline, with auth_token and no Keystone.

    auth_token and the context middleware read the global CONF, as in
    the service, so it is parsed here from a file: auth_token registers
    its auth plugin's options only when it is built, too late for
    overrides.
    """

    def load(self, delay_auth_decision):
        directory = pathlib.Path(self.useFixture(fixtures.TempDir()).path)
        conf_file = directory / 'glance-lite.conf'
        conf_file.write_text('\n'.join([
            '[DEFAULT]',
            'auth_strategy = keystone',
            'state_path = %s' % directory,
            '[keystone_authtoken]',
            'www_authenticate_uri = %s' % UNREACHABLE_IDENTITY,
            'auth_type = password',
            'auth_url = %s' % UNREACHABLE_IDENTITY,
            'username = glance-lite',
            'password = secret',
            'project_name = service',
            'user_domain_id = default',
            'project_domain_id = default',
            'http_request_max_retries = 0',
            'delay_auth_decision = %s' % delay_auth_decision,
        ]) + '\n')
        # auth_token registers the plugin's options (auth_url is
        # required) on the global CONF; later parses must not need them.
        # Runs after the fixture has reset CONF, as unregistering needs.
        self.addCleanup(glance_conf.CONF.unregister_opts,
                        loading.get_auth_plugin_conf_options('password'),
                        group='keystone_authtoken')
        self.useFixture(config_fixture.Config(glance_conf.CONF))
        glance_conf.CONF(['--config-file', str(conf_file)],
                         project='glance-lite', default_config_dirs=[])
        application = app.load_app(glance_conf.CONF)
        self.addCleanup(services.stop, 30)
        return application

    def request(self, application, path='/v2/images', **headers):
        return webob.Request.blank(path, headers=headers).get_response(
            application)

    def test_request_without_token_is_refused(self):
        application = self.load(delay_auth_decision=False)
        for headers in ({}, CONFIRMED):  # forged identity headers too
            with self.subTest(headers=headers):
                response = self.request(application, **headers)
                self.assertEqual(401, response.status_int)
                self.assertIn(UNREACHABLE_IDENTITY,
                              response.headers['WWW-Authenticate'])

    def test_token_that_cannot_be_checked_is_not_accepted(self):
        application = self.load(delay_auth_decision=False)
        response = self.request(application, **{'X-Auth-Token': 'forged'})
        self.assertEqual(503, response.status_int)

    def test_delayed_decision_still_ends_in_401(self):
        # auth_token passes unauthenticated requests on; the context
        # middleware refuses them rather than falling back to an admin.
        application = self.load(delay_auth_decision=True)
        for headers in ({}, CONFIRMED, {'X-Auth-Token': 'forged'}):
            with self.subTest(headers=headers):
                response = self.request(application, **headers)
                self.assertEqual(401, response.status_int)
                self.assertEqual(401, response.json['error']['code'])

    def test_version_discovery_needs_no_token(self):
        application = self.load(delay_auth_decision=False)
        for path, status in (('/', 300), ('/versions', 200)):
            with self.subTest(path=path):
                response = self.request(application, path)
                self.assertEqual(status, response.status_int)
                self.assertEqual('v2.12',
                                 response.json['versions'][0]['id'])
        # Only those exact paths: the v2 root and the API need a token.
        for path in ('/v2/', '/versions/', '/v2/images'):
            with self.subTest(path=path):
                self.assertEqual(401,
                                 self.request(application, path).status_int)

    def test_healthcheck_needs_no_token(self):
        application = self.load(delay_auth_decision=False)
        response = self.request(application, '/healthcheck')
        self.assertEqual(200, response.status_int)
