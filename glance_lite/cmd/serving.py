"""How glance-lite-api's gunicorn processes listen and stop.

gunicorn treats SIGINT (and SIGQUIT) as a *quick* shutdown, in the
master and in every worker: requests in flight are cut and the worker
exits at once while its import threads still run, so they meet an
interpreter that is shutting down. A terminal's Ctrl-C sends SIGINT to
the whole foreground process group, master and workers alike. Here
SIGINT drains like SIGTERM: the master stops listening and asks its
workers to finish; a second SIGINT (or a SIGQUIT) while they drain is
gunicorn's quick shutdown.

The listening socket is bound once, before anything is announced: a
busy address is one clear error instead of gunicorn's five retries.

A worker accepts a connection only while one of its threads is free.
gunicorn's gthread worker accepts up to ``worker_connections`` and
queues them for its threads; with several workers on one socket, a
worker slowed down (by an import copying in it, say) kept taking its
share of the connections and made them wait behind its queue, while
another worker idled. Left in the listen backlog instead, a connection
goes to the first worker with a free thread.
"""

import signal
import time

from gunicorn import arbiter
from gunicorn import sock
from gunicorn import util
from gunicorn.workers import gthread

from glance_lite.common import exception


class DrainingWorker(gthread.ThreadWorker):
    """A gthread worker that takes SIGINT as the request to drain.

    With SIGINT sent to the whole process group, the worker hears it
    together with the master; it starts draining then, and the master's
    SIGTERM that follows finds it draining already. Quick shutdown
    stays on SIGQUIT, which the master sends on a second SIGINT.
    """

    # The master kills a worker graceful_timeout after asking it to
    # stop; the worker gives up on what still runs a little earlier, so
    # it can say so and exit by itself.
    DEADLINE_MARGIN = 0.5

    drain_deadline = None
    # Requests submitted to the thread pool and not finished yet. Only
    # the worker's main thread, which runs the poller, counts them.
    in_flight = 0

    def init_signals(self):
        super().init_signals()
        signal.signal(signal.SIGINT, self.handle_exit)
        signal.siginterrupt(signal.SIGINT, False)

    def handle_exit(self, sig, frame):
        if self.drain_deadline is None:
            self.drain_deadline = (time.monotonic() + self.cfg.graceful_timeout
                                   - self.DEADLINE_MARGIN)
        super().handle_exit(sig, frame)

    def enqueue_req(self, conn):
        self.in_flight += 1
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.in_flight -= 1
        super().finish_request(conn, fs)

    def accept(self, listener):
        super().accept(listener)
        if not self.has_free_thread():
            self.set_accept_enabled(False)

    def has_free_thread(self):
        return self.in_flight < self.cfg.threads

    def set_accept_enabled(self, enabled):
        # gunicorn's loop enables accepting whenever the worker holds
        # fewer than worker_connections; once every thread is busy, the
        # connections are better left to the other workers.
        enabled = enabled and self.has_free_thread()
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            # Draining. Every worker holds the listening socket too, and
            # the kernel keeps accepting connections on it while any of
            # them has it open: close it, so new clients are refused
            # rather than queued for a worker that will never serve them.
            for listener in self.sockets:
                listener.close()

    def drain_time_left(self):
        """Seconds left to finish work, counted from the stop request."""
        if self.drain_deadline is None:
            return self.cfg.graceful_timeout - self.DEADLINE_MARGIN
        return max(0.0, self.drain_deadline - time.monotonic())


class DrainingArbiter(arbiter.Arbiter):
    """gunicorn's master with SIGINT draining and a bind that fails fast."""

    def handle_int(self):
        # The first SIGINT drains as SIGTERM does; Arbiter.stop itself
        # turns a second SIGINT during the drain into a quick shutdown.
        self.handle_term()

    def start(self):
        if not self.LISTENERS:
            self.LISTENERS = [listen(self.cfg, self.log)]
        super().start()


def listen(cfg, log):
    """gunicorn's listener on ``cfg``'s one address, bound once.

    Raises AddressUnavailable, naming the address and the options that
    set it, when the address is taken or is not one of this host's.
    """
    (host, port), = cfg.address
    if util.is_ipv6(host):
        socket_class, shown = sock.TCP6Socket, '[%s]:%d' % (host, port)
    else:
        socket_class, shown = sock.TCPSocket, '%s:%d' % (host, port)
    try:
        return socket_class((host, port), cfg, log)
    except OSError as error:
        raise exception.AddressUnavailable(
            address=shown, reason=error.strerror or error) from error
