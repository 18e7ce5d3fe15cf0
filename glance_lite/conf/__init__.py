"""Every configuration option of glance-lite lives in this package.

Modules register their group on the global ``CONF`` when this package is
imported, so any code that needs an option imports ``glance_lite.conf.CONF``
and nothing else.
"""

from oslo_config import cfg

from glance_lite.conf import database
from glance_lite.conf import default
from glance_lite.conf import import_pipeline

CONF = cfg.CONF

default.register_opts(CONF)
database.register_opts(CONF)
import_pipeline.register_opts(CONF)
