"""Small helpers every API handler shares: bodies in, JSON out.

They keep the handlers about the resource: reading the caller's
context, refusing a body of the wrong media type or shape with a
message that names the problem, and parsing query parameters.
"""

import json
import urllib.parse

import jsonschema
import webob

from glance_lite.api import context as api_context
from glance_lite.common import exception

JSON = 'application/json'
OCTET_STREAM = 'application/octet-stream'


def context_of(request):
    """The RequestContext the context middleware built for this request."""
    return request.environ[api_context.ENVIRON_KEY]


def require_content_type(request, *supported):
    """415 unless the request's media type is one of ``supported``."""
    if request.content_type not in supported:
        raise exception.UnsupportedMediaType(
            given=request.content_type or '(none)',
            supported=' or '.join(supported))


# No request body of the Image API nests arrays and objects more than
# three deep; deeper ones are refused before anything walks them.
MAX_JSON_DEPTH = 32


def read_json(request, expected_type=dict, media_types=(JSON,)):
    """The request's JSON body, which must be an ``expected_type``."""
    require_content_type(request, *media_types)
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as error:
        raise exception.BadRequest(
            reason='the body is not valid JSON: %s' % error) from None
    except RecursionError:
        # json's parser recurses once per level of nesting.
        raise exception.BadRequest(
            reason='the body nests JSON arrays and objects more than %d '
                   'deep' % MAX_JSON_DEPTH) from None
    if not isinstance(body, expected_type):
        raise exception.BadRequest(
            reason='the body must be a JSON %s' % (
                'object' if expected_type is dict else 'array'))
    _check_storable(body)
    return body


def check_body(validator, body, what):
    """400 naming where ``body`` first breaks ``validator``'s schema.

    ``what`` names the body in the message ("import request").
    """
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        where = '/'.join(str(part) for part in error.absolute_path)
        raise exception.BadRequest(
            reason='invalid %s%s: %s' % (what, ' at ' + where if where
                                         else '', error.message))


def _check_storable(body):
    """400 for a body no handler should walk or database column hold.

    JSON may carry NUL characters and lone UTF-16 surrogates, in values
    and in member names; PostgreSQL refuses the first and no UTF-8
    column can hold the second, so they are refused here with a clear
    message rather than by the database. Each string is checked itself:
    serialized again, a NUL would be escaped as ``\\u0000`` and pass.
    Nesting is bounded too, so that validating or echoing the body
    cannot exhaust the stack; the walk is iterative for the same reason.
    """
    pending = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_text(value)
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise exception.BadRequest(
                reason='the body nests JSON arrays and objects more than '
                       '%d deep' % MAX_JSON_DEPTH)
        if isinstance(value, dict):
            for name in value:
                _check_text(name)
            value = value.values()
        pending.extend((child, depth + 1) for child in value)


def _check_text(text):
    if '\x00' in text:
        raise exception.BadRequest(
            reason='the body must not contain NUL characters')
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        raise exception.BadRequest(
            reason='the body contains text that is not valid Unicode '
                   '(a lone surrogate)') from None


def path_text(value):
    """A URL path variable as the text the client percent-encoded.

    The router hands over path variables as WSGI gives the path: one
    latin-1 character per byte. Clients encode text as UTF-8, so a tag
    or member name sent as ``caf%C3%A9`` is ``café`` only once decoded
    again; otherwise it would be stored and compared as ``cafÃ©``.
    """
    try:
        return value.encode('latin-1').decode('utf-8')
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise exception.BadRequest(
            reason='the URL path is not UTF-8') from None


def json_response(body, status=200, headers=None):
    response = webob.Response(status=status, json_body=body)
    if headers:
        response.headers.update(headers)
    return response


def no_content(status=204):
    return webob.Response(status=status)


def next_link(request, path, page, limit):
    """The link to the page after ``page``, or None on the last page.

    A full page may have a successor; an empty one (``limit=0`` asks for
    one) has no last item to continue from, so it has no next link. The
    request's other parameters (filters, sort) carry over.
    """
    if not page or len(page) < limit:
        return None
    params = [(name, value) for name, value in request.GET.items()
              if name != 'marker']
    params.append(('marker', page[-1]['id']))
    return '%s?%s' % (path, urllib.parse.urlencode(params))


def int_param(request, name, minimum=0, maximum=None):
    """Query parameter ``name`` as an int within bounds, or None."""
    raw = request.GET.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise exception.BadRequest(
            reason='%s must be an integer, not %r' % (name, raw)) from None
    if value < minimum or (maximum is not None and value > maximum):
        raise exception.BadRequest(
            reason='%s must be between %s and %s, not %d' % (
                name, minimum, maximum if maximum is not None else 'any',
                value))
    return value


def bool_param(request, name):
    """Query parameter ``name`` as a bool, or None if absent."""
    raw = request.GET.get(name)
    if raw is None:
        return None
    lowered = raw.lower()
    if lowered in ('true', '1', 'yes', 'on'):
        return True
    if lowered in ('false', '0', 'no', 'off'):
        return False
    raise exception.BadRequest(
        reason='%s must be true or false, not %r' % (name, raw))
