"""A burst: many client connections opened at once, one request each.

Threads cannot open 1000 connections at the same instant on a 2-core
machine, so one thread does it with non-blocking sockets: every
``connect`` is started before any request is sent, then each request
is sent as soon as its connection is up and its answer read, all under
one selector. Each request says ``Connection: close``, so an answer
ends when the server closes the connection.

Used by the burst test (tests/functional/test_burst.py) and by the
contention benchmark (benchmarks/contention.py).
"""

import errno
import json
import selectors
import socket
import time

# What a connection that got no HTTP answer reports as its status.
ERROR = 'error'


class _Exchange:
    """One connection: connect, send the request, read the answer."""

    def __init__(self, port, request):
        self.started = time.perf_counter()
        self.request = request
        self.received = bytearray()
        self.result = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        code = self.sock.connect_ex(('127.0.0.1', port))
        if code not in (0, errno.EINPROGRESS):
            self.fail(OSError(code, 'connect: %s' % errno.errorcode[code]))

    def fail(self, error):
        self.finish((ERROR, repr(error)))

    def finish(self, result):
        self.result = result + (time.perf_counter() - self.started,)
        self.sock.close()

    def on_writable(self):
        """Connected (or failed to): send the whole request."""
        code = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self.fail(OSError(code, 'connect: %s' % errno.errorcode[code]))
            return
        # A request this small fits in any socket buffer at once.
        self.sock.setblocking(True)
        self.sock.sendall(self.request)
        self.sock.setblocking(False)

    def on_readable(self):
        """Read what came; at the end, parse the answer."""
        chunk = self.sock.recv(65536)
        if chunk:
            self.received += chunk
            return
        self.finish(_parse_answer(bytes(self.received)))


def _parse_answer(raw):
    """(status, error message) of a whole HTTP answer, or an ERROR."""
    head, _, body = raw.partition(b'\r\n\r\n')
    status_line = head.split(b'\r\n', 1)[0].split(b' ')
    if len(status_line) < 2 or not status_line[1].isdigit():
        return (ERROR, 'no HTTP answer: %r' % raw[:200])
    status = int(status_line[1])
    message = ''
    if status >= 400 and body:
        try:
            message = json.loads(body)['error']['message']
        except (ValueError, KeyError, TypeError):
            message = body.decode('utf-8', 'replace')[:200]
    return (status, message)


def _request_bytes(method, path, body, headers):
    data = b'' if body is None else json.dumps(body).encode()
    lines = ['%s %s HTTP/1.1' % (method, path), 'Host: 127.0.0.1',
             'Connection: close', 'Content-Length: %d' % len(data)]
    if data:
        lines.append('Content-Type: application/json')
    lines += ['%s: %s' % item for item in (headers or {}).items()]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + data


def burst(port, method, path, body=None, count=1000, headers=None,
          timeout=300):
    """Open ``count`` connections at once and send each one request.

    Returns (elapsed seconds from the first connect to the last answer,
    [(status, message, latency seconds)] in the connections' order).
    A connection that got no HTTP answer (refused, reset, closed before
    answering, or still waiting after ``timeout`` seconds) has status
    ERROR and the error's text as its message.
    """
    request = _request_bytes(method, path, body, headers)
    selector = selectors.DefaultSelector()
    exchanges = [_Exchange(port, request) for _ in range(count)]
    for exchange in exchanges:
        if exchange.result is None:
            selector.register(exchange.sock, selectors.EVENT_WRITE, exchange)
    deadline = time.monotonic() + timeout
    while selector.get_map() and time.monotonic() < deadline:
        for key, events in selector.select(timeout=1):
            exchange = key.data
            # Unregistered before anything closes its socket.
            selector.unregister(exchange.sock)
            try:
                if events & selectors.EVENT_WRITE:
                    exchange.on_writable()
                else:
                    exchange.on_readable()
            except OSError as error:
                exchange.fail(error)
            if exchange.result is None:
                selector.register(exchange.sock, selectors.EVENT_READ,
                                  exchange)
    for exchange in exchanges:
        if exchange.result is None:
            exchange.fail(TimeoutError('no answer in %s s' % timeout))
    selector.close()
    first = min(exchange.started for exchange in exchanges)
    last = max(exchange.started + exchange.result[2]
               for exchange in exchanges)
    return last - first, [exchange.result for exchange in exchanges]
