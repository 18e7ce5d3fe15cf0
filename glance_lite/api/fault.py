"""Every error leaves the API as a JSON body with the right status.

glance-lite exceptions carry their HTTP status (``code``) and a message
naming the problem; webob's HTTP errors pass as they are; anything else
is a bug: it is logged with its traceback and the client gets a 500
that names the request id to look for in the log, never the traceback.

A database that is down, restarting or deadlocked is not a bug: the
request is answered 503 with ``Retry-After`` and a plain message, and
logged once at WARNING with its request id (an outage would otherwise
write a traceback per request). Every database call of a request fails
fast (only the import pipeline retries), so clients are told at once.

The wrapper also refuses, before anything routes or logs it, a URL path
that is not UTF-8 or holds a NUL character (``check_path``).
"""

from oslo_log import log as logging
import webob
import webob.dec
import webob.exc

from glance_lite.common import exception

LOG = logging.getLogger(__name__)

# Seconds a client is asked to wait after a 503 for a database outage:
# long enough for a database restart or fail-over to be under way, short
# enough that a client retrying by it soon finds the service back.
DATABASE_RETRY_AFTER = 5
DATABASE_UNAVAILABLE_MESSAGE = ("The image service's database is "
                                "unavailable; retry later.")


def error_response(status, message):
    """A response in the shape OpenStack's clients parse for errors.

    The message sits in an object under one key, as keystonemiddleware
    answers too: python-glanceclient and openstacksdk both look for
    ``message`` in each top-level value of a JSON error body.
    """
    title = webob.exc.status_map[status].title
    return webob.Response(status=status, json_body={'error': {
        'code': status, 'title': title, 'message': message}})


def check_path(request):
    """BadRequest for a URL path no resource can have.

    Paths are percent-encoded UTF-8. One that is not cannot name an
    image, tag or member, and webob cannot even decode it to name it in
    a 404; one with a NUL character would carry it into the database as
    a tag or member name, which PostgreSQL refuses. Both are refused
    here, before routing, as the router refuses such query strings.
    """
    try:
        path = request.script_name + request.path_info
    except UnicodeDecodeError:
        raise exception.BadRequest(
            reason='the URL path is not UTF-8') from None
    if '\x00' in path:
        raise exception.BadRequest(
            reason='the URL path contains a NUL character')


class FaultWrapper:
    """Turns every error into a JSON answer; refuses unusable paths."""

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, request):
        try:
            check_path(request)
            return request.get_response(self.application)
        except exception.DatabaseTransientError as error:
            # The line's context names the request id (request_log).
            LOG.warning('Database unavailable for request %s %s: %s',
                        request.method, request.path, error.detail)
            response = error_response(503, DATABASE_UNAVAILABLE_MESSAGE)
            response.retry_after = DATABASE_RETRY_AFTER
            return response
        except exception.GlanceLiteException as error:
            if error.detail != str(error):
                # The client was told a plain reason; the operator gets
                # the option, path or database error behind it.
                LOG.info('%s %s answered %d: %s', request.method,
                         request.path, error.code, error.detail)
            return error_response(error.code, str(error))
        except webob.exc.HTTPException as error:
            return error_response(error.code, error.detail or error.title)
        except Exception:
            # The log line's context (glance_lite.api.request_log)
            # names the request id the client is given.
            request_id = request.environ.get('openstack.request_id')
            LOG.exception('Unexpected error in %s %s', request.method,
                          request.path)
            return error_response(
                500, 'An unexpected error occurred; the service log has '
                'the details of request %s.' % request_id)


def filter_factory(global_conf, **local_conf):
    return FaultWrapper
