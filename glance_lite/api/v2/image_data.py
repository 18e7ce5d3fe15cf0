"""/v2/images/{id}/file and /stage: image data in and out.

Data is streamed in both directions, one store chunk at a time, so a
worker's memory does not grow with the image. Uploads and staging take
``application/octet-stream`` only, and are bounded by the stores' size
cap rather than by the JSON body size limit.
"""

import webob
import webob.request

from glance_lite.api import fault
from glance_lite.api.v2 import access
from glance_lite.api.v2 import views
from glance_lite.api import wsgi
from glance_lite.common import exception

# The store an upload goes to, as python-glanceclient names it.
STORE_HEADER = 'X-Image-Meta-Store'


class _RequestBody:
    """The request body as a store reads it.

    When a client stops sending before its Content-Length, webob raises
    DisconnectionError, an OSError, which a store takes for a failure of
    its own (503, "store unavailable"); here it is the client's (400).
    """

    # What iterating over it yields at a time, for stores that iterate.
    CHUNK_SIZE = 65536

    def __init__(self, request):
        self._body = request.body_file

    def read(self, size=-1):
        try:
            return self._body.read(size)
        except webob.request.DisconnectionError as error:
            raise exception.BadRequest(reason=str(error)) from None

    def __iter__(self):
        return iter(lambda: self.read(self.CHUNK_SIZE), b'')


def _satisfiable_range(byte_range, size):
    """(first, end) bytes of a ``size``-byte image to send, or None (416).

    webob refuses a suffix range longer than the data (``bytes=-5000``
    of 4000 bytes); RFC 9110 (14.1.2) says it means the whole data.
    """
    if byte_range.end is None and byte_range.start < 0:
        return (max(0, size + byte_range.start), size) if size else None
    return byte_range.range_for_length(size)


class ImageDataController:

    def __init__(self, services):
        self.services = services

    def _writable_image(self, request, image_id):
        wsgi.require_content_type(request, wsgi.OCTET_STREAM)
        context = wsgi.context_of(request)
        image = access.visible_image(context, image_id)
        access.authorize_image(context, 'upload_image', image)
        return context

    def stage(self, request, image_id):
        context = self._writable_image(request, image_id)
        self.services.imports.stage(context, image_id, _RequestBody(request),
                                    size=request.content_length)
        return wsgi.no_content()

    def upload(self, request, image_id):
        context = self._writable_image(request, image_id)
        store = request.headers.get(STORE_HEADER)
        if store is not None and store not in (
                self.services.stores.enabled_stores):
            raise exception.UnknownStore(
                store=store,
                enabled=', '.join(self.services.stores.enabled_stores))
        self.services.imports.upload(context, image_id,
                                     _RequestBody(request), store=store,
                                     size=request.content_length)
        return wsgi.no_content()

    def download(self, request, image_id):
        context = wsgi.context_of(request)
        image = access.visible_image(context, image_id)
        access.authorize_image(context, 'download_image', image)
        if image['status'] == 'deactivated' and not context.is_admin:
            raise exception.ImageDeactivated(image_id=image_id)
        stores = views.image_stores(image)
        if not stores or image['status'] not in ('active', 'deactivated'):
            return wsgi.no_content()
        size = image['size']
        response = webob.Response(content_type=wsgi.OCTET_STREAM,
                                  charset=None)
        offset, length = 0, size
        if request.range is not None:
            byte_range = _satisfiable_range(request.range, size)
            if byte_range is None:
                response = fault.error_response(
                    416, 'Range %s is outside the %d bytes of image %s.'
                    % (request.headers.get('Range'), size, image_id))
                response.headers['Content-Range'] = 'bytes */%d' % size
                return response
            offset, end = byte_range
            length = end - offset
            response.status = 206
            response.content_range = (offset, end, size)
        else:
            response.headers['Content-MD5'] = image['checksum']
        response.app_iter = self._read(image, stores, offset, length)
        response.content_length = length
        return response

    def _read(self, image, stores, offset, length):
        """The data from the first store that can give it."""
        locations = {location['store']: location['url']
                     for location in image['locations']}
        failures = []
        for store in stores:
            try:
                return self.services.stores.get(store).get(
                    locations[store], offset=offset, length=length)
            except exception.StoreError as error:
                failures.append(error.detail)
        raise exception.BackendUnavailable(
            store=','.join(stores), reason='no store could read image %s: '
            '%s' % (image['id'], '; '.join(failures)))
