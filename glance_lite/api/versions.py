"""Version discovery: which Image API versions this service speaks.

Clients and Tempest decide which features to use or test by the
versions listed (``has_version('2.14')`` means the cache API, for
example), so only versions whose features glance-lite serves are
listed: up to v2.12 (image tasks). Later minor versions add the image
cache (2.14) and location (2.17) calls, which glance-lite does not have.
"""

import webob

CURRENT = 'v2.12'
SUPPORTED = ['v2.%d' % minor for minor in range(12)]


def version_document(request):
    link = {'rel': 'self', 'href': request.host_url + '/v2/'}
    versions = [{'id': CURRENT, 'status': 'CURRENT', 'links': [link]}]
    versions += [{'id': version, 'status': 'SUPPORTED', 'links': [link]}
                 for version in reversed(SUPPORTED)]
    return {'versions': versions}


def list_versions(request):
    """GET /versions: the version document."""
    return webob.Response(json_body=version_document(request))


def root(request):
    """GET / and /v2/: the same document, as Multiple Choices (as Glance)."""
    return webob.Response(status=300, json_body=version_document(request))
