"""Version discovery: which Image API versions this service speaks."""

import webob

# Glance's v2 minor versions; glance-lite serves the newest.
CURRENT = 'v2.16'
SUPPORTED = ['v2.%d' % minor for minor in range(16)]


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
    """GET /: the same document, as Multiple Choices (Glance does so)."""
    return webob.Response(status=300, json_body=version_document(request))
