"""The request context every database call receives."""

from oslo_context import context as oslo_context
from oslo_db.sqlalchemy import enginefacade


@enginefacade.transaction_context_provider
class RequestContext(oslo_context.RequestContext):
    """Who is asking, plus the enginefacade transaction state.

    The enginefacade decorator gives each context its own session slot,
    so nested ``reader``/``writer`` blocks on one context share one
    transaction and separate contexts never share one.
    """


def get_admin_context():
    """A context for the service's own work (commands, background tasks)."""
    return RequestContext(is_admin=True, overwrite=False)
