"""Requests the API must refuse, through the real pipeline.

Each gets its 4xx with a JSON error whose message names the problem,
and leaves the data as it was.
"""

import contextlib
import io
import json

import webob

from tests.unit.api import base

JSON = 'application/json'
OCTETS = 'application/octet-stream'


class BadInputTestCase(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.image = self.create_image(name='kept', min_ram=64,
                                       color='blue', tags=['a'])
        self.path = '/v2/images/%s' % self.image['id']

    def assert_error(self, response, status, *fragments):
        """``response`` is a JSON error ``status`` naming ``fragments``."""
        self.assertEqual(status, response.status_int, response.text)
        self.assertEqual('application/json', response.content_type)
        message = response.json['error']['message']
        for fragment in fragments:
            self.assertIn(fragment, message)

    def everything(self):
        return self.request('GET', '/v2/images?visibility=all',
                            base.ADMIN).json['images']

    @contextlib.contextmanager
    def unchanged(self, but=()):
        """Every image, as an administrator sees it, stays as it was.

        ``but`` names fields that may change (a failed upload went
        through ``saving`` and back, which moves ``updated_at``).
        """
        def seen():
            return [{name: value for name, value in image.items()
                     if name not in but} for image in self.everything()]
        before = seen()
        yield
        self.assertEqual(before, seen())

    def patch(self, operations, image_id=None, headers=base.ALICE,
              content_type=base.PATCH_TYPE):
        return self.request(
            'PATCH', '/v2/images/%s' % (image_id or self.image['id']),
            headers, body=json.dumps(operations).encode(),
            content_type=content_type)

    def post_raw(self, path, body, content_type='application/json',
                 headers=base.ALICE):
        return self.request('POST', path, headers, body=body,
                            content_type=content_type)


class BodyTests(BadInputTestCase):

    def test_malformed_json(self):
        for path, content_type in (
                ('/v2/images', 'application/json'),
                (self.path, base.PATCH_TYPE),
                (self.path + '/import', 'application/json'),
                (self.path + '/members', 'application/json')):
            method = 'PATCH' if content_type == base.PATCH_TYPE else 'POST'
            with self.subTest(path=path), self.unchanged():
                response = self.request(method, path, body=b'{"name": ',
                                        content_type=content_type)
                self.assert_error(response, 400, 'not valid JSON')

    def test_body_not_utf8(self):
        with self.unchanged():
            self.assert_error(
                self.post_raw('/v2/images', b'{"name": "\xff"}'), 400,
                'not valid JSON')

    def test_array_or_string_instead_of_object(self):
        for body in (b'[]', b'["name"]', b'"image"', b'42', b'null'):
            with self.subTest(body=body), self.unchanged():
                self.assert_error(self.post_raw('/v2/images', body), 400,
                                  'must be a JSON object')
                self.assert_error(
                    self.post_raw(self.path + '/import', body), 400,
                    'must be a JSON object')

    def test_patch_that_is_not_a_list(self):
        with self.unchanged():
            self.assert_error(self.patch({'op': 'add', 'path': '/name',
                                          'value': 'x'}),
                              400, 'must be a JSON array')
            self.assert_error(self.patch(['add']), 400,
                              'each patch operation must be a JSON object')

    def test_unknown_content_type_on_create(self):
        for content_type in ('text/plain', 'application/xml',
                             base.PATCH_TYPE, 'application/octet-stream'):
            with self.subTest(content_type), self.unchanged():
                response = self.post_raw('/v2/images', b'{"name": "x"}',
                                         content_type=content_type)
                self.assert_error(response, 415, content_type,
                                  'application/json')

    def test_missing_content_type_on_create(self):
        request = webob.Request.blank('/v2/images', method='POST',
                                      headers=base.ALICE,
                                      body=b'{"name": "x"}')
        del request.content_type
        with self.unchanged():
            self.assert_error(request.get_response(self.app), 415,
                              'Content type (none) is not supported')

    def test_patch_needs_the_json_patch_type(self):
        operations = [{'op': 'replace', 'path': '/name', 'value': 'new'}]
        for content_type in ('application/json', 'text/plain'):
            with self.subTest(content_type), self.unchanged():
                self.assert_error(
                    self.patch(operations, content_type=content_type),
                    415, content_type, base.PATCH_TYPE)
        for content_type, operation in (
                ('application/openstack-images-v2.1-json-patch',
                 operations[0]),
                ('application/openstack-images-v2.0-json-patch',
                 {'replace': '/name', 'value': 'new'})):
            response = self.patch([operation], content_type=content_type)
            self.assertEqual(200, response.status_int, response.text)

    def test_patch_form_of_the_other_media_type(self):
        cases = [
            ('application/openstack-images-v2.0-json-patch',
             {'op': 'replace', 'path': '/name', 'value': 'new'},
             'must have exactly one member named one of add, replace, '
             'remove'),
            ('application/openstack-images-v2.0-json-patch',
             {'add': '/name', 'replace': '/name', 'value': 'new'},
             'must have exactly one member named one of add, replace, '
             'remove'),
            ('application/openstack-images-v2.1-json-patch',
             {'replace': '/name', 'value': 'new'},
             "patch operation None is not supported"),
        ]
        for content_type, operation, message in cases:
            with self.subTest(operation=operation), self.unchanged():
                self.assert_error(
                    self.patch([operation], content_type=content_type),
                    400, message)

    def test_reserved_property_in_either_patch_form(self):
        for content_type, operation in (
                ('application/openstack-images-v2.0-json-patch',
                 {'add': '/os_glance_import_task', 'value': 'x'}),
                ('application/openstack-images-v2.1-json-patch',
                 {'op': 'add', 'path': '/os_glance_import_task',
                  'value': 'x'})):
            with self.subTest(content_type), self.unchanged():
                self.assert_error(
                    self.patch([operation], content_type=content_type),
                    403, "'os_glance_import_task' is reserved")

    def test_oversized_json_body(self):
        body = json.dumps({'name': 'x', 'color': 'y' * 200000}).encode()
        for method, path, content_type in (
                ('POST', '/v2/images', 'application/json'),
                ('PATCH', self.path, base.PATCH_TYPE),
                ('POST', self.path + '/import', 'application/json')):
            with self.subTest(path=path), self.unchanged():
                response = self.request(method, path, body=body,
                                        content_type=content_type)
                self.assert_error(response, 413, 'larger than',
                                  'bytes allowed.')

    def test_nul_characters(self):
        with self.unchanged():
            for body in ({'name': 'a\x00b'}, {'col\x00or': 'x'},
                         {'tags': ['a\x00']}):
                self.assert_error(
                    self.post_raw('/v2/images', json.dumps(body).encode()),
                    400, 'NUL')
            self.assert_error(self.patch([{'op': 'add', 'path': '/name',
                                           'value': '\x00'}]), 400, 'NUL')

    def test_lone_surrogates(self):
        with self.unchanged():
            self.assert_error(
                self.post_raw('/v2/images', b'{"name": "\\udc00"}'), 400,
                'lone surrogate')
            self.assert_error(
                self.post_raw('/v2/images', b'{"\\ud800x": "1"}'), 400,
                'lone surrogate')

    def test_deep_nesting(self):
        for depth in (40, 5000, 50000):
            nested_array = b'[' * depth + b']' * depth
            with self.subTest(depth=depth), self.unchanged():
                self.assert_error(
                    self.request('PATCH', self.path, body=nested_array,
                                 content_type=base.PATCH_TYPE),
                    400, 'more than 32 deep')
        for depth in (40, 5000):
            nested_object = b'{"a": ' * depth + b'1' + b'}' * depth
            with self.subTest(depth=depth), self.unchanged():
                self.assert_error(self.post_raw('/v2/images', nested_object),
                                  400, 'more than 32 deep')
        nested_value = (b'[{"op": "add", "path": "/x", "value": '
                        + b'[' * 5000 + b']' * 5000 + b'}]')
        with self.unchanged():
            self.assert_error(
                self.request('PATCH', self.path, body=nested_value,
                             content_type=base.PATCH_TYPE),
                400, 'more than 32 deep')

    def test_huge_numbers(self):
        for body in (b'{"min_ram": 1' + b'0' * 5000 + b'}',
                     b'{"min_ram": 1e999}', b'{"min_ram": NaN}'):
            with self.subTest(body=body[:20]), self.unchanged():
                self.assert_error(self.post_raw('/v2/images', body), 400,
                                  'min_ram' if b'e' in body or b'N' in body
                                  else 'not valid JSON')


class ImageFieldTests(BadInputTestCase):

    READ_ONLY = {'status': 'active', 'checksum': 'a' * 32, 'size': 1,
                 'virtual_size': 1, 'created_at': '2020-01-01T00:00:00Z',
                 'updated_at': '2020-01-01T00:00:00Z', 'stores': 'fast',
                 'os_hash_value': 'a', 'os_hash_algo': 'sha512',
                 'self': '/x', 'file': '/x', 'schema': '/x',
                 'locations': [], 'deleted': True}

    def test_read_only_fields_on_create(self):
        for name, value in self.READ_ONLY.items():
            with self.subTest(name), self.unchanged():
                response = self.request('POST', '/v2/images',
                                        json={'name': 'x', name: value})
                self.assert_error(response, 403,
                                  "attribute '%s' is read-only" % name)

    def test_reserved_properties_on_create(self):
        for name in ('os_glance_importing_to_stores',
                     'os_glance_failed_import', 'os_glance_anything'):
            with self.subTest(name), self.unchanged():
                response = self.request('POST', '/v2/images',
                                        json={name: 'fast'})
                self.assert_error(response, 403, name, 'reserved')

    def test_read_only_fields_on_patch(self):
        fields = dict(self.READ_ONLY, id='6e6c1ba0-1a40-4ad7-9d4b-'
                      '4a7d0c8cbd3b', os_glance_importing_to_stores='fast')
        for name, value in fields.items():
            for op in ('add', 'replace'):
                with self.subTest(name=name, op=op), self.unchanged():
                    response = self.patch([{'op': op, 'path': '/' + name,
                                            'value': value}])
                    self.assert_error(response, 403, "attribute '%s'"
                                      % name)

    def test_wrong_types(self):
        for name, value in (('min_ram', 'x'), ('min_disk', 1.5),
                            ('protected', 'yes'), ('os_hidden', 1),
                            ('tags', 'a,b'), ('tags', [1]),
                            ('color', 7), ('color', None),
                            ('color', ['blue']), ('name', 42),
                            ('visibility', 'everyone'),
                            ('disk_format', 'floppy'),
                            ('id', 'not-a-uuid')):
            with self.subTest(name=name, value=value), self.unchanged():
                response = self.request('POST', '/v2/images',
                                        json={name: value})
                self.assert_error(response, 400,
                                  'invalid value for %s' % name)
                if name != 'id':
                    response = self.patch([{'op': 'add', 'path': '/' + name,
                                            'value': value}])
                    self.assert_error(response, 400,
                                      'invalid value for %s' % name)

    def test_values_out_of_range(self):
        for name, value in (('min_ram', -1), ('min_ram', 2 ** 40),
                            ('min_disk', -1), ('min_disk', 2 ** 31),
                            ('name', 'n' * 256), ('tags', ['t' * 256]),
                            ('kernel_id', 'k' * 256)):
            with self.subTest(name=name), self.unchanged():
                response = self.request('POST', '/v2/images',
                                        json={name: value})
                self.assert_error(response, 400, 'invalid value for %s'
                                  % name)
                response = self.patch([{'op': 'add', 'path': '/' + name,
                                        'value': value}])
                self.assert_error(response, 400, 'invalid value for %s'
                                  % name)

    def test_property_names_and_values_too_long(self):
        with self.unchanged():
            self.assert_error(
                self.request('POST', '/v2/images', json={'p' * 256: 'x'}),
                400, 'property names must be 1 to 255 characters')
            self.assert_error(
                self.request('POST', '/v2/images', json={'p': 'x' * 65536}),
                400, 'property p is longer than 65535 characters')

    def test_duplicate_id(self):
        with self.unchanged():
            response = self.request('POST', '/v2/images',
                                    json={'id': self.image['id']})
            self.assert_error(response, 409, self.image['id'],
                              'already exists')


class PatchTests(BadInputTestCase):

    def test_path_not_top_level(self):
        for path in ('/tags/0', '/color/x', '/a/b/c'):
            with self.subTest(path), self.unchanged():
                self.assert_error(
                    self.patch([{'op': 'add', 'path': path, 'value': 'x'}]),
                    400, 'patch path %s is not a top-level' % path)

    def test_path_not_a_pointer(self):
        for path in ('name', '', None, 7):
            with self.subTest(path=path), self.unchanged():
                self.assert_error(
                    self.patch([{'op': 'add', 'path': path, 'value': 'x'}]),
                    400, 'must be a JSON pointer')

    def test_unsupported_op(self):
        for op in ('move', 'copy', 'test', 'ADD', None):
            with self.subTest(op=op), self.unchanged():
                self.assert_error(
                    self.patch([{'op': op, 'path': '/name', 'from': '/x',
                                 'value': 'x'}]),
                    400, 'patch operation %r is not supported' % (op,))

    def test_missing_value(self):
        with self.unchanged():
            self.assert_error(self.patch([{'op': 'add', 'path': '/name'}]),
                              400, 'needs a value')

    def test_remove_of_core_field(self):
        for name in ('name', 'min_ram', 'visibility', 'protected', 'tags',
                     'disk_format', 'owner'):
            with self.subTest(name), self.unchanged():
                self.assert_error(
                    self.patch([{'op': 'remove', 'path': '/' + name}]),
                    403, 'attribute %s may not be removed' % name)

    def test_remove_or_replace_of_missing_property(self):
        for op in ('remove', 'replace'):
            with self.subTest(op), self.unchanged():
                self.assert_error(
                    self.patch([{'op': op, 'path': '/flavour',
                                 'value': 'x'}]),
                    409, 'property flavour does not exist')

    def test_one_bad_operation_applies_none(self):
        with self.unchanged():
            self.assert_error(self.patch([
                {'op': 'replace', 'path': '/name', 'value': 'changed'},
                {'op': 'add', 'path': '/min_ram', 'value': -5}]),
                400, 'min_ram')

    def test_data_format_of_active_image(self):
        image = self.active_image(b'data' * 100)
        for name, value in (('disk_format', 'qcow2'),
                            ('container_format', 'ovf')):
            with self.subTest(name), self.unchanged():
                self.assert_error(
                    self.patch([{'op': 'replace', 'path': '/' + name,
                                 'value': value}], image['id']),
                    403, 'attribute %s can be changed only while the image '
                         'is queued' % name)

    def test_visibility_public_needs_admin(self):
        with self.unchanged():
            self.assert_error(
                self.patch([{'op': 'replace', 'path': '/visibility',
                             'value': 'public'}]),
                403, 'publicize_image')

    def test_other_projects_image(self):
        with self.unchanged():
            self.assert_error(
                self.patch([{'op': 'replace', 'path': '/name',
                             'value': 'mine'}], headers=base.BOB),
                404, self.image['id'])


class PathTests(BadInputTestCase):

    def test_image_id_not_a_uuid(self):
        # Each call well formed but for the id, so the id is what fails.
        calls = [('GET', '/v2/images/%s', None, None),
                 ('PATCH', '/v2/images/%s', b'[]', base.PATCH_TYPE),
                 ('DELETE', '/v2/images/%s', None, None),
                 ('GET', '/v2/images/%s/file', None, None),
                 ('PUT', '/v2/images/%s/file', b'data', OCTETS),
                 ('PUT', '/v2/images/%s/stage', b'data', OCTETS),
                 ('POST', '/v2/images/%s/import',
                  b'{"method": {"name": "glance-direct"}}', JSON),
                 ('PUT', '/v2/images/%s/tags/x', None, None),
                 ('DELETE', '/v2/images/%s/tags/x', None, None),
                 ('GET', '/v2/images/%s/members', None, None),
                 ('POST', '/v2/images/%s/members', b'{"member": "bob"}',
                  JSON),
                 ('GET', '/v2/images/%s/members/bob', None, None),
                 ('PUT', '/v2/images/%s/members/bob',
                  b'{"status": "accepted"}', JSON),
                 ('DELETE', '/v2/images/%s/members/bob', None, None),
                 ('GET', '/v2/images/%s/tasks', None, None),
                 ('DELETE', '/v2/stores/fast/%s', None, None)]
        for image_id in ('bogus', '12345', self.image['id'] + 'x',
                         self.image['id'][:-1], 'caf%C3%A9'):
            for method, template, body, content_type in calls:
                with self.subTest(method=method, path=template,
                                  image_id=image_id), self.unchanged():
                    response = self.request(method, template % image_id,
                                            body=body,
                                            content_type=content_type)
                    self.assert_error(response, 404, 'Image ',
                                      ' not found')

    def test_unknown_image_is_404(self):
        missing = '6e6c1ba0-1a40-4ad7-9d4b-4a7d0c8cbd3b'
        for method, path in (('GET', '/v2/images/%s'),
                             ('DELETE', '/v2/images/%s'),
                             ('GET', '/v2/images/%s/file'),
                             ('PUT', '/v2/images/%s/tags/x'),
                             ('GET', '/v2/images/%s/tasks')):
            with self.subTest(path=path):
                self.assert_error(self.request(method, path % missing), 404,
                                  'Image %s not found' % missing)

    def test_task_id_not_a_uuid(self):
        self.assert_error(self.request('GET', '/v2/tasks/bogus'), 404,
                          'Task bogus not found')

    def test_path_not_utf8(self):
        for path in ('/v2/images/%FF', '/v2/schemas/%FF', '/%C3',
                     self.path + '/tags/%ED%A0%80',
                     self.path + '/members/%FF', '/v2/stores/%FF/x'):
            for method in ('GET', 'PUT', 'DELETE'):
                with self.subTest(path=path, method=method), \
                        self.unchanged():
                    self.assert_error(self.request(method, path), 400,
                                      'the URL path is not UTF-8')

    def test_nul_in_path(self):
        for path in (self.path + '/tags/a%00b', self.path + '/members/%00',
                     '/v2/images/%00'):
            with self.subTest(path), self.unchanged():
                self.assert_error(self.request('PUT', path), 400,
                                  'the URL path contains a NUL character')

    def test_tag_too_long(self):
        with self.unchanged():
            self.assert_error(
                self.request('PUT', self.path + '/tags/' + 't' * 256), 400,
                'invalid value for tags/0')

    def test_non_ascii_tag_in_path_is_utf8(self):
        added = self.request('PUT', self.path + '/tags/caf%C3%A9')
        self.assertEqual(204, added.status_int, added.text)
        self.assertEqual(['a', 'café'], sorted(self.show(
            self.image['id']).json['tags']))
        removed = self.request('DELETE', self.path + '/tags/caf%C3%A9')
        self.assertEqual(204, removed.status_int, removed.text)
        self.assertEqual(['a'], self.show(self.image['id']).json['tags'])

    def test_unknown_tag(self):
        with self.unchanged():
            self.assert_error(self.request('DELETE', self.path + '/tags/zz'),
                              404, 'tag zz')

    def test_unknown_schema(self):
        self.assert_error(self.request('GET', '/v2/schemas/bogus'), 404,
                          'No resource at /v2/schemas/bogus')

    def test_wrong_method(self):
        response = self.request('POST', self.path)
        self.assert_error(response, 405, 'POST is not allowed')
        self.assertEqual('DELETE, GET, PATCH', response.headers['Allow'])


class ListQueryTests(BadInputTestCase):

    def test_bad_image_list_parameters(self):
        missing = '6e6c1ba0-1a40-4ad7-9d4b-4a7d0c8cbd3b'
        for query, fragment in (
                ('limit=-1', 'limit must be between 0 and any, not -1'),
                ('limit=x', "limit must be an integer, not 'x'"),
                ('limit=1.5', "limit must be an integer"),
                ('sort_key=bogus', "images cannot be sorted by 'bogus'"),
                ('sort_dir=sideways', "not 'sideways'"),
                ('sort=name:sideways', "not 'sideways'"),
                ('sort=name&sort_key=name', 'not both'),
                ('sort_key=name&sort_dir=asc&sort_dir=desc',
                 'one per sort key'),
                ('visibility=bogus', "visibility must be one of"),
                ('member_status=bogus', "member_status must be one of"),
                ('marker=%s' % missing, 'marker %s is not an image' % missing),
                ('marker=bogus', 'marker bogus is not an image'),
                ('created_at=bogus:2020', "created_at filter operator must "
                 "be one of gt, gte, lt, lte, eq, neq, not 'bogus'"),
                ('updated_at=gt:yesterday', 'needs an ISO 8601 time'),
                ('created_at=gt:0001-01-01T00:00:00%2B01:00',
                 'out of range in UTC'),
                ('size_min=x', 'size_min must be an integer'),
                ('size=1.5', 'size must be an integer'),
                ('size_max=-1', 'size_max must be between'),
                ('size_min=%d' % 2 ** 63, 'size_min must be between 0 and '
                 '9223372036854775807'),
                ('protected=maybe', "protected must be true or false"),
                ('os_hidden=maybe', "os_hidden must be true or false"),
                ('name=%FF', 'the query string is not UTF-8'),
                ('name=a%00', "query parameter 'name' contains a NUL")):
            with self.subTest(query):
                self.assert_error(self.request('GET', '/v2/images?' + query),
                                  400, fragment)

    def test_bad_task_list_parameters(self):
        for query, fragment in (
                ('limit=x', 'limit must be an integer'),
                ('limit=-1', 'limit must be between'),
                ('sort_dir=sideways', "sort_dir must be asc or desc"),
                ('status=bogus', 'status must be one of'),
                ('marker=bogus', 'marker bogus is not a task')):
            with self.subTest(query):
                self.assert_error(self.request('GET', '/v2/tasks?' + query),
                                  400, fragment)

    def test_limit_zero_is_an_empty_last_page(self):
        response = self.request('GET', '/v2/images?limit=0')
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual([], response.json['images'])
        self.assertNotIn('next', response.json)


class DataAndImportTests(BadInputTestCase):

    def test_unknown_store_in_import(self):
        staged = self.request('PUT', self.path + '/stage', body=b'data')
        self.assertEqual(204, staged.status_int, staged.text)
        for stores in (['nope'], ['fast', 'nope']):
            with self.subTest(stores), self.unchanged():
                self.assert_error(
                    self.import_(self.image['id'], 'glance-direct',
                                 stores=stores),
                    400, 'Store nope is not enabled')
        with self.unchanged():
            self.assert_error(self.request(
                'POST', self.path + '/import',
                dict(base.ALICE, **{'X-Image-Meta-Store': 'nope'}),
                json={'method': {'name': 'glance-direct'}}), 400,
                'Store nope is not enabled')

    def test_invalid_import_requests(self):
        for body, fragment in (
                ({}, "'method' is a required property"),
                ({'method': {}}, "'name' is a required property"),
                ({'method': {'name': 'teleport'}}, "'teleport' is not one "
                 "of"),
                ({'method': 'glance-direct'}, "is not of type 'object'"),
                ({'method': {'name': 'glance-direct'}, 'stores': 'fast'},
                 "is not of type 'array'"),
                ({'method': {'name': 'glance-direct'}, 'all_stores': 'yes'},
                 "is not of type 'boolean'"),
                ({'method': {'name': 'web-download'}},
                 'web-download needs a uri'),
                ({'method': {'name': 'glance-direct', 'uri': 'http://x/'}},
                 'only web-download takes one'),
                ({'method': {'name': 'glance-direct'}, 'stores': ['fast'],
                  'all_stores': True}, 'either stores or all_stores'),
                ({'method': {'name': 'web-download',
                             'uri': 'file:///etc/passwd'}},
                 "The URL file:///etc/passwd is refused: its scheme is not "
                 "allowed by this cloud's import policy."),
                # Refused at once, not by the task: where the host
                # resolves to is known now.
                ({'method': {'name': 'web-download',
                             'uri': 'http://169.254.169.254/latest'}},
                 "The URL http://169.254.169.254/latest is refused: its "
                 "host resolves to a link-local address, which this "
                 "cloud's import policy does not allow."),
                ({'method': {'name': 'web-download',
                             'uri': 'http://localhost/x'}},
                 "The URL http://localhost/x is refused: its host resolves "
                 "to a loopback address, which this cloud's import policy "
                 "does not allow.")):
            with self.subTest(body=body), self.unchanged():
                response = self.request('POST', self.path + '/import',
                                        json=body)
                self.assert_error(response, 400, fragment)

    def test_unknown_store_in_delete_from_store(self):
        image = self.active_image(b'data' * 100, headers=base.ADMIN)
        with self.unchanged():
            self.assert_error(
                self.request('DELETE', '/v2/stores/nope/%s' % image['id'],
                             base.ADMIN), 400, 'Store nope is not enabled')
        self.assertEqual('fast', self.show(image['id'],
                                           base.ADMIN).json['stores'])

    def test_delete_from_store_of_queued_image(self):
        with self.unchanged():
            self.assert_error(
                self.request('DELETE', '/v2/stores/fast/%s'
                             % self.image['id'], base.ADMIN),
                409, 'copies can be deleted only from active images')

    def test_import_of_image_not_staged(self):
        with self.unchanged():
            self.assert_error(
                self.import_(self.image['id'], 'glance-direct'), 409,
                'glance-direct needs the image uploading; it is queued')

    def test_copy_of_image_not_active(self):
        with self.unchanged():
            self.assert_error(
                self.import_(self.image['id'], 'copy-image', base.ADMIN,
                             stores=['slow']),
                409, 'copy-image needs an active image; it is queued')

    def test_stage_of_active_image(self):
        image = self.active_image(b'data' * 100)
        with self.unchanged():
            self.assert_error(
                self.request('PUT', '/v2/images/%s/stage' % image['id'],
                             body=b'more'),
                409, 'data can be staged only while the image is queued; '
                     'it is active')

    def test_upload_to_image_not_queued(self):
        image = self.active_image(b'data' * 100)
        with self.unchanged():
            self.assert_error(
                self.request('PUT', '/v2/images/%s/file' % image['id'],
                             body=b'more'),
                409, 'it is active')
        self.assertEqual(b'data' * 100, self.request(
            'GET', '/v2/images/%s/file' % image['id']).body)

    def test_upload_and_stage_need_octet_stream(self):
        for suffix in ('/file', '/stage'):
            with self.subTest(suffix), self.unchanged():
                self.assert_error(
                    self.request('PUT', self.path + suffix,
                                 body=b'{"a": 1}',
                                 content_type='application/json'),
                    415, 'application/octet-stream')

    def test_body_shorter_than_content_length(self):
        # A client that stops sending: its fault (400), not a store's.
        for suffix in ('/file', '/stage'):
            request = webob.Request.blank(self.path + suffix, method='PUT',
                                          headers=base.ALICE)
            request.content_type = 'application/octet-stream'
            request.body_file = io.BytesIO(b'hello')
            request.content_length = 10
            with self.subTest(suffix), self.unchanged(but=('updated_at',)):
                self.assert_error(request.get_response(self.app), 400,
                                  'disconnected', '5 more bytes')

    def test_upload_to_unknown_store(self):
        with self.unchanged():
            self.assert_error(self.request(
                'PUT', self.path + '/file',
                dict(base.ALICE, **{'X-Image-Meta-Store': 'nope'}),
                body=b'data'), 400, 'Store nope is not enabled')

    def test_range_outside_the_data(self):
        image = self.active_image(b'0123456789')
        response = self.request(
            'GET', '/v2/images/%s/file' % image['id'],
            dict(base.ALICE, Range='bytes=20-30'))
        self.assert_error(response, 416, 'Range bytes=20-30 is outside the '
                          '10 bytes')
        self.assertEqual('bytes */10', response.headers['Content-Range'])

    def test_suffix_range_longer_than_the_data(self):
        # RFC 9110 14.1.2: the whole data, not 416.
        image = self.active_image(b'0123456789')
        response = self.request(
            'GET', '/v2/images/%s/file' % image['id'],
            dict(base.ALICE, Range='bytes=-50'))
        self.assertEqual((206, b'0123456789', 'bytes 0-9/10'),
                         (response.status_int, response.body,
                          response.headers['Content-Range']))
        response = self.request(
            'GET', '/v2/images/%s/file' % image['id'],
            dict(base.ALICE, Range='bytes=-3'))
        self.assertEqual((206, b'789'), (response.status_int, response.body))

    def test_delete_of_protected_image(self):
        image = self.create_image(protected=True)
        with self.unchanged():
            self.assert_error(
                self.request('DELETE', '/v2/images/%s' % image['id']), 403,
                'image %s is protected and cannot be deleted' % image['id'])
        self.assertEqual(200, self.show(image['id']).status_int)


class MemberTests(BadInputTestCase):

    def test_bad_member_bodies(self):
        shared = self.image['id']
        for body in ({}, {'member': ''}, {'member': 7},
                     {'member': 'm' * 256}):
            with self.subTest(body=body), self.unchanged():
                self.assert_error(
                    self.request('POST', '/v2/images/%s/members' % shared,
                                 json=body),
                    400, 'the body needs "member"')

    def test_members_of_a_private_image(self):
        image = self.create_image(visibility='private')
        with self.unchanged():
            self.assert_error(
                self.request('POST', '/v2/images/%s/members' % image['id'],
                             json={'member': 'bob-project'}),
                403, 'only images of visibility shared have members')

    def test_bad_member_status(self):
        created = self.request('POST', self.path + '/members',
                               json={'member': 'bob-project'})
        self.assertEqual(200, created.status_int, created.text)
        with self.unchanged():
            self.assert_error(
                self.request('PUT', self.path + '/members/bob-project',
                             base.BOB, json={'status': 'maybe'}),
                400, "status must be one of pending, accepted, rejected")
