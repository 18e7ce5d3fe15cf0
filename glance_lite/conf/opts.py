"""Hooks for oslo-config-generator (see the entry points in setup.cfg)."""

from oslo_config import cfg

from glance_lite.conf import api
from glance_lite.conf import database
from glance_lite.conf import default
from glance_lite.conf import file_store
from glance_lite.conf import image_api
from glance_lite.conf import image_format
from glance_lite.conf import import_pipeline
from glance_lite.conf import import_plugins
from glance_lite.conf import log
from glance_lite.conf import noauth
from glance_lite.conf import stores
from glance_lite.conf import taskflow
from glance_lite.conf import web_download


def list_opts():
    """Return glance-lite's own options, grouped, for the sample config.

    The file driver's options are shown in the groups of the two
    reserved stores, which are file stores in every deployment; a store
    of type file named in enabled_backends takes the same options in its
    own group.
    """
    return [
        ('DEFAULT', default.ALL_OPTS + api.ALL_OPTS + image_api.ALL_OPTS +
         stores.DEFAULT_OPTS),
        (stores.GLANCE_STORE_GROUP, stores.GLANCE_STORE_OPTS),
        (image_format.GROUP, image_format.ALL_OPTS),
        (import_pipeline.GROUP, import_pipeline.ALL_OPTS),
        (noauth.GROUP, noauth.ALL_OPTS),
        (taskflow.GROUP, taskflow.ALL_OPTS),
    ] + import_plugins.list_opts() + web_download.list_opts() + [
        (name, file_store.ALL_OPTS) for name in stores.RESERVED_STORES]


def set_defaults():
    """Apply our defaults to library options before the sample is written."""
    database.register_opts(cfg.CONF)
    log.set_defaults()
