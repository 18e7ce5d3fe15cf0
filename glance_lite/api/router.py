"""URL routing: from method and path to the function that answers.

Each route names a handler taking the webob request and the URL's
variables. A known path with another method is 405 with an Allow
header; an unknown path is 404.
"""

import routes
import webob.dec

from glance_lite.api import fault
from glance_lite.api import versions


def _routes():
    """(path, {method: handler}) of every API resource."""
    return [
        ('/', {'GET': versions.root}),
        ('/versions', {'GET': versions.list_versions}),
    ]


class Router:

    def __init__(self):
        self._mapper = routes.Mapper()
        self._handlers = {}
        for path, handlers in _routes():
            self._mapper.connect(path, path)
            self._handlers[path] = handlers

    @webob.dec.wsgify
    def __call__(self, request):
        match = self._mapper.routematch(environ=request.environ)
        if match is None:
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
        return handler(request, **variables)


def app_factory(global_conf, **local_conf):
    return Router()
