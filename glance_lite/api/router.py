"""URL routing: from method and path to the function that answers.

Each route names a handler taking the webob request and the URL's
variables. A known path with another method is 405 with an Allow
header; an unknown path is 404. Query strings are checked here once,
so no handler sees one that is not UTF-8 or carries NUL characters.
"""

import routes
import webob.dec

from glance_lite.api import fault
from glance_lite.api import openapi
from glance_lite.api import services
from glance_lite.api.v2 import image_actions
from glance_lite.api.v2 import image_data
from glance_lite.api.v2 import images
from glance_lite.api.v2 import imports
from glance_lite.api.v2 import members
from glance_lite.api.v2 import metadefs_routes
from glance_lite.api.v2 import metadefs_schemas
from glance_lite.api.v2 import schemas
from glance_lite.api.v2 import stores
from glance_lite.api.v2 import tasks
from glance_lite.api import versions
from glance_lite.common import exception

_IMAGE = '/v2/images/{image_id}'
# The schema routes, and the names each serves (any other is 404).
_SCHEMA_ROUTES = {'/v2/schemas/{name}': schemas.SCHEMAS,
                  '/v2/schemas/metadefs/{name}': metadefs_schemas.SCHEMAS}


def _routes(worker):
    """(path, {method: handler}) of every API resource."""
    image_api = images.ImagesController(worker)
    data = image_data.ImageDataController(worker)
    importer = imports.ImportController(worker)
    info = imports.InfoController(worker)
    sharing = members.MembersController()
    task_api = tasks.TasksController(worker)
    actions = image_actions.ImageActionsController()
    return [
        ('/', {'GET': versions.root}),
        ('/versions', {'GET': versions.list_versions}),
        ('/v2/', {'GET': versions.root}),
        ('/openapi.json', {'GET': openapi.show}),
        ('/v2/schemas/{name}', {'GET': schemas.SchemasController().show}),
        ('/v2/schemas/metadefs/{name}',
         {'GET': schemas.SchemasController().show_metadef}),
        ('/v2/images', {'GET': image_api.index, 'POST': image_api.create}),
        (_IMAGE, {'GET': image_api.show, 'PATCH': image_api.update,
                  'DELETE': image_api.delete}),
        (_IMAGE + '/file', {'GET': data.download, 'PUT': data.upload}),
        (_IMAGE + '/stage', {'PUT': data.stage}),
        (_IMAGE + '/import', {'POST': importer.import_image}),
        (_IMAGE + '/actions/deactivate', {'POST': actions.deactivate}),
        (_IMAGE + '/actions/reactivate', {'POST': actions.reactivate}),
        (_IMAGE + '/tags/{tag}', {'PUT': image_api.add_tag,
                                  'DELETE': image_api.delete_tag}),
        (_IMAGE + '/members', {'GET': sharing.index,
                               'POST': sharing.create}),
        (_IMAGE + '/members/{member}', {'GET': sharing.show,
                                        'PUT': sharing.update,
                                        'DELETE': sharing.delete}),
        (_IMAGE + '/tasks', {'GET': task_api.image_tasks}),
        ('/v2/tasks', {'GET': task_api.index, 'POST': task_api.create}),
        ('/v2/tasks/{task_id}', {'GET': task_api.show}),
        ('/v2/info/import', {'GET': info.import_methods}),
        ('/v2/info/stores', {'GET': info.stores}),
        ('/v2/info/stores/detail', {'GET': info.stores_detail}),
        ('/v2/stores/{store_id}/{image_id}',
         {'DELETE': stores.StoresController(worker).delete_from_store}),
    ] + metadefs_routes.routes(worker)


def _check_query(request):
    try:
        parameters = list(request.GET.items())
    except UnicodeDecodeError:
        raise exception.BadRequest(
            reason='the query string is not UTF-8') from None
    for name, value in parameters:
        if '\x00' in name or '\x00' in value:
            raise exception.BadRequest(
                reason='query parameter %r contains a NUL character'
                % name.replace('\x00', ''))


class Router:

    def __init__(self, worker):
        self._mapper = routes.Mapper()
        self._handlers = {}
        for path, handlers in _routes(worker):
            self._mapper.connect(path, path)
            self._handlers[path] = handlers

    @webob.dec.wsgify
    def __call__(self, request):
        match = self._mapper.routematch(environ=request.environ)
        if match is None or (
                match[1].name in _SCHEMA_ROUTES
                and match[0]['name'] not in _SCHEMA_ROUTES[match[1].name]):
            return fault.error_response(
                404, 'No resource at %s.' % request.path)
        variables, route = match
        handlers = self._handlers[route.name]
        handler = handlers.get(request.method)
        if handler is None:
            allowed = ', '.join(sorted(handlers))
            response = fault.error_response(
                405, '%s is not allowed on %s; allowed: %s.' % (
                    request.method, request.path, allowed))
            response.headers['Allow'] = allowed
            return response
        _check_query(request)
        return handler(request, **variables)


def app_factory(global_conf, **local_conf):
    return Router(services.current())
