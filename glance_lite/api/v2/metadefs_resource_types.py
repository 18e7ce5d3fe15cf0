"""Resource types and the namespaces' associations with them.

A resource type (OS::Glance::Image, OS::Nova::Flavor...) names what a
namespace's definitions apply to. Associating a namespace with a type
the catalogue does not know yet adds it; types are never deleted, since
other namespaces or services may refer to them.
"""

from glance_lite.api.v2 import metadefs_namespaces
from glance_lite.api.v2 import metadefs_schemas
from glance_lite.api.v2 import metadefs_views
from glance_lite.api import wsgi
from glance_lite.db import metadefs as db_metadefs
from glance_lite import policy


class ResourceTypesController:

    def index(self, request):
        context = wsgi.context_of(request)
        policy.authorize(context, 'list_metadef_resource_types', {})
        return wsgi.json_response({'resource_types': [
            metadefs_views.named_view(resource_type) for resource_type
            in db_metadefs.resource_type_list(context)]})

    def associations(self, request, namespace):
        context = wsgi.context_of(request)
        found = metadefs_namespaces.authorized(context, namespace,
                                               'get_metadef_resource_type')
        return wsgi.json_response({'resource_type_associations': [
            metadefs_views.association_view(association) for association
            in db_metadefs.association_list(context, found['namespace'])]})

    def associate(self, request, namespace):
        context = wsgi.context_of(request)
        found = metadefs_namespaces.authorized(
            context, namespace, 'add_metadef_resource_type_association')
        body = metadefs_schemas.validate('resource_type',
                                         wsgi.read_json(request))
        associations = db_metadefs.association_create(
            context, found['namespace'], body)
        created, = [association for association in associations
                    if association['name'] == body['name']]
        return wsgi.json_response(
            metadefs_views.association_view(created), status=201)

    def dissociate(self, request, namespace, resource_type):
        context = wsgi.context_of(request)
        found = metadefs_namespaces.authorized(
            context, namespace, 'remove_metadef_resource_type_association')
        db_metadefs.association_delete(context, found['namespace'],
                                       wsgi.path_text(resource_type))
        return wsgi.no_content()
