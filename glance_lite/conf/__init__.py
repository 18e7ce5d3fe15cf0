"""Every configuration option of glance-lite lives in this package.

Modules register their group on the global ``CONF`` when this package is
imported, so any code that needs an option imports ``glance_lite.conf.CONF``
and nothing else.
"""

from oslo_config import cfg

from glance_lite.conf import api
from glance_lite.conf import database
from glance_lite.conf import default
from glance_lite.conf import image_api
from glance_lite.conf import image_format
from glance_lite.conf import import_plugins
from glance_lite.conf import import_pipeline
from glance_lite.conf import noauth
from glance_lite.conf import policy
from glance_lite.conf import stores
from glance_lite.conf import taskflow
from glance_lite.conf import web_download

CONF = cfg.CONF


def register_opts(conf):
    """Register every static option of glance-lite on ``conf``.

    So are the library groups glance-lite reads itself ([database],
    [oslo_policy]). Store drivers' options are registered per store, when
    ``glance_lite.store.manager`` loads the stores.
    """
    default.register_opts(conf)
    api.register_opts(conf)
    database.register_opts(conf)
    image_api.register_opts(conf)
    image_format.register_opts(conf)
    import_pipeline.register_opts(conf)
    import_plugins.register_opts(conf)
    noauth.register_opts(conf)
    policy.register_opts(conf)
    stores.register_opts(conf)
    taskflow.register_opts(conf)
    web_download.register_opts(conf)


register_opts(CONF)
