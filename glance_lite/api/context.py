"""Who is calling: the RequestContext of each request.

``[DEFAULT] auth_strategy`` decides whom to believe:

``noauth``
    The identity headers (``X-User-Id``, ``X-Project-Id``, ``X-Roles``)
    are trusted as the client sends them. A request that carries none
    acts as the ``[noauth]`` user and project with the admin role, so
    that images created by a client that sends no identity still have
    an owner.

``keystone``
    keystonemiddleware's auth_token runs first: it removes identity
    headers sent by the client and sets them, with
    ``X-Identity-Status``, from the validated token. Only ``Confirmed``
    is accepted; anything else (auth_token with ``delay_auth_decision``
    passes requests without a valid token on) is refused with 401, never
    given a default identity.

paste.deploy hands factories nothing but strings, so the middleware
reads the strategy from the configuration ``load_app`` started this
process's services with.
"""

import webob.dec

from glance_lite.api import fault
from glance_lite.api import services
from glance_lite.common import context

ENVIRON_KEY = 'glance_lite.context'


def context_from_headers(request):
    """The context the identity headers describe, roles in lower case."""
    roles = [role.strip().lower() for role in
             request.headers.get('X-Roles', '').split(',') if role.strip()]
    return context.RequestContext.from_environ(
        request.environ, roles=roles, is_admin='admin' in roles,
        overwrite=False)


def _forward(request, ctx, application):
    # What this request's thread logs from here on names its caller.
    ctx.update_store()
    request.environ[ENVIRON_KEY] = ctx
    return request.get_response(application)


class NoAuthContextMiddleware:
    """Believes the identity headers; without any, acts as [noauth]."""

    def __init__(self, application, noauth):
        self.application = application
        self.user_id = noauth.user_id
        self.project_id = noauth.project_id

    @webob.dec.wsgify
    def __call__(self, request):
        ctx = context_from_headers(request)
        if not (ctx.user_id or ctx.project_id or ctx.roles):
            ctx = context.RequestContext.from_environ(
                request.environ, user_id=self.user_id,
                project_id=self.project_id, roles=['admin'], is_admin=True,
                overwrite=False)
        return _forward(request, ctx, self.application)


class KeystoneContextMiddleware:
    """Takes the identity auth_token confirmed; refuses any other request."""

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, request):
        if request.headers.get('X-Identity-Status') != 'Confirmed':
            return fault.error_response(
                401, 'This request needs a valid token in X-Auth-Token.')
        return _forward(request, context_from_headers(request),
                        self.application)


def middleware_for(conf):
    """The context middleware ``conf``'s auth_strategy calls for.

    Returns a callable taking the application to wrap.
    """
    if conf.auth_strategy == 'keystone':
        return KeystoneContextMiddleware
    return lambda application: NoAuthContextMiddleware(application,
                                                       conf.noauth)


def filter_factory(global_conf, **local_conf):
    return middleware_for(services.current().conf)
