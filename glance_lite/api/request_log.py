"""One access line per request, and one request id on all it logs.

The middleware sits right after oslo.middleware's RequestId, outside
the fault wrapper, so it sees the status every answer finally has,
errors included. On the way in it makes a context bearing only the
request id the current oslo.context context of the thread, so that
every line logged for the request, even before the caller is known,
names that id; the context middleware replaces it with the caller's
full context, same id. The access line is written when the server
closes the response body, which for a streamed download is when the
last byte has gone (or the client went away), with the bytes actually
sent.
"""

import time
import urllib.parse

from oslo_log import log as logging

from glance_lite.api import context as api_context
from glance_lite.common import context

LOG = logging.getLogger(__name__)


class _CountedBody:
    """A response body that counts what is sent and reports at close."""

    def __init__(self, body, on_close):
        self._body = body
        self._on_close = on_close
        self.sent = 0

    def __iter__(self):
        for chunk in self._body:
            self.sent += len(chunk)
            yield chunk

    def close(self):
        try:
            close = getattr(self._body, 'close', None)
            if close is not None:
                close()
        finally:
            self._on_close(self.sent)


class RequestLog:
    """Writes the access line of every request (see the module)."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        started = time.monotonic()
        bare = context.RequestContext(
            request_id=environ.get('openstack.request_id'),
            global_request_id=environ.get('openstack.global_request_id'))
        status = []

        def recording_start_response(status_line, headers, exc_info=None):
            status[:] = [status_line.split(' ', 1)[0]]
            return start_response(status_line, headers, exc_info)

        def log(sent):
            _log_access(environ.get(api_context.ENVIRON_KEY, bare), environ,
                        status[0] if status else '500', sent,
                        time.monotonic() - started)

        try:
            body = self.application(environ, recording_start_response)
        except Exception:
            log(0)
            raise
        return _CountedBody(body, log)


def _path_with_query(environ):
    """The path as the client sent it, percent-encoded, and its query.

    WSGI gives the path decoded, one character per byte; any byte sequence
    can arrive (the fault wrapper refuses what is not UTF-8), so it is
    encoded again rather than decoded as text.
    """
    path = urllib.parse.quote(
        (environ.get('SCRIPT_NAME', '') +
         environ.get('PATH_INFO', '')).encode('latin-1'),
        safe="/:@!$&'()*+,;=-._~")
    query = environ.get('QUERY_STRING')
    return '%s?%s' % (path, query) if query else path


def _log_access(ctx, environ, status, sent, seconds):
    LOG.info('%(client)s "%(method)s %(path)s" status: %(status)s len: '
             '%(sent)d time: %(seconds).3f',
             {'client': environ.get('REMOTE_ADDR'),
              'method': environ.get('REQUEST_METHOD'),
              'path': _path_with_query(environ), 'status': status,
              'sent': sent,
              'seconds': seconds},
             context=ctx)


def filter_factory(global_conf, **local_conf):
    return RequestLog
