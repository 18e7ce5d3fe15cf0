"""The metadata definitions part of the OpenAPI document.

Built with ``glance_lite.api.openapi``'s helpers, which import this
module in turn: nothing here runs at import time, so the two can refer
to each other. The bodies are the /v2/schemas/metadefs schemas.
"""

from glance_lite.api import openapi
from glance_lite.api.v2 import metadefs_routes
from glance_lite.api.v2 import metadefs_schemas
from glance_lite.db import metadefs as db_metadefs

NAMESPACES = '/v2/metadefs/namespaces'
NAMESPACE = metadefs_routes.NAMESPACE
_KINDS = [('object', 'objects', 'object'),
          ('property', 'properties', 'property'),
          ('tag', 'tags', 'tag')]


def components():
    """Component schemas ``metadef_<name>`` of every metadefs schema."""
    found = {'metadef_%s' % name: openapi.to_openapi_schema(build())
             for name, build in metadefs_schemas.SCHEMAS.items()}
    found['metadef_resource_type_list'] = {
        'type': 'object', 'properties': {'resource_types': {
            'type': 'array', 'items': {'type': 'object', 'properties': {
                'name': {'type': 'string'},
                'created_at': {'type': 'string'},
                'updated_at': {'type': 'string'}}}}}}
    return found


def _name_parameter(what):
    return openapi._path_parameter('name', {'type': 'string'},
                                   'The %s\'s name.' % what)


def _namespace_parameter():
    return openapi._path_parameter(
        'namespace', {'type': 'string'}, 'The namespace\'s name; one the '
        'caller cannot see is not found.')

_DENIED = (403, 'policy does not allow it')
_PROTECTED = (403, 'the namespace is protected, or policy')
_NO_NAMESPACE = (404, 'no such namespace, or not one the caller can see')
_MISSING = (404, 'no such namespace or %s')
_TAKEN = (409, 'the name is taken, or given twice')


def _responses(success, *errors, schema=None):
    return openapi._responses(success, openapi._QUERY, *errors,
                              success_schema=schema and 'metadef_' + schema)


def _operation(operation_id, summary, responses, parameters=(),
               body=None):
    if body:
        # Any body may be too large or of another media type.
        errors = openapi._responses(201, openapi._TOO_BIG, openapi._MEDIA)
        responses.update((status, answer) for status, answer
                         in errors.items() if status != '201')
    return openapi._operation(
        operation_id, summary, responses, parameters,
        body and openapi._json_body('metadef_' + body))


def _namespace_paths():
    listing = [
        openapi._query('limit', {'type': 'integer', 'minimum': 0},
                       'Namespaces per page.'),
        openapi._query('marker', {'type': 'string'},
                       'The last namespace of the previous page.'),
        openapi._query('sort_key', {'type': 'string', 'enum': list(
            db_metadefs.NAMESPACE_SORT_KEYS)}, 'Sort key (created_at).'),
        openapi._query('sort_dir', {'type': 'string',
                                    'enum': ['asc', 'desc']},
                       'Sort direction (desc).'),
        openapi._query('visibility', {'type': 'string', 'enum': list(
            metadefs_schemas.VISIBILITIES)}, 'Only these namespaces.'),
        openapi._query('resource_types', {'type': 'string'},
                       'Only namespaces associated with one of these '
                       'resource types, comma-separated.'),
    ]
    bad = (400, 'the body or a parameter is invalid')
    return {
        NAMESPACES: {
            'get': _operation('listMetadefNamespaces', 'A page of the '
                              'namespaces the caller can see.',
                              _responses(200, _DENIED, schema='namespaces'),
                              listing),
            'post': _operation('createMetadefNamespace', 'Create a '
                               'namespace with what it embeds.',
                               _responses(201, bad, _DENIED, _TAKEN,
                                          schema='namespace'),
                               body='namespace'),
        },
        NAMESPACE: {
            'get': _operation('showMetadefNamespace', 'A namespace with '
                              'its contents.',
                              _responses(200, _DENIED, _NO_NAMESPACE,
                                         schema='namespace'),
                              [_namespace_parameter()]),
            'put': _operation('updateMetadefNamespace', 'Replace a '
                              'namespace\'s fields (may rename it).',
                              _responses(200, bad, _DENIED, _NO_NAMESPACE,
                                         _TAKEN, schema='namespace'),
                              [_namespace_parameter()], 'namespace'),
            'delete': _operation('deleteMetadefNamespace', 'Delete a '
                                 'namespace and all it holds.',
                                 _responses(204, _PROTECTED, _NO_NAMESPACE),
                                 [_namespace_parameter()]),
        },
    }


def _content_paths(kind, plural, schema):
    path = '%s/%s' % (NAMESPACE, plural)
    item = path + '/{name}'
    title = kind.capitalize()
    missing = (404, _MISSING[1] % kind)
    bad = (400, 'the body is invalid')
    both = [_namespace_parameter(), _name_parameter(kind)]
    paths = {
        path: {
            'get': _operation('listMetadef%s' % plural.capitalize(),
                              'The namespace\'s %s.' % plural,
                              _responses(200, _DENIED, _NO_NAMESPACE,
                                         schema=plural),
                              [_namespace_parameter()]),
            'post': _operation('createMetadef%s' % title,
                               'Create a %s.' % kind,
                               _responses(201, bad, _DENIED, _NO_NAMESPACE,
                                          _TAKEN, schema=schema),
                               [_namespace_parameter()], schema),
            'delete': _operation('deleteMetadef%s' % plural.capitalize(),
                                 'Delete all the namespace\'s %s.' % plural,
                                 _responses(204, _PROTECTED, _NO_NAMESPACE),
                                 [_namespace_parameter()]),
        },
        item: {
            'get': _operation('showMetadef%s' % title, 'A %s.' % kind,
                              _responses(200, _DENIED, missing,
                                         schema=schema), both),
            'put': _operation('updateMetadef%s' % title, 'Replace (and '
                              'perhaps rename) a %s.' % kind,
                              _responses(200, bad, _DENIED, missing, _TAKEN,
                                         schema=schema), both, schema),
            'delete': _operation('deleteMetadef%s' % title,
                                 'Delete a %s.' % kind,
                                 _responses(204, _PROTECTED, missing),
                                 both),
        },
    }
    if kind == 'tag':
        paths[path]['post'] = _operation(
            'createMetadefTags', 'Create tags from a list; they replace '
            'the namespace\'s tags unless X-OpenStack-Append is true.',
            _responses(201, bad, _DENIED, _NO_NAMESPACE, _TAKEN,
                       schema='tags'),
            [_namespace_parameter(), {
                'name': 'X-OpenStack-Append', 'in': 'header',
                'schema': {'type': 'boolean'},
                'description': 'Add to the tags instead of replacing '
                               'them.'}], 'tags')
        paths[item]['post'] = _operation(
            'createMetadefTag', 'Create the tag the URL names.',
            _responses(201, (400, 'the name is invalid'), _DENIED,
                       _NO_NAMESPACE, _TAKEN, schema='tag'), both)
    return paths


def _resource_type_paths():
    associations = NAMESPACE + '/resource_types'
    return {
        '/v2/metadefs/resource_types': {'get': openapi._operation(
            'listMetadefResourceTypes', 'Every resource type.',
            openapi._responses(200, openapi._QUERY, _DENIED,
                               success_schema='metadef_resource_type_list'
                               ))},
        associations: {
            'get': _operation('listMetadefResourceTypeAssociations',
                              'The resource types of a namespace.',
                              _responses(200, _DENIED, _NO_NAMESPACE,
                                         schema='resource_types'),
                              [_namespace_parameter()]),
            'post': _operation('createMetadefResourceTypeAssociation',
                               'Associate a namespace with a resource '
                               'type.',
                               _responses(201, (400, 'the body is '
                                                'invalid'), _DENIED,
                                          _NO_NAMESPACE,
                                          (409, 'associated already'),
                                          schema='resource_type'),
                               [_namespace_parameter()], 'resource_type'),
        },
        associations + '/{resource_type}': {'delete': _operation(
            'deleteMetadefResourceTypeAssociation', 'Dissociate a '
            'namespace from a resource type.',
            _responses(204, _PROTECTED, (404, 'no such namespace or '
                                         'association')),
            [_namespace_parameter(), openapi._path_parameter(
                'resource_type', {'type': 'string'},
                'The resource type\'s name.')])},
    }


def paths():
    """The OpenAPI paths of every metadefs route, and its schemas'."""
    found = {'/v2/schemas/metadefs/{name}': {'get': openapi._operation(
        'showMetadefSchema', 'A JSON schema of the metadefs API.',
        openapi._responses(200, openapi._QUERY,
                           (404, 'no schema of this name'),
                           success_schema='jsonSchema'),
        [openapi._path_parameter(
            'name', {'type': 'string',
                     'enum': sorted(metadefs_schemas.SCHEMAS)},
            'The schema\'s name.')])}}
    found.update(_namespace_paths())
    for kind, plural, schema in _KINDS:
        found.update(_content_paths(kind, plural, schema))
    found.update(_resource_type_paths())
    return found
