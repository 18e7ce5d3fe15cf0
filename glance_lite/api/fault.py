"""Every error leaves the API as a JSON body with the right status.

glance-lite exceptions carry their HTTP status (``code``) and a message
naming the problem; webob's HTTP errors pass as they are; anything else
is a bug: it is logged with its traceback and the client gets a 500
that names the request id to look for in the log, never the traceback.

The wrapper also refuses, before anything routes or logs it, a URL path
that is not UTF-8 or holds a NUL character (``check_path``).
"""

from oslo_log import log as logging
import webob
import webob.dec
import webob.exc

from glance_lite.common import exception

LOG = logging.getLogger(__name__)


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
        except exception.GlanceLiteException as error:
            return error_response(error.code, str(error))
        except webob.exc.HTTPException as error:
            return error_response(error.code, error.detail or error.title)
        except Exception:
            request_id = request.environ.get('openstack.request_id')
            LOG.exception('Unexpected error in request %s %s (%s)',
                          request.method, request.path, request_id)
            return error_response(
                500, 'An unexpected error occurred; the service log has '
                'the details of request %s.' % request_id)


def filter_factory(global_conf, **local_conf):
    return FaultWrapper
