"""POST /v2/images/{id}/import and the discovery calls clients make first.

Accepting an import is synchronous: the 202 comes back only once the
import holds the locks of its target stores, so a conflicting request
gets its 409, naming the running task, right away.
"""

import jsonschema

from glance_lite.api.v2 import access
from glance_lite.api.v2 import image_data
from glance_lite.api import wsgi
from glance_lite.imports import flow
from glance_lite import policy

_STORE_NAMES = {'type': 'array', 'items': {'type': 'string',
                                           'minLength': 1,
                                           'maxLength': 255}}
IMPORT_REQUEST_SCHEMA = {
    'type': 'object',
    'properties': {
        'method': {
            'type': 'object',
            'properties': {
                'name': {'type': 'string', 'enum': list(flow.METHODS)},
                'uri': {'type': 'string', 'maxLength': 2048},
            },
            'required': ['name'],
        },
        'stores': _STORE_NAMES,
        'all_stores': {'type': 'boolean'},
        'all_stores_must_succeed': {'type': 'boolean'},
    },
    'required': ['method'],
}
_VALIDATOR = jsonschema.Draft4Validator(IMPORT_REQUEST_SCHEMA)


class ImportController:

    def __init__(self, services):
        self.services = services

    def import_image(self, request, image_id):
        context = wsgi.context_of(request)
        body = wsgi.read_json(request)
        wsgi.check_body(_VALIDATOR, body, 'import request')
        state = access.visible_import_state(context, image_id)
        method = body['method']['name']
        access.authorize_image(
            context, 'copy_image' if method == 'copy-image'
            else 'import_image', state)
        stores = body.get('stores')
        header_store = request.headers.get(image_data.STORE_HEADER)
        if stores is None and header_store:
            stores = [header_store]
        self.services.imports.import_image(
            context, image_id, method, stores=stores,
            all_stores=body.get('all_stores', False),
            all_stores_must_succeed=body.get('all_stores_must_succeed', True),
            uri=body['method'].get('uri'), state=state)
        return wsgi.no_content(status=202)


class InfoController:

    def __init__(self, services):
        self.services = services

    def import_methods(self, request):
        return wsgi.json_response({'import-methods': {
            'description': 'Import methods available.',
            'type': 'array',
            'value': list(flow.METHODS)}})

    def _stores(self, detail=False):
        manager = self.services.stores
        stores = []
        for name in manager.enabled_stores:
            store = {'id': name, 'description': 'Store %s (%s)' % (
                name, manager.store_type(name))}
            if name == manager.default_backend:
                store['default'] = True
            if detail:
                store.update(type=manager.store_type(name), weight=0,
                             properties=manager.get(name).describe())
            stores.append(store)
        return stores

    def stores(self, request):
        return wsgi.json_response({'stores': self._stores()})

    def stores_detail(self, request):
        context = wsgi.context_of(request)
        policy.authorize(context, 'stores_info_detail', {})
        return wsgi.json_response({'stores': self._stores(detail=True)})
