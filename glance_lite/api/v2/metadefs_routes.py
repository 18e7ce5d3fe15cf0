"""The routes of the metadata definitions API, for the router."""

from glance_lite.api.v2 import metadefs_contents
from glance_lite.api.v2 import metadefs_namespaces
from glance_lite.api.v2 import metadefs_resource_types

NAMESPACE = '/v2/metadefs/namespaces/{namespace}'


def routes(worker):
    """(path, {method: handler}) of every metadefs resource."""
    namespaces = metadefs_namespaces.NamespacesController(worker)
    resource_types = metadefs_resource_types.ResourceTypesController()
    tags = metadefs_contents.TagsController()
    found = [
        ('/v2/metadefs/namespaces', {'GET': namespaces.index,
                                     'POST': namespaces.create}),
        (NAMESPACE, {'GET': namespaces.show, 'PUT': namespaces.update,
                     'DELETE': namespaces.delete}),
        ('/v2/metadefs/resource_types', {'GET': resource_types.index}),
        (NAMESPACE + '/resource_types',
         {'GET': resource_types.associations,
          'POST': resource_types.associate}),
        (NAMESPACE + '/resource_types/{resource_type}',
         {'DELETE': resource_types.dissociate}),
        (NAMESPACE + '/tags', {'GET': tags.index, 'POST': tags.create_many,
                               'DELETE': tags.delete_all}),
        (NAMESPACE + '/tags/{name}', {'GET': tags.show,
                                      'POST': tags.create_by_name,
                                      'PUT': tags.update,
                                      'DELETE': tags.delete}),
    ]
    for kind, plural in [('object', 'objects'),
                         ('property', 'properties')]:
        controller = metadefs_contents.ContentsController(kind)
        found += [
            ('%s/%s' % (NAMESPACE, plural),
             {'GET': controller.index, 'POST': controller.create,
              'DELETE': controller.delete_all}),
            ('%s/%s/{name}' % (NAMESPACE, plural),
             {'GET': controller.show, 'PUT': controller.update,
              'DELETE': controller.delete}),
        ]
    return found
