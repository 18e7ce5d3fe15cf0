"""The request body size limit, for everything but image data.

oslo.middleware's limiter caps every body at
``[oslo_middleware] max_request_body_size``; that is right for JSON
documents and wrong for image data, which the stores bound by
``image_size_cap`` instead. Image data is always sent as
``application/octet-stream`` and no JSON call accepts that type, so
such bodies pass the limiter here and every other body is capped.
"""

from oslo_log import log as logging
from oslo_middleware import sizelimit
import webob.dec
import webob.exc

from glance_lite.api import fault
from glance_lite.api import wsgi

LOG = logging.getLogger(__name__)


class JSONBodySizeLimiter(sizelimit.RequestBodySizeLimiter):

    @webob.dec.wsgify
    def __call__(self, request):
        if request.content_type == wsgi.OCTET_STREAM:
            return request.get_response(self.application)
        try:
            return super().__call__(request)
        except webob.exc.HTTPRequestEntityTooLarge:
            # oslo.middleware refuses a too long Content-Length with
            # webob's plain-text page, outside the fault wrapper; clients
            # get the JSON error every other refusal is.
            limit = self._conf_get('max_request_body_size')
            LOG.info('Refused a request body over [oslo_middleware] '
                     'max_request_body_size (%d bytes)', limit)
            return fault.error_response(
                413, 'The request body is larger than the %d bytes '
                'allowed.' % limit)
