"""Hooks for oslo-config-generator (see the entry points in setup.cfg)."""

from oslo_config import cfg

from glance_lite.conf import database
from glance_lite.conf import default
from glance_lite.conf import import_pipeline


def list_opts():
    """Return glance-lite's own options, grouped, for the sample config."""
    return [
        ('DEFAULT', default.ALL_OPTS),
        (import_pipeline.GROUP, import_pipeline.ALL_OPTS),
    ]


def set_defaults():
    """Apply our defaults to library options before the sample is written."""
    database.register_opts(cfg.CONF)
