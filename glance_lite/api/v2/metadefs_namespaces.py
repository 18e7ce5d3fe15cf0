"""/v2/metadefs/namespaces: the namespaces of the metadata catalogue.

A namespace the caller may not see (another project's private one) is
404 like a missing one; policy then decides what the caller may do with
one it sees (403). A protected namespace is deleted only after an
update sets ``protected`` to false. PUT replaces the namespace's own
fields as Glance does: an optional field left out of the body returns
to its default (no display name or description, private, unprotected);
the owner is kept unless given.
"""

from glance_lite.api.v2 import metadefs_schemas
from glance_lite.api.v2 import metadefs_views
from glance_lite.api import wsgi
from glance_lite.common import exception
from glance_lite.db import metadefs as db_metadefs
from glance_lite import policy

_SORT_DIRS = ('asc', 'desc')


def target(namespace):
    """What policy rules about a namespace may refer to."""
    return {'namespace': namespace['namespace'],
            'owner': namespace['owner'], 'project_id': namespace['owner'],
            'visibility': namespace['visibility']}


def authorized(context, name, action):
    """The namespace ``name`` if the caller sees it and may do ``action``.

    ``name`` is the URL's path variable, still as WSGI gives it.
    """
    namespace = db_metadefs.namespace_summary(context, wsgi.path_text(name))
    policy.authorize(context, action, target(namespace))
    return namespace


def _check_owner(context, owner):
    if owner != context.project_id and not context.is_admin:
        raise exception.Forbidden(
            reason='only an administrator may set the owner of a '
                   'namespace to another project')


def _list_params(request):
    visibility = request.GET.get('visibility')
    if visibility is not None and (
            visibility not in metadefs_schemas.VISIBILITIES):
        raise exception.BadRequest(
            reason='visibility must be public or private, not %r'
            % visibility)
    sort_dir = request.GET.get('sort_dir', 'desc')
    if sort_dir not in _SORT_DIRS:
        raise exception.BadRequest(
            reason='sort_dir must be asc or desc, not %r' % sort_dir)
    resource_types = [name.strip() for name in request.GET.get(
        'resource_types', '').split(',') if name.strip()]
    return {'visibility': visibility, 'resource_types': resource_types,
            'sort_key': request.GET.get('sort_key', 'created_at'),
            'sort_dir': sort_dir}


class NamespacesController:

    def __init__(self, services):
        self._conf = services.conf

    def index(self, request):
        context = wsgi.context_of(request)
        policy.authorize(context, 'get_metadef_namespaces', {})
        limit = wsgi.int_param(request, 'limit', minimum=0)
        if limit is None:
            limit = self._conf.limit_param_default
        limit = min(limit, self._conf.api_limit_max)
        marker = request.GET.get('marker')
        try:
            namespaces = db_metadefs.namespace_list(
                context, marker=marker, limit=limit, **_list_params(request))
        except exception.MetadefNamespaceNotFound:
            raise exception.BadRequest(
                reason='marker %s is not a namespace you can see' % marker
            ) from None
        body = {'namespaces': [metadefs_views.namespace_view(namespace)
                               for namespace in namespaces],
                'first': metadefs_views.NAMESPACES,
                'schema': metadefs_views.SCHEMAS + '/namespaces'}
        pages = [{'id': namespace['namespace']} for namespace in namespaces]
        next_link = wsgi.next_link(request, metadefs_views.NAMESPACES,
                                   pages, limit)
        if next_link:
            body['next'] = next_link
        return wsgi.json_response(body)

    def create(self, request):
        context = wsgi.context_of(request)
        body = metadefs_schemas.validate('namespace',
                                         wsgi.read_json(request))
        fields = metadefs_schemas.namespace_fields(body)
        fields['owner'] = body.get('owner', context.project_id)
        _check_owner(context, fields['owner'])
        policy.authorize(context, 'add_metadef_namespace', target(fields))
        contents, associations = metadefs_schemas.embedded(body)
        namespace = db_metadefs.namespace_create(
            context, fields, contents, associations)
        response = wsgi.json_response(
            metadefs_views.namespace_view(namespace), status=201)
        response.location = metadefs_views.namespace_url(fields['namespace'])
        return response

    def show(self, request, namespace):
        context = wsgi.context_of(request)
        found = db_metadefs.namespace_get(context, wsgi.path_text(namespace))
        policy.authorize(context, 'get_metadef_namespace', target(found))
        return wsgi.json_response(metadefs_views.namespace_view(found))

    def update(self, request, namespace):
        context = wsgi.context_of(request)
        current = authorized(context, namespace, 'modify_metadef_namespace')
        body = metadefs_schemas.validate('namespace',
                                         wsgi.read_json(request))
        fields = metadefs_schemas.namespace_fields(body)
        if 'owner' in body:
            _check_owner(context, body['owner'])
            fields['owner'] = body['owner']
        updated = db_metadefs.namespace_update(
            context, current['namespace'], fields)
        return wsgi.json_response(metadefs_views.namespace_view(updated))

    def delete(self, request, namespace):
        context = wsgi.context_of(request)
        current = authorized(context, namespace, 'delete_metadef_namespace')
        db_metadefs.namespace_delete(context, current['namespace'])
        return wsgi.no_content()
