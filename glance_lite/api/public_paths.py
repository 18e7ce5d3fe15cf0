"""Paths answered without identity: version discovery.

Clients discover the API (``GET /``, ``GET /versions``) before they
have a token, and keystoneauth's discovery does so without one, as
Glance allows. Under ``auth_strategy = keystone`` these exact paths go
to a pipeline without auth_token and the context middleware; every
other path, ``/v2/`` included, still needs a valid token.

A paste composite (``public_paths_factory``) does the split, so the
router stays the only place that knows what each path answers.
"""

import webob.dec

PATHS = ('/', '/versions')


class PublicPathsDispatcher:
    """Sends ``PATHS`` to ``public``, everything else to ``default``."""

    def __init__(self, public, default):
        self.public = public
        self.default = default

    @webob.dec.wsgify
    def __call__(self, request):
        if request.path_info in PATHS:
            return request.get_response(self.public)
        return request.get_response(self.default)


def public_paths_factory(loader, global_conf, public, default):
    return PublicPathsDispatcher(loader.get_app(public, global_conf),
                                 loader.get_app(default, global_conf))
