"""How metadata definitions look on the wire.

As in Glance, a field without a value is left out rather than sent as
null, and so are a namespace's empty collections.
"""

from glance_lite.api.v2 import views
from glance_lite.db import metadefs as db_metadefs

NAMESPACES = '/v2/metadefs/namespaces'
SCHEMAS = '/v2/schemas/metadefs'


def namespace_url(name):
    return '%s/%s' % (NAMESPACES, name)


def _timed(row, fields):
    body = {key: row[key] for key in fields if row.get(key) is not None}
    for key in ('created_at', 'updated_at'):
        if row.get(key) is not None:
            body[key] = views.isotime(row[key])
    return body


def association_view(association):
    return _timed(association, ('name', 'prefix', 'properties_target'))


def named_view(row):
    """A tag, or a resource type: a name and its times."""
    return _timed(row, ('name',))


def object_view(namespace, obj):
    body = _timed(obj, ('name', 'description', 'required', 'properties'))
    body['schema'] = SCHEMAS + '/object'
    body['self'] = '%s/objects/%s' % (namespace_url(namespace), obj['name'])
    return body


def property_view(prop):
    return _timed(prop, [key for key in prop
                         if key not in ('created_at', 'updated_at')])


def namespace_view(namespace):
    """A namespace; with its contents when ``namespace`` carries them."""
    name = namespace['namespace']
    body = _timed(namespace, db_metadefs.NAMESPACE_COLUMNS)
    body.update(schema=SCHEMAS + '/namespace', self=namespace_url(name))
    associations = namespace.get('resource_type_associations')
    if associations:
        body['resource_type_associations'] = [
            association_view(a) for a in associations]
    if namespace.get('properties'):
        body['properties'] = namespace['properties']
    if namespace.get('objects'):
        body['objects'] = [object_view(name, obj)
                           for obj in namespace['objects']]
    if namespace.get('tags'):
        body['tags'] = [named_view(tag) for tag in namespace['tags']]
    return body
