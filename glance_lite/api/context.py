"""Who is calling: a RequestContext built from the identity headers.

With ``auth_strategy = noauth`` the headers are trusted as sent
(``X-User-Id``, ``X-Project-Id``, ``X-Roles``); a request that carries
none of them acts as an administrator without a project, as Glance's
unauthenticated context does. Behind keystonemiddleware the same
headers are set from a validated token.
"""

import webob.dec

from glance_lite.common import context

ENVIRON_KEY = 'glance_lite.context'


def context_from_headers(request):
    user_id = request.headers.get('X-User-Id')
    project_id = (request.headers.get('X-Project-Id') or
                  request.headers.get('X-Tenant-Id'))
    roles = [role.strip().lower() for role in
             request.headers.get('X-Roles', '').split(',') if role.strip()]
    request_id = request.environ.get('openstack.request_id')
    if not (user_id or project_id or roles):
        return context.RequestContext(is_admin=True, roles=['admin'],
                                      request_id=request_id,
                                      overwrite=False)
    return context.RequestContext(user_id=user_id, project_id=project_id,
                                  roles=roles, is_admin='admin' in roles,
                                  request_id=request_id, overwrite=False)


class ContextMiddleware:

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, request):
        request.environ[ENVIRON_KEY] = context_from_headers(request)
        return request.get_response(self.application)


def filter_factory(global_conf, **local_conf):
    return ContextMiddleware
