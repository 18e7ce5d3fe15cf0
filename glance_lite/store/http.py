"""Read image data from web servers, only where operators allow it.

web-download and the read-only ``http`` store fetch URLs that users
choose, from inside the cloud. Unchecked, such a URL could make the
service read a metadata endpoint, a database on the private network or
a port on localhost (server-side request forgery). So:

* every URL, and every redirect target, must pass
  ``[import_filtering_opts]`` (``check_url``);
* every address its host resolves to must be public, unless the
  operator lists the host in ``allowed_hosts`` (``check_addresses``);
* a web-download request is refused at once for what can be known
  then: the URL, and the addresses its host resolves to within
  ``connect_timeout`` (``check_request_url``);
* the connection goes to the addresses that were checked, not to a
  fresh DNS answer, so DNS rebinding cannot redirect it
  (``_PinnedConnection``).

A refusal tells the user a plain reason; the option that refused the
URL is in ``UrlRefused.detail``, for the log.

The stdlib ``http.client`` is used because a connection subclass can
choose its socket while TLS still verifies the certificate against the
host name, and because it never reads proxy settings from the
environment (a proxy would connect on its own and undo the pinning).
"""

import collections
from concurrent import futures
import contextlib
import http.client
import ipaddress
import socket
import ssl
import urllib.parse

from oslo_log import log as logging

from glance_lite.common import exception
from glance_lite.store import driver

LOG = logging.getLogger(__name__)

STORE_TYPE = 'http'

_DEFAULT_PORTS = {'http': 80, 'https': 443}
_REDIRECT_STATUSES = frozenset([301, 302, 303, 307, 308])
_HEADERS = {'User-Agent': 'glance-lite'}
_FILTERS = '[import_filtering_opts]'
_POLICY = "this cloud's import policy"

# Host names looked up while a request waits. getaddrinfo cannot be
# given a timeout, so a lookup runs in one of these threads and the
# request stops waiting after connect_timeout; a few slow resolvers
# then hold threads here, never request threads.
_resolvers = futures.ThreadPoolExecutor(max_workers=4,
                                        thread_name_prefix='url-resolve')

# Kinds of address a URL may reach only if its host is in allowed_hosts,
# most specific first so the refusal names the kind that matters.
_NON_PUBLIC_KINDS = (
    ('unspecified', 'is_unspecified'),
    ('loopback', 'is_loopback'),
    ('link-local', 'is_link_local'),
    ('multicast', 'is_multicast'),
    ('private', 'is_private'),
    ('reserved', 'is_reserved'),
    ('site-local', 'is_site_local'),
)

Target = collections.namedtuple(
    'Target', ['url', 'scheme', 'host', 'port', 'path'])
Target.__doc__ = """A URL that passed ``check_url``, split for connecting.

host: the host name (lower case) or IP, without brackets; port: the
URL's or the scheme's; path: the request target (path and query).
"""


def address_kind(address):
    """Name the kind of non-public address ``address`` is; None if public.

    An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) is judged by the
    IPv4 address it reaches. Addresses in none of the named kinds but
    still not globally routable (carrier-grade NAT space, where some
    clouds put their metadata service) are "non-global".
    """
    ip = ipaddress.ip_address(address)
    ip = getattr(ip, 'ipv4_mapped', None) or ip
    for kind, attribute in _NON_PUBLIC_KINDS:
        if getattr(ip, attribute, False):
            return kind
    return None if ip.is_global else 'non-global'


def _host_key(host):
    """The form hosts are compared in, so spelling cannot dodge a filter.

    An IP address becomes its canonical text (IPv4-mapped IPv6 becomes
    IPv4); a name becomes lower case without a trailing dot.
    """
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host.lower().rstrip('.')
    return str(getattr(ip, 'ipv4_mapped', None) or ip)


def _apply_filter(url, what, value, allowed, disallowed):
    """Refuse ``value`` by one allowed/disallowed pair of options.

    As in Glance, a non-empty allowed list wins: only its values pass
    and the disallowed list is not consulted.
    """
    if allowed:
        if value not in allowed:
            raise exception.UrlRefused(
                url=url, reason='its %s is not allowed by %s' % (
                    what, _POLICY),
                rule='%s %s is not in %s allowed_%ss' % (
                    what, value, _FILTERS, what))
    elif value in disallowed:
        raise exception.UrlRefused(
            url=url, reason='its %s is not allowed by %s' % (what, _POLICY),
            rule='%s %s is in %s disallowed_%ss' % (
                what, value, _FILTERS, what))


def check_url(conf, url):
    """Split ``url`` into a Target, or refuse it by [import_filtering_opts].

    Only the text of the URL is judged; nothing is resolved or opened.
    Every URL and every redirect target passes this check first.
    """
    filters = conf.import_filtering_opts
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        reason = 'it is not a valid URL (%s)' % exc
        raise exception.UrlRefused(url=url, reason=reason,
                                   rule=reason) from exc
    _apply_filter(url, 'scheme', parts.scheme, filters.allowed_schemes,
                  filters.disallowed_schemes)
    if parts.scheme not in _DEFAULT_PORTS:
        reason = ('scheme %s cannot be fetched; only http and https can'
                  % parts.scheme)
        raise exception.UrlRefused(url=url, reason=reason, rule=reason)
    host = parts.hostname
    if not host:
        raise exception.UrlRefused(url=url, reason='it names no host',
                                   rule='it names no host')
    try:
        # getaddrinfo encodes a non-ASCII name so; refuse one it could
        # not encode here, rather than let a UnicodeError escape there.
        host.encode('idna')
    except UnicodeError:
        reason = 'host %s is not a valid host name' % host
        raise exception.UrlRefused(url=url, reason=reason,
                                   rule=reason) from None
    _apply_filter(url, 'host', _host_key(host),
                  [_host_key(h) for h in filters.allowed_hosts],
                  [_host_key(h) for h in filters.disallowed_hosts])
    if port is None:
        port = _DEFAULT_PORTS[parts.scheme]
    _apply_filter(url, 'port', port, filters.allowed_ports,
                  filters.disallowed_ports)
    path = urllib.parse.urlunsplit(
        ('', '', parts.path or '/', parts.query, ''))
    return Target(url, parts.scheme, host, port, path)


def check_addresses(conf, target, addresses):
    """Refuse ``target`` if any address its host resolved to is not public.

    One non-public answer is enough: the connection may be made to any
    of them. An operator opts a host in (a mirror on the private
    network, say) by listing it in allowed_hosts.
    """
    allowed = [_host_key(h)
               for h in conf.import_filtering_opts.allowed_hosts]
    if _host_key(target.host) in allowed:
        return
    for address in addresses:
        kind = address_kind(address)
        if kind is not None:
            raise exception.UrlRefused(
                url=target.url,
                reason='its host resolves to %s %s address, which %s '
                       'does not allow' % ('an' if kind[0] in 'aeiou'
                                           else 'a', kind, _POLICY),
                rule='host %s resolves to %s address %s; list the host in '
                     '%s allowed_hosts to allow it' % (
                         target.host, kind, address, _FILTERS))


def _lookup(host, port):
    """The distinct addresses ``host`` resolves to, in DNS order."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(answer[4][0] for answer in answers))


def check_request_url(conf, url):
    """Refuse, while the user waits, a URL that could never be fetched.

    The URL passes ``check_url``, then its host is resolved, waiting at
    most ``[web_download] connect_timeout``, and ``check_addresses``
    judges the answer: a literal loopback or link-local address, or a
    name that resolves to one, is refused now rather than by the task
    later. A host that does not resolve in time (or at all) is left to
    the download, which resolves and checks it again when it connects,
    as it does for every redirect.
    """
    target = check_url(conf, url)
    lookup = _resolvers.submit(_lookup, target.host, target.port)
    try:
        addresses = lookup.result(conf.web_download.connect_timeout)
    except (OSError, UnicodeError, futures.TimeoutError) as exc:
        LOG.debug('Host %s of %s not resolved while accepting the '
                  'import (%s); it is checked again when fetched',
                  target.host, url, str(exc) or type(exc).__name__)
        return target
    check_addresses(conf, target, addresses)
    return target


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to checked addresses, not to what DNS says now.

    http.client still names the server by ``host``: in the Host header
    and, for https, in SNI and the certificate's host name check. Only
    the socket goes to the pinned addresses.
    """

    def __init__(self, target, addresses, options):
        super().__init__(target.host, target.port)
        # http.client leaves the port out of the Host header when it is
        # this one; make that the scheme's port, not always 80.
        self.default_port = _DEFAULT_PORTS[target.scheme]
        self._addresses = addresses
        self._options = options
        self._tls = None
        if target.scheme == 'https':
            self._tls = ssl.create_default_context()

    def connect(self):
        """Connect and shake hands within connect_timeout, then read."""
        sock = self._connect_first()
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        sock.settimeout(self._options.read_timeout)
        self.sock = sock

    def _connect_first(self):
        """A socket to the first pinned address that accepts, in DNS order.

        The addresses are literal IPs, so no name is resolved here.
        """
        error = None
        for address in self._addresses:
            try:
                return socket.create_connection(
                    (address, self.port),
                    timeout=self._options.connect_timeout)
            except OSError as exc:
                error = exc
        raise error

    def getresponse(self):
        """The response, made sole owner of the socket.

        The response reads through its own file object, which keeps the
        socket open until the response is closed; dropping the
        connection's reference means closing the response frees it.
        """
        response = super().getresponse()
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        return response


class _Client:
    """Sends checked requests for one store; ``store`` names it in errors."""

    def __init__(self, conf, store):
        self.conf = conf
        self.store = store
        self.options = conf.web_download

    @contextlib.contextmanager
    def errors(self, action):
        """Report a network failure during ``action`` as BackendUnavailable.

        Timeouts are OSErrors too, so they are reported here as well.
        """
        try:
            yield
        except (OSError, http.client.HTTPException) as exc:
            raise exception.RemoteUnavailable(
                store=self.store, reason='%s failed: %s' % (
                    action, str(exc) or type(exc).__name__)) from exc

    def request(self, url, method, headers=None):
        """Send ``method`` to ``url``, following redirects.

        Returns the Target that answered and its non-redirect response.
        """
        redirects = 0
        while True:
            target = check_url(self.conf, url)
            response = self._send(target, method, headers or {})
            if response.status not in _REDIRECT_STATUSES:
                return target, response
            location = response.getheader('Location')
            response.close()
            redirects += 1
            if redirects > self.options.max_redirects:
                raise exception.UrlRefused(
                    url=url, reason='it redirects too many times',
                    rule='redirect %d exceeds [web_download] max_redirects '
                         '(%d)' % (redirects, self.options.max_redirects))
            if not location:
                raise exception.RemoteUnavailable(
                    store=self.store,
                    reason='%s answered HTTP %d without a Location' % (
                        url, response.status))
            url = urllib.parse.urljoin(url, location)

    def _send(self, target, method, headers):
        """One request to the checked addresses of ``target``."""
        addresses = self._resolve(target)
        conn = _PinnedConnection(target, addresses, self.options)
        try:
            with self.errors('connecting to host %s port %d' % (
                    target.host, target.port)):
                conn.connect()
            with self.errors('waiting for host %s' % target.host):
                conn.request(method, target.path,
                             headers={**_HEADERS, **headers})
                return conn.getresponse()
        except BaseException:
            conn.close()
            raise

    def _resolve(self, target):
        """Resolve the host once and check every answer."""
        with self.errors('resolving host %s' % target.host):
            addresses = _lookup(target.host, target.port)
        check_addresses(self.conf, target, addresses)
        return addresses

    def check_status(self, target, response, ranged=False):
        """Refuse answers without the image data: errors, ignored ranges."""
        status = response.status
        if status == 404:
            raise exception.StoreDataNotFound(
                store=self.store, location=target.url)
        if not 200 <= status < 300:
            raise exception.RemoteUnavailable(
                store=self.store, reason='%s answered HTTP %d %s' % (
                    target.url, status, response.reason))
        if ranged and status != 206:
            raise exception.RemoteUnavailable(
                store=self.store,
                reason='%s answered HTTP %d to a Range request; partial '
                       'reads need a server that honours Range' % (
                           target.url, status))


class RemoteData:
    """The body of a successful GET, read in ``chunk_size`` pieces.

    Iterate over it once. Reading stops with SizeExceeded as soon as the
    body passes ``[DEFAULT] image_size_cap``, whether or not the server
    announced its length, and with BackendUnavailable if the body ends
    before its announced length. The connection is closed when the
    iteration ends, fails or is abandoned, or by ``close()``.

    size: the length the server announced (Content-Length), or None.
    url: the URL the data comes from, after redirects.
    """

    def __init__(self, client, target, response):
        self._client = client
        self._target = target
        self._response = response
        self._size_cap = client.conf.image_size_cap
        self.url = target.url
        # The Content-Length as http.client parsed it and will obey
        # (a long-standing, if undocumented, attribute): None when the
        # body is chunked or ends with the connection.
        self.size = response.length
        self._check_cap(self.size)

    def _check_cap(self, size):
        if size is not None and size > self._size_cap:
            raise exception.SizeExceeded(
                store=self._client.store, image_id=self.url,
                limit=self._size_cap)

    def __iter__(self):
        chunk_size = self._client.options.chunk_size
        received = 0
        try:
            while True:
                # Never read more than one byte past the cap. read1 hands
                # over what has arrived instead of waiting for a whole
                # chunk, so a slow but steady server still lets the
                # caller heartbeat its import locks between chunks.
                wanted = min(chunk_size, self._size_cap - received + 1)
                with self._client.errors(
                        'reading from host %s' % self._target.host):
                    chunk = self._response.read1(wanted)
                if not chunk:
                    break
                received += len(chunk)
                self._check_cap(received)
                yield chunk
            if self.size is not None and received < self.size:
                raise exception.RemoteUnavailable(
                    store=self._client.store,
                    reason='host %s closed the connection after %d of the '
                           '%d bytes it announced' % (
                               self._target.host, received, self.size))
        finally:
            self.close()

    def close(self):
        self._response.close()


def _range_headers(offset, length):
    """Headers asking for ``length`` bytes from ``offset`` (None: to end)."""
    if not offset and length is None:
        return {}
    last = '' if length is None else str(offset + length - 1)
    return {'Range': 'bytes=%d-%s' % (offset, last)}


def open_url(conf, url, offset=0, length=None, store=STORE_TYPE):
    """Check ``url``, send a GET and return its body as a RemoteData.

    ``conf`` is the whole ConfigOpts ([import_filtering_opts],
    [web_download], [DEFAULT] image_size_cap); ``store`` names the
    store in errors. Raises UrlRefused, SizeExceeded (for an announced
    length already, before any of the body is read), StoreDataNotFound
    (404) or BackendUnavailable.
    """
    client = _Client(conf, store)
    headers = _range_headers(offset, length)
    target, response = client.request(url, 'GET', headers)
    try:
        client.check_status(target, response, ranged=bool(headers))
        return RemoteData(client, target, response)
    except BaseException:
        response.close()
        raise


class HTTPStore(driver.StoreDriver):
    """A read-only store whose locations are http(s) URLs.

    It has no options of its own: it obeys the same
    [import_filtering_opts] and [web_download] as web-download, so an
    image location can reach no further than an import could.
    """

    OPTS = []

    def get(self, location, offset=0, length=None):
        return open_url(self.conf, location, offset, length, store=self.name)

    def exists(self, location):
        """True if a HEAD of the URL succeeds, False if it answers 404."""
        client = _Client(self.conf, self.name)
        target, response = client.request(location, 'HEAD')
        with contextlib.closing(response):
            try:
                client.check_status(target, response)
            except exception.StoreDataNotFound:
                return False
        return True

    def _read_only(self):
        return exception.StoreForbidden(
            store=self.name,
            reason='the http store is read-only; image data can only be '
                   'read from it')

    def add(self, image_id, source, write_id, expected_size=None):
        raise self._read_only()

    def delete(self, location):
        raise self._read_only()

    def discard(self, image_id, write_id):
        raise self._read_only()
