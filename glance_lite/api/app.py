"""Loading the API's WSGI application from its paste pipeline."""

import os

from paste import deploy

from glance_lite.api import services
from glance_lite.common import exception
from glance_lite import policy

# The paste composite serving each [DEFAULT] auth_strategy.
PIPELINES = {
    'noauth': 'glance-lite-api',
    'keystone': 'glance-lite-api-keystone',
}
_SHIPPED_PASTE_FILE = os.path.join(os.path.dirname(__file__),
                                   'glance-lite-paste.ini')


def paste_file(conf):
    """The paste file to use: as configured, found, or the shipped one."""
    name = conf.api_paste_config
    if os.path.isabs(name):
        if not os.path.isfile(name):
            raise exception.InvalidConfiguration(
                reason='[DEFAULT] api_paste_config %s does not exist' % name)
        return name
    return conf.find_file(name) or _SHIPPED_PASTE_FILE


def load_app(conf):
    """The WSGI application of the API, as the paste file describes.

    The composite is the one for ``conf.auth_strategy``. This process's
    services and policy enforcer are built from ``conf`` first, for the
    pipeline's factories to find (see ``glance_lite.api.services``).
    """
    path = paste_file(conf)
    pipeline = PIPELINES[conf.auth_strategy]
    policy.init(conf)
    services.start(conf)
    try:
        return deploy.loadapp('config:%s' % os.path.abspath(path),
                              name=pipeline)
    except (LookupError, ImportError, ValueError) as error:
        raise exception.InvalidConfiguration(
            reason='cannot load pipeline %s from %s: %s' % (
                pipeline, path, error)) from error
