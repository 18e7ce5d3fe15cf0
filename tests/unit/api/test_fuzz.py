"""Fuzzing the API, in-process, from its published OpenAPI document.

Two kinds of test, both through the real paste application on SQLite:

- schemathesis sends, for every operation of /openapi.json, the
  boundary values of its parameters and bodies (its coverage phase)
  and then generated requests, valid ones and (negative mode) invalid
  ones, as a project member and as an administrator. No answer may be
  5xx, and each must have a status, media type and body that the
  document lists for its operation. Three path parameters in four are
  swapped for the ids of real images, members, stores and tasks, so
  that requests get past the 404s;
- Hypothesis throws arbitrary bodies (any JSON value, bytes that are
  not JSON or not UTF-8, huge numbers, NUL characters, lone
  surrogates, deep nesting) at the calls that parse one: creating,
  patching and importing an image. None may be 5xx, a refusal must be
  a JSON error with a message, and a refused request must leave every
  image exactly as it was.

Both are bounded and derandomized, so CI runs the same examples every
time, in about twenty seconds on two cores. Set GLANCE_LITE_FUZZ_EXAMPLES
to run that many generated examples per test instead, drawn afresh
each run.
"""

import json
import os
import zlib

import hypothesis
from hypothesis import strategies as st
import pytest
import schemathesis
from schemathesis import checks as schemathesis_checks
from schemathesis.specs.openapi import checks as openapi_checks

from glance_lite.api import openapi
from glance_lite.api.v2 import patch
from glance_lite.api.v2 import schemas
from glance_lite.api import wsgi
from glance_lite.imports import flow
from tests.unit.api import base

EXAMPLES = int(os.environ.get('GLANCE_LITE_FUZZ_EXAMPLES', '0'))

# The JSON-patch media types are JSON on the wire.
schemathesis.serializer.alias(list(patch.MEDIA_TYPES), 'application/json')

CHECKS = [schemathesis_checks.not_a_server_error,
          openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance,
          openapi_checks.response_schema_conformance]


def fuzz_settings(examples):
    return hypothesis.settings(
        max_examples=EXAMPLES or examples, deadline=None,
        derandomize=not EXAMPLES, database=None, print_blob=False,
        suppress_health_check=list(hypothesis.HealthCheck))


class FuzzTestCase(base.APITestCase):

    def extra_config(self):
        # web-download may fetch only from a closed local port: no URL
        # a fuzzer makes up ever reaches the network.
        return ('[import_filtering_opts]', 'allowed_hosts = 127.0.0.1',
                'allowed_ports = 9')

    def assert_no_server_error(self, response, what):
        self.assertLess(response.status_int, 500,
                        '%s: %s' % (what, response.text))

    def assert_json_error(self, response, what):
        self.assertEqual('application/json', response.content_type, what)
        self.assertTrue(response.json['error']['message'], what)

    def everything(self):
        """Every image as an administrator sees it, by id."""
        images = self.request('GET', '/v2/images?limit=1000&'
                              'visibility=all&os_hidden=false',
                              base.ADMIN).json['images']
        hidden = self.request('GET', '/v2/images?limit=1000&'
                              'visibility=all&os_hidden=true',
                              base.ADMIN).json['images']
        return {image['id']: image for image in images + hidden}

    def wait_until_settled(self, image_id):
        """Let an accepted import finish before the next example."""
        self.wait_for_image(image_id, lambda image: (
            not image.get('os_glance_importing_to_stores')
            and image['status'] not in ('importing', 'saving')),
            base.ADMIN)


class FuzzFixtures(FuzzTestCase):
    """The application, its database and images worth aiming at.

    One per module: the operation tests share it, as clients share a
    service. Images deleted by a test are made again for the next one.
    """

    __test__ = False

    def runTest(self):
        """unittest wants one; only setUp and the cleanups are used."""

    def setUp(self):
        super().setUp()
        self.images = {}
        self.tasks = []

    def forget(self, image_id):
        """Image ``image_id`` was deleted: make another one when needed."""
        self.images = {name: known for name, known in self.images.items()
                       if known != image_id}

    def known_values(self):
        """Real path parameters, by name."""
        if 'queued' not in self.images:
            self.images['queued'] = self.create_image()['id']
        if 'shared' not in self.images:
            image = self.create_image(visibility='shared')
            self.request('POST', '/v2/images/%s/members' % image['id'],
                         json={'member': base.BOB['X-Project-Id']})
            self.images['shared'] = image['id']
        if 'active' not in self.images:
            # Protected, since making another one takes an import.
            image = self.active_image(b'fuzz' * 1000)
            self.request('PATCH', '/v2/images/%s' % image['id'], json=[
                {'op': 'replace', 'path': '/protected', 'value': True}],
                content_type=base.PATCH_TYPE)
            self.images['active'] = image['id']
            self.tasks = [task['id'] for task in self.request(
                'GET', '/v2/images/%s/tasks' % image['id']).json['tasks']]
        return {
            'image_id': sorted(self.images.values()),
            'member': [base.ALICE['X-Project-Id'],
                       base.BOB['X-Project-Id']],
            'store_id': sorted(self.stores.enabled_stores),
            'task_id': self.tasks,
        }


@pytest.fixture(scope='module')
def api():
    fixtures = FuzzFixtures()
    fixtures.setUp()
    yield fixtures
    fixtures.doCleanups()


def _aim(case, known):
    """Point three cases in four at real images, members and stores.

    Generated ids are almost never found, so the request would stop at
    a 404. Which cases are aimed is decided by their content, not by
    chance, so that runs stay reproducible.
    """
    seed = zlib.crc32(repr((case.operation.label, case.path_parameters,
                            case.query, case.body)).encode())
    if seed % 4 == 0:
        return
    for name in case.path_parameters or {}:
        if known.get(name):
            case.path_parameters[name] = known[name][
                (seed // 4) % len(known[name])]


# From the document /openapi.json serves (test_openapi checks they are
# the same), so that pytest can make one test per operation.
SCHEMA = schemathesis.openapi.from_dict(openapi.document())


@pytest.mark.parametrize('caller', [base.ALICE, base.ADMIN],
                         ids=['member', 'admin'])
@SCHEMA.parametrize()
@fuzz_settings(10)
def test_operation(case, api, caller):
    """Boundary values of every parameter and body (schemathesis'
    coverage phase), then generated requests, valid and invalid."""
    _aim(case, api.known_values())
    case.headers = dict(case.headers or {}, **caller)
    response = case.call(app=api.app)
    case.validate_response(response, checks=CHECKS)
    if response.status_code == 202:
        api.wait_until_settled(case.path_parameters['image_id'])
    elif response.status_code == 201 and case.operation.label == (
            'POST /v2/images'):
        # Keep the database small: listing stays fast.
        api.request('DELETE', '/v2/images/%s' % response.json()['id'],
                    base.ADMIN)
    elif response.status_code == 204 and case.operation.label == (
            'DELETE /v2/images/{image_id}'):
        api.forget(case.path_parameters['image_id'])


# Text with everything JSON can carry: NUL characters, lone surrogates.
_TEXT = st.text(st.characters(exclude_categories=()), max_size=20)
_FIELDS = sorted(schemas.image_schema()['properties']) + [
    'os_glance_importing_to_stores', 'locations', 'deleted', 'color', '']
_NAMES = st.sampled_from(_FIELDS) | _TEXT
_NUMBERS = (st.integers() | st.floats()
            | st.sampled_from([2 ** 31, 2 ** 63, 2 ** 64, -2 ** 63, 10 ** 300,
                               1e308, -0.0]))
_SCALARS = (st.none() | st.booleans() | _NUMBERS | _TEXT
            | st.sampled_from(schemas.DISK_FORMATS + ['active', 'public']))
_JSON = st.recursive(
    _SCALARS,
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(_NAMES, children, max_size=4)),
    max_leaves=12)


def _encoded(value, ensure_ascii):
    """``value`` as JSON bytes; lone surrogates become invalid UTF-8."""
    return json.dumps(value, ensure_ascii=ensure_ascii).encode(
        'utf-8', 'surrogatepass')


def _bodies(shaped):
    """Bodies as bytes: ``shaped`` JSON values, and everything else."""
    values = shaped | _JSON
    return st.one_of(
        st.builds(_encoded, values, st.booleans()),
        st.binary(max_size=64),
        # Nested deeper than any parser should recurse, within the
        # size limit.
        st.integers(1, 50000).map(lambda n: b'[' * n + b']' * n),
        st.integers(1, 12000).map(
            lambda n: b'{"name":' * n + b'1' + b'}' * n),
        # More digits than Python turns into an int.
        st.integers(4000, 20000).map(
            lambda n: b'{"min_ram": 1' + b'0' * n + b'}'),
        st.sampled_from([b'', b'null', b'NaN', b'"x"', b'[]', b'{}',
                         b'{"a": 1e999}', b'{"a": -Infinity}',
                         b'\xef\xbb\xbf{}', b'{"a": "\xff"}',
                         b'{"a": "\\u0000"}', b'{"\\ud800": 1}']),
    )


_CREATE = st.dictionaries(_NAMES, _JSON, max_size=5)
_PATCH = st.lists(st.fixed_dictionaries(
    {'op': st.sampled_from(list(patch.OPERATIONS)) | _TEXT,
     'path': st.sampled_from(['/' + name for name in _FIELDS])
     | _TEXT.map(lambda text: '/' + text) | _TEXT},
    optional={'value': _JSON}), max_size=4)
_IMPORT = st.fixed_dictionaries(
    {'method': st.fixed_dictionaries(
        {'name': st.sampled_from(list(flow.METHODS)) | _TEXT},
        optional={'uri': st.sampled_from(['http://127.0.0.1:9/image',
                                          'http://[::1', 'file:///etc'])
                  | _TEXT | _JSON}) | _JSON},
    optional={'stores': st.lists(st.sampled_from(['fast', 'slow', 'nope'])
                                 | _TEXT, max_size=3) | _JSON,
              'all_stores': st.booleans() | _JSON,
              'all_stores_must_succeed': st.booleans() | _JSON})
_MEDIA_TYPES = ['application/json', patch.MEDIA_TYPES[0], 'text/plain',
                wsgi.OCTET_STREAM, 'application/json; charset=latin-1']


class BodyFuzzTests(FuzzTestCase):
    """Arbitrary bodies for the calls that parse JSON."""

    def setUp(self):
        super().setUp()
        self.queued = self.create_image(
            name='queued', min_ram=64, color='blue', tags=['a', 'b'])['id']
        self.active = self.active_image(b'active' * 100)['id']

    def _send(self, data, method, path, body, media_type, snapshot):
        """Send ``body``; a refusal must leave ``snapshot()`` as it was."""
        if data.draw(st.integers(0, 9), label='other media type') == 0:
            media_type = data.draw(st.sampled_from(_MEDIA_TYPES),
                                   label='media type')
        headers = data.draw(st.sampled_from([base.ALICE, base.ADMIN]),
                            label='caller')
        before = snapshot()
        response = self.request(method, path, headers, body=body,
                                content_type=media_type)
        what = '%s %s %r' % (method, path, body[:200])
        self.assert_no_server_error(response, what)
        if response.status_int >= 400:
            self.assert_json_error(response, what)
            self.assertEqual(before, snapshot(), what)
        else:
            # What was accepted can be stored on every database backend.
            self.assertNotIn('\\u0000', response.text, what)
        return response

    def _image(self, image_id):
        return lambda: self.show(image_id, base.ADMIN).json

    @fuzz_settings(150)
    @hypothesis.given(data=st.data())
    def test_create(self, data):
        response = self._send(
            data, 'POST', '/v2/images',
            data.draw(_bodies(_CREATE), label='body'), 'application/json',
            lambda: sorted(self.everything()))
        if response.status_int == 201:
            # Keep the database small: listing stays fast.
            self.request('DELETE', response.location, base.ADMIN)

    @fuzz_settings(150)
    @hypothesis.given(data=st.data())
    def test_patch(self, data):
        image_id = data.draw(st.sampled_from([self.queued, self.active]),
                             label='image')
        self._send(data, 'PATCH', '/v2/images/%s' % image_id,
                   data.draw(_bodies(_PATCH), label='body'),
                   base.PATCH_TYPE, self._image(image_id))

    @fuzz_settings(150)
    @hypothesis.given(data=st.data())
    def test_import(self, data):
        image_id = data.draw(st.sampled_from([self.queued, self.active]),
                             label='image')
        response = self._send(
            data, 'POST', '/v2/images/%s/import' % image_id,
            data.draw(_bodies(_IMPORT), label='body'), 'application/json',
            self._image(image_id))
        if response.status_int == 202:
            self.wait_until_settled(image_id)
