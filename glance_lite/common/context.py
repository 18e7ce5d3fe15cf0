"""The request context every database call receives."""

import copy

from oslo_context import context as oslo_context
from oslo_db.sqlalchemy import enginefacade


@enginefacade.transaction_context_provider
class RequestContext(oslo_context.RequestContext):
    """Who is asking, plus the enginefacade transaction state.

    The enginefacade decorator gives each context its own session slot,
    so nested ``reader``/``writer`` blocks on one context share one
    transaction and separate contexts never share one.

    ``db_retry_timeout`` is how long each database call made with this
    context retries a transient database error (a lost connection, a
    deadlock) before raising it. None, for requests, means fail fast:
    the client gets a 503 at once. The import pipeline's context sets
    it (``with_db_retry_timeout``), so an import rides out a short
    outage instead of leaving rows behind.
    """

    db_retry_timeout = None

    def with_db_retry_timeout(self, seconds):
        """A copy of this context whose database calls retry ``seconds``.

        The copy starts without a transaction of its own: it is for
        calls made outside any transaction of this context.
        """
        retrying = copy.copy(self)
        retrying.__dict__.pop('_enginefacade_context', None)
        retrying.db_retry_timeout = seconds
        return retrying


def get_admin_context():
    """A context for the service's own work (commands, background tasks)."""
    return RequestContext(is_admin=True, overwrite=False)
