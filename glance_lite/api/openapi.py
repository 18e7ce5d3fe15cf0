"""The OpenAPI 3.0 description of the Image API, served at /openapi.json.

The request and response bodies are the JSON schemas the API publishes
under /v2/schemas and validates with (``v2/schemas.py``, and the import
request of ``v2/imports.py``), converted here from JSON-schema draft 4
to OpenAPI 3.0 Schema Objects, so the document cannot drift from what
the server accepts. Only the wrapping (paths, parameters, status codes)
is written here; a unit test checks that its paths and methods are
exactly the router's.

OpenAPI 3.0 rather than 3.1: its meta-schema checks Schema Objects
strictly, which is what tells us the conversion is complete, and every
client generator reads it.

Answers 5xx are not listed: any operation answers 500 when the service
itself fails and 503 when its database or a store is unavailable.
With ``auth_strategy = keystone`` every operation may answer 401; with
``noauth`` the identity headers (X-User-Id, X-Project-Id, X-Roles) are
believed as sent.
"""

import copy
import functools

from glance_lite.api import openapi_metadefs
from glance_lite.api.v2 import image_data
from glance_lite.api.v2 import images
from glance_lite.api.v2 import imports
from glance_lite.api.v2 import patch
from glance_lite.api.v2 import schemas
from glance_lite.api.v2 import tasks
from glance_lite.api import versions
from glance_lite.api import wsgi

OPENAPI_VERSION = '3.0.3'
IMAGE_ID = '/v2/images/{image_id}'
PATCH_MEDIA_TYPE = patch.MEDIA_TYPES[0]

# Keys of Glance's published schemas that are about the document, not
# JSON-schema keywords: the schema's name and its hypermedia links.
_SCHEMA_METADATA = ('name', 'links')
# Glance's own keyword (a common property, not a core field), kept as
# an OpenAPI extension.
_EXTENSIONS = {'is_base': 'x-glance-is-base'}

_STATUS_TEXT = {
    200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
    206: 'Partial Content', 300: 'Multiple Choices', 400: 'Bad Request',
    401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
    409: 'Conflict', 413: 'Request Entity Too Large',
    415: 'Unsupported Media Type', 416: 'Requested Range Not Satisfiable',
}


def to_openapi_schema(schema):
    """An OpenAPI 3.0 Schema Object from a draft-4 JSON schema.

    OpenAPI 3.0 takes one ``type`` and spells "or null" as ``nullable``;
    draft 4 lists the types (``["null", "string"]``). Glance's document
    metadata (``name``, ``links``) is dropped and its ``is_base`` keyword
    becomes an ``x-`` extension.
    """
    converted = {}
    for key, value in schema.items():
        if key in _SCHEMA_METADATA:
            continue
        if key in _EXTENSIONS:
            converted[_EXTENSIONS[key]] = value
        elif key == 'type' and isinstance(value, list):
            types = [name for name in value if name != 'null']
            if len(types) != 1:
                raise ValueError('OpenAPI 3.0 cannot say type %r' % value)
            converted['type'] = types[0]
            if 'null' in value:
                converted['nullable'] = True
        elif key == 'properties':
            converted[key] = {name: to_openapi_schema(spec)
                              for name, spec in value.items()}
        elif key in ('items', 'additionalProperties') and isinstance(
                value, dict):
            converted[key] = to_openapi_schema(value)
        else:
            converted[key] = copy.deepcopy(value)
    if 'properties' in converted:
        converted.setdefault('type', 'object')
    return converted


def _ref(name):
    return {'$ref': '#/components/schemas/%s' % name}


def _image_create_schema():
    """The image schema without the fields only the service sets."""
    schema = to_openapi_schema(schemas.image_schema())
    schema['properties'] = {
        name: spec for name, spec in schema['properties'].items()
        if not spec.get('readOnly')}
    return schema


def _component_schemas():
    # The error body every failure carries (see fault.error_response).
    error = {'type': 'object', 'required': ['error'], 'properties': {
        'error': {'type': 'object', 'required': ['code', 'title', 'message'],
                  'properties': {'code': {'type': 'integer'},
                                 'title': {'type': 'string'},
                                 'message': {'type': 'string'}}}}}
    version = {'type': 'object', 'properties': {
        'id': {'type': 'string'}, 'status': {'type': 'string'},
        'links': {'type': 'array', 'items': {
            'type': 'object', 'properties': {
                'rel': {'type': 'string'}, 'href': {'type': 'string'}}}}}}
    store = {'type': 'object', 'required': ['id'], 'properties': {
        'id': {'type': 'string'}, 'description': {'type': 'string'},
        'default': {'type': 'boolean'}, 'type': {'type': 'string'},
        'weight': {'type': 'integer'}, 'properties': {'type': 'object'}}}
    path = {'type': 'string', 'pattern': '^/[^/]*$',
            'description': 'A top-level image attribute, as a JSON pointer '
                           '("/name").'}
    value = {'description': 'The new value (add, replace).'}
    json_patch = {'type': 'array', 'items': {
        'type': 'object', 'required': ['op', 'path'],
        'properties': {
            'op': {'type': 'string', 'enum': list(patch.OPERATIONS)},
            'path': path, 'value': value}}}
    # The v2.0 form: the operation is the member holding the path.
    keyed_patch = {'type': 'array', 'items': {
        'type': 'object', 'minProperties': 1,
        'oneOf': [{'required': [op]} for op in patch.OPERATIONS],
        'properties': dict({op: path for op in patch.OPERATIONS},
                           value=value)}}
    components = {name: to_openapi_schema(build())
                  for name, build in schemas.SCHEMAS.items()}
    components.update({
        'error': error,
        'versions': {'type': 'object', 'properties': {
            'versions': {'type': 'array', 'items': version}}},
        'imageCreate': _image_create_schema(),
        'imagePatch': json_patch,
        'imagePatchV20': keyed_patch,
        'importRequest': to_openapi_schema(imports.IMPORT_REQUEST_SCHEMA),
        'taskCreate': to_openapi_schema(tasks.TASK_CREATE_SCHEMA),
        'memberCreate': {
            'type': 'object', 'required': ['member'], 'properties': {
                'member': to_openapi_schema(dict(
                    schemas.member_schema()['properties']['member_id'],
                    minLength=1, maxLength=255))}},
        'memberUpdate': {
            'type': 'object', 'required': ['status'], 'properties': {
                'status': to_openapi_schema(
                    schemas.member_schema()['properties']['status'])}},
        'imageTasks': {'type': 'object', 'properties': {
            'tasks': {'type': 'array', 'items': _ref('task')}}},
        'importMethods': {'type': 'object', 'properties': {
            'import-methods': {'type': 'object', 'properties': {
                'description': {'type': 'string'},
                'type': {'type': 'string'},
                'value': {'type': 'array', 'items': {'type': 'string'}}}}}},
        'stores': {'type': 'object', 'properties': {
            'stores': {'type': 'array', 'items': store}}},
        'jsonSchema': {'type': 'object',
                       'description': 'A JSON schema (draft 4).'},
        'openapi': {'type': 'object',
                    'description': 'An OpenAPI 3.0 document.'},
    })
    components.update(openapi_metadefs.components())
    return components


def _json(schema_name):
    return {'application/json': {'schema': _ref(schema_name)}}


def _responses(success, *errors, success_schema=None, headers=None,
               success_content=None):
    """``success``: its status; ``errors``: (status, why) pairs."""
    answer = {'description': _STATUS_TEXT[success]}
    if success_schema is not None:
        answer['content'] = _json(success_schema)
    if success_content is not None:
        answer['content'] = success_content
    if headers:
        answer['headers'] = {name: {'schema': {'type': 'string'},
                                    'description': description}
                             for name, description in headers.items()}
    responses = {str(success): answer}
    for status, why in errors:
        responses[str(status)] = {
            'description': '%s: %s' % (_STATUS_TEXT[status], why),
            'content': _json('error')}
    return responses


def _path_parameter(name, schema, description):
    return {'name': name, 'in': 'path', 'required': True,
            'schema': schema, 'description': description}


def _query(name, schema, description):
    """A query parameter; a list is the parameter repeated."""
    parameter = {'name': name, 'in': 'query', 'schema': schema,
                 'description': description}
    if schema.get('type') == 'array':
        parameter.update(style='form', explode=True)
    return parameter


def _json_body(schema_name, media_type='application/json'):
    return {'required': True,
            'content': {media_type: {'schema': _ref(schema_name)}}}


_UUID = {'type': 'string', 'format': 'uuid'}
_IMAGE_ID = _path_parameter('image_id', _UUID, 'The image\'s id; an id '
                            'that is not a UUID is not found.')
_STRING_LIST = {'type': 'array', 'items': {'type': 'string'}}
_STORE_HEADER = {
    'name': image_data.STORE_HEADER, 'in': 'header', 'required': False,
    'schema': {'type': 'string'},
    'description': 'The store to write to (upload), or to import to when '
                   'the body names no stores (import).'}

# Why a request may be refused; every operation answers 400 for a path
# or query string that is not UTF-8 or holds a NUL character.
_QUERY = (400, 'the path or query string is not UTF-8 or holds a NUL '
               'character')
_BAD = (400, 'the body or a parameter is invalid; the message says how')
_DENIED = (403, 'policy or the image\'s state does not allow it')
_NO_IMAGE = (404, 'no such image, or not one the caller can see')
_TOO_BIG = (413, 'the body is larger than the service accepts')
_MEDIA = (415, 'the body has another media type')
_CONFLICT = (409, 'the image\'s status does not allow it now, or another '
                  'import holds the store')


def _image_list_parameters():
    # Bytes; sizes are 64-bit.
    size = {'type': 'integer', 'minimum': 0,
             'maximum': images.MAX_IMAGE_SIZE}
    time_filter = {
        'type': 'array', 'items': {
            'type': 'string',
            'description': 'OP:TIME with OP one of gt, gte, lt, lte, eq, '
                           'neq, and TIME in ISO 8601'}}
    return [
        _query('limit', {'type': 'integer', 'minimum': 0},
               'Images per page (capped by [DEFAULT] api_limit_max).'),
        _query('marker', _UUID, 'The last image of the previous page.'),
        _query('sort_key', _STRING_LIST, 'Sort keys (name, status, '
               'container_format, disk_format, size, virtual_size, id, '
               'created_at, updated_at, visibility, owner, min_disk, '
               'min_ram).'),
        _query('sort_dir', {'type': 'array', 'items': {
            'type': 'string', 'enum': ['asc', 'desc']}},
            'Sort directions: one, or one per sort key.'),
        _query('sort', {'type': 'string'}, 'key[:dir],... (instead of '
               'sort_key and sort_dir).'),
        _query('visibility', {'type': 'string', 'enum': (
            schemas.VISIBILITIES + ['all'])}, 'Only images of this '
            'visibility.'),
        _query('member_status', {'type': 'string', 'enum': (
            schemas.MEMBER_STATUSES + ['all'])}, 'Shared images whose '
            'membership of the caller has this status (default '
            'accepted).'),
        _query('os_hidden', {'type': 'boolean'}, 'List hidden images '
               'instead of visible ones.'),
        _query('protected', {'type': 'boolean'}, 'Only images with this '
               'protected flag.'),
        _query('size', size, 'Only images of exactly this many bytes.'),
        _query('virtual_size', size, 'Only images of this virtual size.'),
        _query('min_ram', size, 'Only images of this min_ram.'),
        _query('min_disk', size, 'Only images of this min_disk.'),
        _query('size_min', size, 'Only images of at least this many '
               'bytes.'),
        _query('size_max', size, 'Only images of at most this many '
               'bytes.'),
        _query('tag', _STRING_LIST, 'Only images with all these tags.'),
        _query('created_at', time_filter, 'Creation time conditions.'),
        _query('updated_at', time_filter, 'Update time conditions.'),
    ] + [
        _query(name, {'type': 'string'}, 'Only images whose %s is this '
               'value, or one of a list written in:v1,v2.' % name)
        for name in ('name', 'status', 'owner', 'disk_format',
                     'container_format', 'id', 'checksum', 'os_hash_value')
    ]


def _task_list_parameters():
    return [
        _query('limit', {'type': 'integer', 'minimum': 0},
               'Tasks per page.'),
        _query('marker', _UUID, 'The last task of the previous page.'),
        _query('sort_dir', {'type': 'string', 'enum': ['asc', 'desc']},
               'Order by creation time, newest first by default.'),
        _query('status', {'type': 'string',
                          'enum': list(schemas.TASK_STATUSES)},
               'Only tasks with this status.'),
        _query('type', {'type': 'string'}, 'Only tasks of this type.'),
    ]


def _operation(operation_id, summary, responses, parameters=(),
               body=None):
    operation = {'operationId': operation_id, 'summary': summary,
                 'responses': responses}
    if parameters:
        operation['parameters'] = list(parameters)
    if body is not None:
        operation['requestBody'] = body
    return operation


def _paths():
    return dict(_image_paths(), **openapi_metadefs.paths())


def _image_paths():
    tag = _path_parameter(
        'tag', to_openapi_schema(
            schemas.IMAGE_PROPERTIES['tags']['items']), 'A tag.')
    member = _path_parameter('member', {'type': 'string'},
                             'The member\'s project id.')
    octets = {'required': True, 'content': {wsgi.OCTET_STREAM: {
        'schema': {'type': 'string', 'format': 'binary'}}}}
    data = {wsgi.OCTET_STREAM: {
        'schema': {'type': 'string', 'format': 'binary'}}}
    return {
        '/': {'get': _operation(
            'versionsRoot', 'The API versions (answered as Multiple '
            'Choices, as Glance does).',
            _responses(300, _QUERY, success_schema='versions'))},
        '/versions': {'get': _operation(
            'listVersions', 'The API versions.',
            _responses(200, _QUERY, success_schema='versions'))},
        '/v2/': {'get': _operation(
            'versionsV2', 'The API versions, as at / (a token is needed '
            'here, as in Glance).',
            _responses(300, _QUERY, success_schema='versions'))},
        '/openapi.json': {'get': _operation(
            'showOpenAPI', 'This document.',
            _responses(200, _QUERY, success_schema='openapi'))},
        '/v2/schemas/{name}': {'get': _operation(
            'showSchema', 'A JSON schema of the API.',
            _responses(200, _QUERY, (404, 'no schema of this name'),
                       success_schema='jsonSchema'),
            [_path_parameter('name', {'type': 'string',
                                      'enum': sorted(schemas.SCHEMAS)},
                             'The schema\'s name.')])},
        '/v2/images': {
            'get': _operation(
                'listImages', 'A page of the images the caller can see.',
                _responses(200, (400, 'a query parameter is invalid'),
                           _DENIED, success_schema='images'),
                _image_list_parameters()),
            'post': _operation(
                'createImage', 'Create an image record (status queued).',
                _responses(
                    201, _BAD, (403, 'a read-only or reserved attribute, '
                                'or policy'),
                    (409, 'an image with this id exists'), _TOO_BIG,
                    _MEDIA, success_schema='image', headers={
                        'Location': 'The new image.',
                        'OpenStack-image-import-methods':
                            'Import methods, comma-separated.',
                        'OpenStack-image-store-ids':
                            'Enabled stores, comma-separated.'}),
                body=_json_body('imageCreate')),
        },
        IMAGE_ID: {
            'get': _operation(
                'showImage', 'An image.',
                _responses(200, _QUERY, _DENIED, _NO_IMAGE,
                           success_schema='image'),
                [_IMAGE_ID]),
            'patch': _operation(
                'updateImage', 'Change an image with a JSON patch.',
                _responses(
                    200, _BAD, (403, 'a read-only, reserved or core '
                                'attribute, a data format of an image '
                                'with data, or policy'),
                    _NO_IMAGE, (409, 'a removed or replaced property '
                                'does not exist'), _TOO_BIG, _MEDIA,
                    success_schema='image'),
                [_IMAGE_ID],
                {'required': True, 'content': {
                    patch.MEDIA_TYPE: {'schema': _ref('imagePatch')},
                    patch.OLD_MEDIA_TYPE: {
                        'schema': _ref('imagePatchV20')}}}),
            'delete': _operation(
                'deleteImage', 'Delete an image and all its data.',
                _responses(204, _QUERY, (403, 'the image is protected, or '
                                         'policy'), _NO_IMAGE),
                [_IMAGE_ID]),
        },
        IMAGE_ID + '/file': {
            'get': _operation(
                'downloadImage', 'The image\'s data (204 when it has '
                'none).',
                dict(_responses(
                    200, _QUERY, (403, 'the image is deactivated, or '
                                  'policy'), _NO_IMAGE,
                    (416, 'the Range is outside the data'),
                    success_content=data), **{
                        '204': {'description': 'The image has no data.'},
                        '206': {'description': 'The requested Range.',
                                'content': data}}),
                [_IMAGE_ID, {'name': 'Range', 'in': 'header',
                             'schema': {'type': 'string'},
                             'description': 'bytes=FIRST-LAST'}]),
            'put': _operation(
                'uploadImage', 'Upload the image\'s data to a store and '
                'activate it.',
                _responses(204, (400, 'unknown store, or the data is not '
                                 'as long as Content-Length says'),
                           _DENIED, _NO_IMAGE, _CONFLICT,
                           (413, 'the data is larger than the size cap or '
                            'the store\'s space'), _MEDIA),
                [_IMAGE_ID, _STORE_HEADER], octets),
        },
        IMAGE_ID + '/stage': {'put': _operation(
            'stageImage', 'Stage the image\'s data for a glance-direct '
            'import.',
            _responses(204, (400, 'the data is not as long as '
                             'Content-Length says'),
                       _DENIED, _NO_IMAGE, _CONFLICT,
                       (413, 'the data is larger than the size cap or '
                        'the staging area\'s space'), _MEDIA),
            [_IMAGE_ID], octets)},
        IMAGE_ID + '/import': {'post': _operation(
            'importImage', 'Start an import; its task tells how it goes.',
            _responses(202, (400, 'an invalid request, unknown store or '
                             'refused URL'), _DENIED, _NO_IMAGE,
                       _CONFLICT, _TOO_BIG, _MEDIA),
            [_IMAGE_ID, _STORE_HEADER], _json_body('importRequest'))},
        IMAGE_ID + '/actions/deactivate': {'post': _operation(
            'deactivateImage', 'Deactivate an active image: only '
            'administrators may then download its data.',
            _responses(204, _QUERY, (403, 'the image is not active or '
                                     'deactivated, or policy'), _NO_IMAGE),
            [_IMAGE_ID])},
        IMAGE_ID + '/actions/reactivate': {'post': _operation(
            'reactivateImage', 'Reactivate a deactivated image.',
            _responses(204, _QUERY, (403, 'the image is not deactivated '
                                     'or active, or policy'), _NO_IMAGE),
            [_IMAGE_ID])},
        IMAGE_ID + '/tags/{tag}': {
            'put': _operation(
                'addImageTag', 'Tag an image.',
                _responses(204, (400, 'the tag is too long'), _DENIED,
                           _NO_IMAGE),
                [_IMAGE_ID, tag]),
            'delete': _operation(
                'deleteImageTag', 'Remove a tag.',
                _responses(204, _QUERY, _DENIED,
                           (404, 'no such image or tag')),
                [_IMAGE_ID, tag]),
        },
        IMAGE_ID + '/members': {
            'get': _operation(
                'listMembers', 'The projects a shared image is shared '
                'with.',
                _responses(200, _QUERY, (403, 'the image is not shared, '
                                         'or policy'), _NO_IMAGE,
                           success_schema='members'),
                [_IMAGE_ID]),
            'post': _operation(
                'createMember', 'Share an image with a project.',
                _responses(200, _BAD, (403, 'the image is not shared, or '
                                       'policy'), _NO_IMAGE,
                           (409, 'the project is a member already'),
                           _TOO_BIG, _MEDIA, success_schema='member'),
                [_IMAGE_ID], _json_body('memberCreate')),
        },
        IMAGE_ID + '/members/{member}': {
            'get': _operation(
                'showMember', 'A membership.',
                _responses(200, _QUERY, (403, 'the image is not shared, '
                                         'or policy'),
                           (404, 'no such image or member'),
                           success_schema='member'),
                [_IMAGE_ID, member]),
            'put': _operation(
                'updateMember', 'Accept or reject a share (the member '
                'project itself).',
                _responses(200, _BAD, (403, 'not the member project, the '
                                       'image is not shared, or policy'),
                           (404, 'no such image or member'), _TOO_BIG,
                           _MEDIA, success_schema='member'),
                [_IMAGE_ID, member], _json_body('memberUpdate')),
            'delete': _operation(
                'deleteMember', 'Stop sharing an image with a project.',
                _responses(204, _QUERY, (403, 'the image is not shared, '
                                         'or policy'),
                           (404, 'no such image or member')),
                [_IMAGE_ID, member]),
        },
        IMAGE_ID + '/tasks': {'get': _operation(
            'listImageTasks', 'The import tasks of an image.',
            _responses(200, _QUERY, _DENIED, _NO_IMAGE,
                       success_schema='imageTasks'),
            [_IMAGE_ID])},
        '/v2/tasks': {
            'get': _operation(
                'listTasks', 'A page of the caller\'s tasks.',
                _responses(200, (400, 'a query parameter is invalid'),
                           _DENIED, success_schema='tasks'),
                _task_list_parameters()),
            'post': _operation(
                'createTask', 'Legacy task API: an import task creates an '
                'image and imports its data from a URL.',
                _responses(201, (400, 'an invalid task or image, or a '
                                 'refused URL'),
                           (403, 'a read-only or reserved image attribute, '
                            'or policy'), _TOO_BIG, _MEDIA,
                           success_schema='task',
                           headers={'Location': 'The new task.'}),
                body=_json_body('taskCreate')),
        },
        '/v2/tasks/{task_id}': {'get': _operation(
            'showTask', 'A task.',
            _responses(200, _QUERY, _DENIED,
                       (404, 'no such task, or not the caller\'s'),
                       success_schema='task'),
            [_path_parameter('task_id', _UUID, 'The task\'s id.')])},
        '/v2/info/import': {'get': _operation(
            'showImportInfo', 'The import methods this service offers.',
            _responses(200, _QUERY, success_schema='importMethods'))},
        '/v2/info/stores': {'get': _operation(
            'listStores', 'The enabled stores.',
            _responses(200, _QUERY, success_schema='stores'))},
        '/v2/info/stores/detail': {'get': _operation(
            'listStoresDetail', 'The enabled stores with their '
            'properties (administrators).',
            _responses(200, _QUERY, _DENIED, success_schema='stores'))},
        '/v2/stores/{store_id}/{image_id}': {'delete': _operation(
            'deleteImageFromStore', 'Delete one store\'s copy of an '
            'active image.',
            _responses(204, (400, 'the store is not enabled'), _DENIED,
                       (404, 'no such image, or no copy in this store'),
                       (409, 'the image is not active, or this is its '
                        'last copy')),
            [_path_parameter('store_id', {'type': 'string'},
                             'An enabled store.'), _IMAGE_ID])},
    }


@functools.lru_cache(maxsize=1)
def _document():
    return {
        'openapi': OPENAPI_VERSION,
        'info': {
            'title': 'glance-lite Image API',
            'version': versions.CURRENT,
            'description': __doc__,
        },
        'paths': _paths(),
        'components': {
            'schemas': _component_schemas(),
            'securitySchemes': {'keystone': {
                'type': 'apiKey', 'in': 'header', 'name': 'X-Auth-Token',
                'description': 'A Keystone token (auth_strategy = '
                               'keystone).'}},
        },
        'security': [{}, {'keystone': []}],
    }


def document():
    """The OpenAPI document, a fresh copy the caller may change."""
    return copy.deepcopy(_document())


def show(request):
    """GET /openapi.json."""
    return wsgi.json_response(_document())
