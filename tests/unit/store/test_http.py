"""URL filtering and the read-only http store, against a real server.

Network safety: the only server is started here on 127.0.0.1, and the
only host name used is ``localhost``. Non-loopback addresses appear
solely in tests of the pure checking functions, which open no socket;
a URL that names another port of 127.0.0.1 (a redirect target, a closed
port) stays on the loopback network even if the code under test
ignored a filter.
"""

import http.server
import socket
import threading
import time
import unittest
from unittest import mock
import urllib.parse

from oslo_config import cfg

from glance_lite.common import exception
from glance_lite.conf import stores
from glance_lite.conf import web_download
from glance_lite.store import http as http_store

LOOPBACK = '127.0.0.1'
STALL = 5  # longest a stalling handler waits for its test to end
REFUSED_LOOPBACK = ('host 127.0.0.1 resolves to loopback address '
                    '127.0.0.1; list the host in [import_filtering_opts] '
                    'allowed_hosts to allow it')
_GROUP_OF = {opt.name: group.name
             for group, opts in web_download.list_opts() for opt in opts}


def make_conf(**overrides):
    """A fresh ConfigOpts with the options under test, overridden."""
    conf = cfg.ConfigOpts()
    web_download.register_opts(conf)
    stores.register_opts(conf)
    conf([])
    for name, value in overrides.items():
        conf.set_override(name, value, group=_GROUP_OF.get(name))
    return conf


def body(size):
    """``size`` bytes in which a misplaced range or a lost chunk shows."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


class _Handler(http.server.BaseHTTPRequestHandler):
    """Routes: the first path segment names a behaviour, the rest its
    arguments; ``/to?<url>`` redirects to ``<url>``."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._route()

    def do_HEAD(self):
        self._route()

    def _route(self):
        self.server.requests.append(
            (self.command, self.path, self.headers.get('Range'),
             self.headers.get('Host')))
        parts = urllib.parse.urlsplit(self.path)
        name, *args = parts.path.strip('/').split('/')
        route = getattr(self, 'route_' + name.replace('-', '_'))
        route(parts.query, *args)

    def _start(self, status, length=None, **headers):
        self.send_response(status)
        if length is not None:
            self.send_header('Content-Length', str(length))
        for name, value in headers.items():
            self.send_header(name.replace('_', '-'), value)
        self.end_headers()

    def _write(self, data):
        if self.command == 'GET':
            self.wfile.write(data)
            self.wfile.flush()

    def _redirect(self, location):
        self._start(302, 0, Location=location)

    def route_data(self, query, size):
        """A body of ``size`` bytes with its length; honours Range."""
        data = body(int(size))
        ranged = self.headers.get('Range')
        if ranged:
            first, last = ranged[len('bytes='):].split('-')
            data = data[int(first):int(last) + 1 if last else None]
        self._start(206 if ranged else 200, len(data))
        self._write(data)

    def route_chunked(self, query, size):
        """``size`` bytes in chunked encoding: no length announced."""
        self._start(200, Transfer_Encoding='chunked')
        data = body(int(size))
        for i in range(0, len(data), 1000):
            piece = data[i:i + 1000]
            self._write(b'%x\r\n%s\r\n' % (len(piece), piece))
        self._write(b'0\r\n\r\n')

    def route_unsized(self, query, size):
        """``size`` bytes ended by closing the connection."""
        self.close_connection = True
        self._start(200, Connection='close')
        self._write(body(int(size)))

    def route_short(self, query, announced, sent):
        """Announces ``announced`` bytes, sends ``sent`` and hangs up."""
        self.close_connection = True
        self._start(200, int(announced))
        self._write(body(int(sent)))

    def route_hops(self, query, hops, size):
        """Redirects ``hops`` times (relative Location), then serves."""
        if int(hops):
            self._redirect('/hops/%d/%s' % (int(hops) - 1, size))
        else:
            self.route_data(query, size)

    def route_loop(self, query):
        self._redirect('/loop')

    def route_to(self, query):
        self._redirect(urllib.parse.unquote(query))

    def route_stall_headers(self, query):
        self.server.release.wait(STALL)
        self.route_data(query, '10')

    def route_stall_body(self, query, size):
        """Sends half of the body, then nothing until the test ends."""
        data = body(int(size))
        self._start(200, len(data))
        self._write(data[:len(data) // 2])
        self.server.release.wait(STALL)
        self._write(data[len(data) // 2:])

    def route_status(self, query, status):
        self._start(int(status), 0)


class PlainContext:
    """Stands in for ssl's default context: records each handshake's
    peer and server name, and leaves the socket plain."""

    def __init__(self):
        self.handshakes = []

    def wrap_socket(self, sock, server_hostname):
        self.handshakes.append((sock.getpeername(), server_hostname))
        return sock


class _Server(http.server.ThreadingHTTPServer):

    def __init__(self):
        super().__init__((LOOPBACK, 0), _Handler)
        self.requests = []
        self.release = threading.Event()

    def handle_error(self, request, client_address):
        # Clients in these tests hang up early on purpose.
        pass


class ServerTestCase(unittest.TestCase):
    """Tests against one local server; 127.0.0.1 and its port allowed."""

    @classmethod
    def setUpClass(cls):
        cls.server = _Server()
        cls.port = cls.server.server_address[1]
        cls.thread = threading.Thread(
            target=cls.server.serve_forever, kwargs={'poll_interval': 0.05},
            daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.thread.join()

    def setUp(self):
        self.server.requests.clear()
        self.server.release = threading.Event()
        self.addCleanup(lambda: self.server.release.set())
        self.conf = make_conf(
            allowed_hosts=[LOOPBACK], allowed_ports=[self.port],
            connect_timeout=0.5, read_timeout=0.5)

    def set(self, **overrides):
        for name, value in overrides.items():
            self.conf.set_override(name, value, group=_GROUP_OF.get(name))

    def url(self, path, host=LOOPBACK):
        return 'http://%s:%d%s' % (host, self.port, path)

    def open(self, path, host=LOOPBACK, **kwargs):
        return http_store.open_url(self.conf, self.url(path, host), **kwargs)

    def read(self, path, host=LOOPBACK, **kwargs):
        return b''.join(self.open(path, host, **kwargs))

    def assertRefused(self, rule, path, host=LOOPBACK, **kwargs):
        with self.assertRaises(exception.UrlRefused) as caught:
            self.read(path, host, **kwargs)
        self.assertEqual(rule, caught.exception.kwargs['rule'])
        return caught.exception

    def read_until_error(self, data, error):
        """The bytes ``data`` yields before it raises ``error``."""
        received = []
        with self.assertRaises(error) as caught:
            for chunk in data:
                received.append(chunk)
        return b''.join(received), caught.exception


class AddressKindTests(unittest.TestCase):
    """The pure classification; no socket is opened."""

    def test_non_public_addresses_are_named(self):
        for address, kind in [
                ('127.0.0.1', 'loopback'), ('::1', 'loopback'),
                ('::ffff:127.0.0.1', 'loopback'),
                ('10.0.0.1', 'private'), ('192.168.1.1', 'private'),
                ('172.16.0.1', 'private'), ('fc00::1', 'private'),
                ('::ffff:10.0.0.1', 'private'),
                ('169.254.169.254', 'link-local'),
                ('fe80::1', 'link-local'),
                ('0.0.0.0', 'unspecified'), ('::', 'unspecified'),
                ('224.0.0.1', 'multicast'), ('ff02::1', 'multicast'),
                ('fec0::1', 'site-local'), ('100.64.0.1', 'non-global')]:
            with self.subTest(address=address):
                self.assertEqual(kind, http_store.address_kind(address))

    def test_public_addresses_pass(self):
        for address in ['8.8.8.8', '93.184.216.34', '2001:4860:4860::8888']:
            with self.subTest(address=address):
                self.assertIsNone(http_store.address_kind(address))


class CheckAddressesTests(unittest.TestCase):
    """Every answer of the resolver counts; no socket is opened."""

    def target(self, conf):
        return http_store.check_url(conf, 'http://localhost/')

    def test_one_non_public_answer_refuses_the_host(self):
        conf = make_conf()
        with self.assertRaises(exception.UrlRefused) as caught:
            http_store.check_addresses(conf, self.target(conf),
                                       ['8.8.8.8', '169.254.169.254'])
        self.assertEqual(
            'host localhost resolves to link-local address 169.254.169.254; '
            'list the host in [import_filtering_opts] allowed_hosts to '
            'allow it', caught.exception.kwargs['rule'])

    def test_public_answers_pass(self):
        conf = make_conf()
        http_store.check_addresses(conf, self.target(conf),
                                   ['8.8.8.8', '2001:4860:4860::8888'])

    def test_listed_host_may_resolve_anywhere(self):
        conf = make_conf(allowed_hosts=['LocalHost'])
        http_store.check_addresses(conf, self.target(conf),
                                   ['10.0.0.1', 'fe80::1'])


class CheckUrlTests(unittest.TestCase):
    """The filters on the text of a URL; nothing is resolved or opened."""

    def refused(self, url, **overrides):
        with self.assertRaises(exception.UrlRefused) as caught:
            http_store.check_url(make_conf(**overrides), url)
        self.assertEqual(url, caught.exception.kwargs['url'])
        return caught.exception.kwargs['rule']

    def test_target_of_an_accepted_url(self):
        conf = make_conf()
        self.assertEqual(
            ('http', '127.0.0.1', 80, '/a/b?c=d'),
            http_store.check_url(conf, 'HTTP://127.0.0.1/a/b?c=d#f')[1:])
        self.assertEqual(
            ('https', 'localhost', 443, '/'),
            http_store.check_url(conf, 'https://LOCALHOST')[1:])

    def test_scheme_not_allowed(self):
        self.assertEqual(
            'scheme ftp is not in [import_filtering_opts] allowed_schemes',
            self.refused('ftp://127.0.0.1/image'))

    def test_allowed_scheme_that_cannot_be_fetched(self):
        self.assertEqual(
            'scheme ftp cannot be fetched; only http and https can',
            self.refused('ftp://127.0.0.1/image', allowed_schemes=['ftp']))

    def test_disallowed_scheme(self):
        self.assertEqual(
            'scheme http is in [import_filtering_opts] disallowed_schemes',
            self.refused('http://127.0.0.1/', allowed_schemes=[],
                         disallowed_schemes=['http']))

    def test_port_not_allowed(self):
        self.assertEqual(
            'port 8080 is not in [import_filtering_opts] allowed_ports',
            self.refused('http://127.0.0.1:8080/'))

    def test_disallowed_port(self):
        self.assertEqual(
            'port 80 is in [import_filtering_opts] disallowed_ports',
            self.refused('http://127.0.0.1/', allowed_ports=[],
                         disallowed_ports=[80]))

    def test_disallowed_host_whatever_its_spelling(self):
        for url in ['http://LOCALHOST/', 'http://localhost./']:
            with self.subTest(url=url):
                self.assertEqual(
                    'host localhost is in [import_filtering_opts] '
                    'disallowed_hosts',
                    self.refused(url, disallowed_hosts=['LocalHost']))

    def test_disallowed_ip_whatever_its_spelling(self):
        self.assertEqual(
            'host 127.0.0.1 is in [import_filtering_opts] disallowed_hosts',
            self.refused('http://[::ffff:127.0.0.1]/',
                         disallowed_hosts=['127.0.0.1']))

    def test_allowed_hosts_take_precedence(self):
        conf = make_conf(allowed_hosts=['localhost', '::1'],
                         disallowed_hosts=['localhost'])
        http_store.check_url(conf, 'http://localhost/')
        http_store.check_url(conf, 'http://[0:0::1]/')
        self.assertEqual(
            'host 127.0.0.1 is not in [import_filtering_opts] allowed_hosts',
            self.refused('http://127.0.0.1/', allowed_hosts=['localhost']))

    def test_malformed_urls(self):
        self.assertIn('it is not a valid URL',
                      self.refused('http://127.0.0.1:99999/'))
        self.assertEqual('it names no host', self.refused('http:///image'))


class CheckRequestUrlTests(unittest.TestCase):
    """What a web-download request is refused for while its caller waits.

    The hosts are literal addresses or ``localhost``: resolving them
    asks no DNS server, and nothing is connected to.
    """

    PORT = 8080

    def refused(self, url, **overrides):
        conf = make_conf(**dict({'allowed_ports': []}, **overrides))
        with self.assertRaises(exception.UrlRefused) as caught:
            http_store.check_request_url(conf, url)
        return caught.exception

    def test_non_public_hosts_are_refused_with_a_plain_reason(self):
        for url, kind in [
                ('http://127.0.0.1:%d/x' % self.PORT, 'a loopback'),
                ('http://[::1]/', 'a loopback'),
                ('http://169.254.169.254/', 'a link-local'),
                ('http://localhost:%d/x' % self.PORT, 'a loopback')]:
            with self.subTest(url=url):
                refusal = self.refused(url)
                self.assertEqual(
                    "The URL %s is refused: its host resolves to %s "
                    "address, which this cloud's import policy does not "
                    "allow." % (url, kind), str(refusal))
                # The operator's log line names the option to change.
                self.assertIn('list the host in [import_filtering_opts] '
                              'allowed_hosts', refusal.detail)

    def test_hosts_the_operator_lists_are_accepted(self):
        conf = make_conf(allowed_ports=[],
                         allowed_hosts=['127.0.0.1', '::1', 'localhost',
                                        '169.254.169.254'])
        for url in ['http://127.0.0.1:%d/x' % self.PORT, 'http://[::1]/',
                    'http://localhost/', 'http://169.254.169.254/']:
            with self.subTest(url=url):
                self.assertEqual(url, http_store.check_request_url(
                    conf, url).url)

    def test_filters_still_apply_first(self):
        refusal = self.refused('http://127.0.0.1/', allowed_ports=[443])
        self.assertEqual("The URL http://127.0.0.1/ is refused: its port is "
                         "not allowed by this cloud's import policy.",
                         str(refusal))
        self.assertEqual('port 80 is not in [import_filtering_opts] '
                         'allowed_ports', refusal.kwargs['rule'])

    def test_a_host_not_resolved_in_time_is_left_to_the_download(self):
        unblock = threading.Event()
        self.addCleanup(unblock.set)

        def stalled_lookup(host, port, *args, **kwargs):
            unblock.wait(STALL)
            raise socket.gaierror('too late')

        conf = make_conf(connect_timeout=0.2)
        with mock.patch('socket.getaddrinfo', stalled_lookup):
            target = http_store.check_request_url(conf,
                                                  'http://slow.test/x')
        self.assertEqual('slow.test', target.host)


class PinnedConnectionTests(unittest.TestCase):
    """The socket is replaced by one end of a local socket pair."""

    def test_https_to_the_default_port(self):
        conf = make_conf(allowed_hosts=['localhost'])
        ours, theirs = socket.socketpair()
        self.addCleanup(theirs.close)
        theirs.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
        context = PlainContext()
        with mock.patch('socket.create_connection',
                        return_value=ours) as connect, \
                mock.patch('ssl.create_default_context',
                           return_value=context):
            http_store.open_url(conf, 'https://localhost/image').close()
        (address, port), = [call.args[0] for call in connect.call_args_list]
        self.assertEqual(('loopback', 443),
                         (http_store.address_kind(address), port))
        self.assertEqual('localhost', context.handshakes[0][1])
        request = theirs.recv(65536).decode()
        self.assertTrue(request.startswith('GET /image HTTP/1.1\r\n'))
        # No ":443": signed URLs sign the Host header as written.
        self.assertIn('\r\nHost: localhost\r\n', request)


class DownloadTests(ServerTestCase):

    def test_plain_download(self):
        data = self.open('/data/3000')
        self.assertEqual(3000, data.size)
        self.assertEqual(body(3000), b''.join(data))
        self.assertEqual(
            [('GET', '/data/3000', None, '127.0.0.1:%d' % self.port)],
            self.server.requests)

    def test_streams_in_chunks_of_chunk_size(self):
        self.set(chunk_size=1000)
        chunks = list(self.open('/data/10500'))
        # Chunks hand over what has arrived, never more than chunk_size.
        self.assertLessEqual(max(len(c) for c in chunks), 1000)
        self.assertGreaterEqual(len(chunks), 11)
        self.assertEqual(body(10500), b''.join(chunks))

    def test_body_without_announced_length(self):
        for path in ['/chunked/2500', '/unsized/2500']:
            with self.subTest(path=path):
                data = self.open(path)
                self.assertIsNone(data.size)
                self.assertEqual(body(2500), b''.join(data))

    def test_redirect_chain_is_followed(self):
        data = self.open('/hops/3/100')
        self.assertEqual(body(100), b''.join(data))
        self.assertEqual(self.url('/hops/0/100'), data.url)
        self.assertEqual(
            ['/hops/3/100', '/hops/2/100', '/hops/1/100', '/hops/0/100'],
            [request[1] for request in self.server.requests])

    def test_max_redirects_are_followed_one_more_is_refused(self):
        self.assertEqual(body(10), self.read('/hops/5/10'))
        self.server.requests.clear()
        self.assertRefused(
            'redirect 6 exceeds [web_download] max_redirects (5)',
            '/hops/6/10')
        self.assertEqual(6, len(self.server.requests))

    def test_redirect_loop_is_refused(self):
        self.set(max_redirects=2)
        self.assertRefused(
            'redirect 3 exceeds [web_download] max_redirects (2)', '/loop')

    def test_redirect_target_is_filtered(self):
        for target, rule in [
                ('http://127.0.0.1:1/data/10',
                 'port 1 is not in [import_filtering_opts] allowed_ports'),
                (self.url('/data/10', host='localhost'),
                 'host localhost is not in [import_filtering_opts] '
                 'allowed_hosts'),
                ('ftp://127.0.0.1/data/10',
                 'scheme ftp is not in [import_filtering_opts] '
                 'allowed_schemes')]:
            with self.subTest(target=target):
                refusal = self.assertRefused(
                    rule, '/to?' + urllib.parse.quote(target))
                self.assertEqual(target, refusal.kwargs['url'])

    def test_scheme_and_port_are_filtered_before_connecting(self):
        with self.assertRaises(exception.UrlRefused) as caught:
            http_store.open_url(self.conf,
                                'ftp://127.0.0.1:%d/data/10' % self.port)
        self.assertEqual(
            'scheme ftp is not in [import_filtering_opts] allowed_schemes',
            caught.exception.kwargs['rule'])
        self.set(allowed_ports=[80, 443])
        self.assertRefused(
            'port %d is not in [import_filtering_opts] allowed_ports'
            % self.port, '/data/10')
        self.assertEqual([], self.server.requests)

    def test_disallowed_host_is_refused(self):
        self.set(allowed_hosts=[], disallowed_hosts=[LOOPBACK])
        self.assertRefused(
            'host 127.0.0.1 is in [import_filtering_opts] disallowed_hosts',
            '/data/10')

    def test_allowed_hosts_take_precedence(self):
        self.set(disallowed_hosts=[LOOPBACK])
        self.assertEqual(body(10), self.read('/data/10'))

    def test_loopback_is_refused_unless_listed(self):
        self.set(allowed_hosts=[])
        self.assertRefused(REFUSED_LOOPBACK, '/data/10')
        self.assertEqual([], self.server.requests)

    def test_localhost_is_refused_unless_listed(self):
        self.set(allowed_hosts=[])
        with self.assertRaises(exception.UrlRefused) as caught:
            self.read('/data/10', host='localhost')
        self.assertRegex(
            caught.exception.kwargs['rule'],
            r'^host localhost resolves to loopback address (127\.0\.0\.1|'
            r'::1); list the host in \[import_filtering_opts\] '
            r'allowed_hosts to allow it$')
        self.assertEqual([], self.server.requests)

        self.set(allowed_hosts=['localhost'])
        self.assertEqual(body(10), self.read('/data/10', host='localhost'))
        self.assertEqual('localhost:%d' % self.port,
                         self.server.requests[0][3])

    def test_connect_time_check_refuses_a_host_rebound_to_loopback(self):
        """Accepted at request time, refused when the download connects."""
        self.set(allowed_hosts=[])
        resolve = socket.getaddrinfo
        answers = ['93.184.216.34', LOOPBACK]

        def rebinding_getaddrinfo(host, port, *args, **kwargs):
            if host == 'rebind.test':
                host = answers.pop(0)
            return resolve(host, port, *args, **kwargs)

        with mock.patch('socket.getaddrinfo', rebinding_getaddrinfo):
            http_store.check_request_url(self.conf,
                                         self.url('/data/10', 'rebind.test'))
            refusal = self.assertRefused(
                'host rebind.test resolves to loopback address 127.0.0.1; '
                'list the host in [import_filtering_opts] allowed_hosts to '
                'allow it', '/data/10', host='rebind.test')
        self.assertEqual([], answers)
        self.assertEqual([], self.server.requests)
        self.assertNotIn('[', str(refusal))

    def test_connects_to_the_address_that_was_checked(self):
        """A later DNS answer (rebinding) is never used."""
        self.set(allowed_hosts=['localhost'])
        resolve = socket.getaddrinfo
        lookups = []

        def rebinding_getaddrinfo(host, port, *args, **kwargs):
            if host == 'localhost':
                lookups.append(host)
                # First the server's address, then one where nothing
                # listens (still loopback: safe if it were used).
                host = LOOPBACK if len(lookups) == 1 else '127.0.0.2'
            return resolve(host, port, *args, **kwargs)

        with mock.patch('socket.getaddrinfo', rebinding_getaddrinfo):
            self.assertEqual(body(10),
                             self.read('/data/10', host='localhost'))
        self.assertEqual(['localhost'], lookups)

    def test_https_checks_the_host_name_over_the_pinned_socket(self):
        self.set(allowed_hosts=['localhost'])
        context = PlainContext()
        with mock.patch('ssl.create_default_context', return_value=context):
            data = http_store.open_url(
                self.conf, 'https://localhost:%d/data/10' % self.port)
            self.assertEqual(body(10), b''.join(data))
        self.assertEqual([((LOOPBACK, self.port), 'localhost')],
                         context.handshakes)
        self.assertEqual('localhost:%d' % self.port,
                         self.server.requests[0][3])

    def test_failed_tls_handshake_is_backend_unavailable(self):
        with self.assertRaises(exception.BackendUnavailable) as caught:
            http_store.open_url(
                self.conf, 'https://127.0.0.1:%d/data/10' % self.port)
        self.assertIn('connecting to host 127.0.0.1 port %d failed: '
                      % self.port, str(caught.exception))

    def test_announced_length_over_the_cap_is_refused_before_reading(self):
        self.set(image_size_cap=1000)
        self.assertEqual(body(1000), self.read('/data/1000'))
        with self.assertRaises(exception.SizeExceeded) as caught:
            self.open('/data/1001')
        self.assertEqual(1000, caught.exception.kwargs['limit'])
        self.assertIn('larger than the 1000 bytes', str(caught.exception))

    def test_unannounced_body_over_the_cap_is_stopped(self):
        self.set(image_size_cap=1000, chunk_size=300)
        for path in ['/chunked/5000', '/unsized/5000']:
            with self.subTest(path=path):
                data = self.open(path)
                received, error = self.read_until_error(
                    data, exception.SizeExceeded)
                # Whatever the chunking, nothing past the cap is handed
                # over, and what is handed over is the body's start.
                self.assertLessEqual(len(received), 1000)
                self.assertEqual(body(len(received)), received)
                self.assertEqual(1000, error.kwargs['limit'])

    def test_body_shorter_than_announced(self):
        received, error = self.read_until_error(
            self.open('/short/1000/400'), exception.BackendUnavailable)
        self.assertEqual(body(400), received)
        self.assertIn('host 127.0.0.1 closed the connection after 400 of '
                      'the 1000 bytes it announced', str(error))

    def test_read_timeout_before_the_answer(self):
        self.set(read_timeout=0.3)
        started = time.monotonic()
        with self.assertRaises(exception.BackendUnavailable) as caught:
            self.open('/stall-headers')
        self.assertLess(time.monotonic() - started, 2)
        self.assertIn('waiting for host 127.0.0.1 failed: timed out',
                      str(caught.exception))

    def test_read_timeout_within_the_body(self):
        self.set(read_timeout=0.3, chunk_size=500)
        received, error = self.read_until_error(
            self.open('/stall-body/2000'), exception.BackendUnavailable)
        self.assertEqual(body(1000), received)
        self.assertIn('reading from host 127.0.0.1 failed: timed out',
                      str(error))

    def test_connection_refused(self):
        with socket.socket() as unused:
            unused.bind((LOOPBACK, 0))
            closed_port = unused.getsockname()[1]
        self.set(allowed_ports=[closed_port])
        with self.assertRaises(exception.BackendUnavailable) as caught:
            http_store.open_url(
                self.conf, 'http://127.0.0.1:%d/' % closed_port)
        self.assertIn('connecting to host 127.0.0.1 port %d failed: '
                      % closed_port, str(caught.exception))

    def test_error_statuses(self):
        with self.assertRaises(exception.StoreDataNotFound) as caught:
            self.open('/status/404')
        self.assertEqual(self.url('/status/404'),
                         caught.exception.kwargs['location'])
        with self.assertRaises(exception.BackendUnavailable) as caught:
            self.open('/status/500')
        self.assertIn('%s answered HTTP 500' % self.url('/status/500'),
                      str(caught.exception))

    def test_range_reads(self):
        self.assertEqual(body(3000)[100:150],
                         self.read('/data/3000', offset=100, length=50))
        self.assertEqual(body(3000)[2990:],
                         self.read('/data/3000', offset=2990))
        self.assertEqual(['bytes=100-149', 'bytes=2990-'],
                         [request[2] for request in self.server.requests])

    def test_range_ignored_by_the_server_is_an_error(self):
        with self.assertRaises(exception.BackendUnavailable) as caught:
            self.open('/chunked/3000', offset=100)
        self.assertIn('answered HTTP 200 to a Range request',
                      str(caught.exception))


class HTTPStoreTests(ServerTestCase):

    def setUp(self):
        super().setUp()
        # The store manager registers the group of every store it loads.
        self.conf.register_group(cfg.OptGroup('web'))
        self.store = http_store.HTTPStore('web', self.conf)

    def test_get_reads_a_range(self):
        self.assertEqual(
            body(500)[10:15],
            b''.join(self.store.get(self.url('/data/500'), 10, 5)))

    def test_errors_name_the_store(self):
        with self.assertRaises(exception.StoreDataNotFound) as caught:
            self.store.get(self.url('/status/404'))
        self.assertEqual('Store web has no data at %s.'
                         % self.url('/status/404'), caught.exception.detail)

    def test_exists(self):
        self.assertTrue(self.store.exists(self.url('/data/500')))
        self.assertFalse(self.store.exists(self.url('/status/404')))
        self.assertEqual(['HEAD', 'HEAD'],
                         [request[0] for request in self.server.requests])
        with self.assertRaises(exception.BackendUnavailable):
            self.store.exists(self.url('/status/500'))

    def test_exists_obeys_the_filters(self):
        self.set(allowed_hosts=[])
        with self.assertRaises(exception.UrlRefused) as caught:
            self.store.exists(self.url('/data/500'))
        self.assertEqual(REFUSED_LOOPBACK, caught.exception.kwargs['rule'])
        self.assertEqual([], self.server.requests)

    def test_writes_are_forbidden(self):
        for call in [
                lambda: self.store.add('id', [b'data'], 'write'),
                lambda: self.store.delete(self.url('/data/500')),
                lambda: self.store.discard('id', 'write')]:
            with self.assertRaises(exception.StoreForbidden) as caught:
                call()
            self.assertEqual(
                'Store web refused the operation: the http store is '
                'read-only; image data can only be read from it',
                caught.exception.detail)
