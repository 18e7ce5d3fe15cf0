"""Every error leaves the API as a JSON body with the right status.

glance-lite exceptions carry their HTTP status (``code``) and a message
naming the problem; webob's HTTP errors pass as they are; anything else
is a bug: it is logged with its traceback and the client gets a 500
that names the request id to look for in the log, never the traceback.
"""

from oslo_log import log as logging
import webob
import webob.dec
import webob.exc

from glance_lite.common import exception

LOG = logging.getLogger(__name__)


def error_response(status, message):
    """A response in the shape Glance's clients parse for errors."""
    title = webob.exc.status_map[status].title
    return webob.Response(status=status, json_body={
        'code': '%d %s' % (status, title), 'title': title,
        'message': message})


class FaultWrapper:

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, request):
        try:
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
