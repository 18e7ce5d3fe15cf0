"""Objects, properties and tags: what a metadata namespace holds.

One controller serves the three kinds, which differ only in their
schema, policy rule names and how a list is shaped (properties are a
map by name, as in Glance). Each is addressed by name within its
namespace; PUT replaces one whole (and renames it when the body names
another), and nothing in a protected namespace can be deleted.

Tags have two ways of being created: one by the name in the URL, or a
list posted to /tags, which replaces the namespace's tags unless the
``X-OpenStack-Append`` header is true.
"""

from glance_lite.api.v2 import metadefs_namespaces
from glance_lite.api.v2 import metadefs_schemas
from glance_lite.api.v2 import metadefs_views
from glance_lite.api import wsgi
from glance_lite.common import exception
from glance_lite.db import metadefs as db_metadefs

APPEND_HEADER = 'X-OpenStack-Append'


def _append(request):
    value = request.headers.get(APPEND_HEADER, 'false').strip().lower()
    if value not in ('true', 'false'):
        raise exception.BadRequest(
            reason='the %s header must be true or false, not %r' % (
                APPEND_HEADER, value))
    return value == 'true'


class _Kind:
    """What tells objects, properties and tags apart."""

    def __init__(self, kind, plural, delete_rule, view, listing):
        self.kind = kind
        self.plural = plural
        self.delete_rule = delete_rule
        self.view = view
        self.listing = listing


def _property_listing(namespace, properties):
    return {prop['name']: metadefs_views.property_view(
        {key: value for key, value in prop.items() if key != 'name'})
        for prop in properties}


def _list_of(view):
    return lambda namespace, items: [view(namespace, item)
                                     for item in items]


KINDS = {
    'object': _Kind('object', 'objects', 'delete_metadef_object',
                    metadefs_views.object_view,
                    _list_of(metadefs_views.object_view)),
    'property': _Kind('property', 'properties', 'remove_metadef_property',
                      lambda namespace, prop:
                      metadefs_views.property_view(prop),
                      _property_listing),
    'tag': _Kind('tag', 'tags', 'delete_metadef_tag',
                 lambda namespace, tag: metadefs_views.named_view(tag),
                 _list_of(lambda namespace, tag:
                          metadefs_views.named_view(tag))),
}


class ContentsController:
    """The handlers of one kind of content."""

    def __init__(self, kind):
        self._kind = KINDS[kind]

    def _rule(self, verb, plural=False):
        return '%s_metadef_%s' % (
            verb, self._kind.plural if plural else self._kind.kind)

    def index(self, request, namespace):
        context = wsgi.context_of(request)
        found = metadefs_namespaces.authorized(
            context, namespace, self._rule('get', plural=True))
        items = db_metadefs.content_list(context, self._kind.kind,
                                         found['namespace'])
        return wsgi.json_response({
            self._kind.plural: self._kind.listing(found['namespace'], items),
            'schema': '%s/%s' % (metadefs_views.SCHEMAS, self._kind.plural)})

    def create(self, request, namespace):
        context = wsgi.context_of(request)
        found = metadefs_namespaces.authorized(context, namespace,
                                               self._rule('add'))
        body = metadefs_schemas.validate(self._kind.kind,
                                         wsgi.read_json(request))
        created, = db_metadefs.content_create(
            context, self._kind.kind, found['namespace'], [body])
        return wsgi.json_response(
            self._kind.view(found['namespace'], created), status=201)

    def show(self, request, namespace, name):
        context = wsgi.context_of(request)
        found = metadefs_namespaces.authorized(context, namespace,
                                               self._rule('get'))
        item = db_metadefs.content_get(context, self._kind.kind,
                                       found['namespace'],
                                       wsgi.path_text(name))
        return wsgi.json_response(self._kind.view(found['namespace'], item))

    def update(self, request, namespace, name):
        context = wsgi.context_of(request)
        found = metadefs_namespaces.authorized(context, namespace,
                                               self._rule('modify'))
        body = metadefs_schemas.validate(self._kind.kind,
                                         wsgi.read_json(request))
        item = db_metadefs.content_update(
            context, self._kind.kind, found['namespace'],
            wsgi.path_text(name), body)
        return wsgi.json_response(self._kind.view(found['namespace'], item))

    def delete(self, request, namespace, name):
        context = wsgi.context_of(request)
        found = metadefs_namespaces.authorized(context, namespace,
                                               self._kind.delete_rule)
        db_metadefs.content_delete(context, self._kind.kind,
                                   found['namespace'], wsgi.path_text(name))
        return wsgi.no_content()

    def delete_all(self, request, namespace):
        context = wsgi.context_of(request)
        rule = ('delete_metadef_tags' if self._kind.kind == 'tag'
                else self._kind.delete_rule)
        found = metadefs_namespaces.authorized(context, namespace, rule)
        db_metadefs.content_delete(context, self._kind.kind,
                                   found['namespace'])
        return wsgi.no_content()


class TagsController(ContentsController):
    """Tags are also created by name alone, or many from a list."""

    def __init__(self):
        super().__init__('tag')

    def create_by_name(self, request, namespace, name):
        context = wsgi.context_of(request)
        found = metadefs_namespaces.authorized(context, namespace,
                                               'add_metadef_tag')
        body = metadefs_schemas.validate('tag',
                                         {'name': wsgi.path_text(name)})
        created, = db_metadefs.content_create(context, 'tag',
                                              found['namespace'], [body])
        return wsgi.json_response(metadefs_views.named_view(created),
                                  status=201)

    def create_many(self, request, namespace):
        context = wsgi.context_of(request)
        found = metadefs_namespaces.authorized(context, namespace,
                                               'add_metadef_tags')
        body = metadefs_schemas.validate('tags', wsgi.read_json(request))
        if 'tags' not in body:
            raise exception.BadRequest(
                reason='the body needs "tags": a list of {"name": ...}')
        tags = body['tags']
        metadefs_schemas.check_unique('tag',
                                         [tag['name'] for tag in tags])
        created = db_metadefs.content_create(
            context, 'tag', found['namespace'], tags,
            replace=not _append(request))
        return wsgi.json_response(
            {'tags': [metadefs_views.named_view(tag) for tag in created]},
            status=201)
