"""The OpenAPI document at /openapi.json: valid, complete, not stale."""


import jsonschema_rs
import schemathesis
import webob

from glance_lite.api import openapi
from glance_lite.api import router
from glance_lite.api import services
from glance_lite.api.v2 import imports
from glance_lite.api.v2 import schemas
from tests.unit.api import base


class OpenAPIDocumentTests(base.AppTestCase):

    def test_served_as_json(self):
        response = webob.Request.blank('/openapi.json').get_response(
            self.app)
        self.assertEqual((200, 'application/json'),
                         (response.status_int, response.content_type))
        self.assertEqual(openapi.document(), response.json)

    def test_valid_openapi_3_0(self):
        schema = schemathesis.openapi.from_wsgi('/openapi.json', self.app)
        schema.validate()
        self.assertEqual('3.0.3', schema.raw_schema['openapi'])
        for result in schema.get_all_operations():
            result.ok()

    def test_invalid_document_is_noticed(self):
        # The check above is worth something only if the meta-schema
        # really looks inside Schema Objects.
        document = openapi.document()
        document['components']['schemas']['image']['properties']['name'][
            'type'] = ['null', 'string']
        with self.assertRaises(jsonschema_rs.ValidationError):
            schemathesis.openapi.from_dict(document).validate()

    def test_covers_exactly_the_routes(self):
        served = {(path, method.lower())
                  for path, handlers in router._routes(services.current())
                  for method in handlers}
        documented = {(path, method)
                      for path, operations in openapi.document()[
                          'paths'].items()
                      for method in operations}
        self.assertEqual(served, documented)

    def test_path_parameters_are_declared(self):
        for path, operations in openapi.document()['paths'].items():
            names = {part[1:-1] for part in path.split('/')
                     if part.startswith('{')}
            for method, operation in operations.items():
                declared = {parameter['name'] for parameter in
                            operation.get('parameters', ())
                            if parameter['in'] == 'path'}
                self.assertEqual(names, declared, (method, path))

    def test_bodies_are_the_published_schemas(self):
        components = openapi.document()['components']['schemas']
        for name, build in schemas.SCHEMAS.items():
            self.assertEqual(openapi.to_openapi_schema(build()),
                             components[name])
        self.assertEqual(
            openapi.to_openapi_schema(imports.IMPORT_REQUEST_SCHEMA),
            components['importRequest'])
        create = components['imageCreate']['properties']
        self.assertEqual(
            set(schemas.image_schema()['properties'])
            - schemas.READ_ONLY_FIELDS, set(create))
        self.assertIn('name', create)
        self.assertNotIn('status', create)

    def test_json_patch_media_type(self):
        body = openapi.document()['paths']['/v2/images/{image_id}'][
            'patch']['requestBody']['content']
        self.assertIn('application/openstack-images-v2.1-json-patch', body)
        self.assertNotIn('application/json', body)

    def test_draft_4_types_become_nullable(self):
        self.assertEqual(
            {'type': 'object', 'properties': {
                'size': {'type': 'integer', 'nullable': True,
                         'readOnly': True},
                'name': {'type': 'string', 'nullable': True,
                         'enum': [None, 'a']}}},
            openapi.to_openapi_schema({
                'name': 'thing', 'links': [], 'properties': {
                    'size': {'type': ['null', 'integer'],
                             'readOnly': True},
                    'name': {'type': ['null', 'string'],
                             'enum': [None, 'a']}}}))
        with self.assertRaises(ValueError):
            openapi.to_openapi_schema({'type': ['string', 'integer']})
