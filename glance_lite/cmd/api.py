"""glance-lite-api: the image service.

Start-up checks the configuration and brings the embedded SQLite
database to the newest schema (a shared database server is migrated
by the operator with ``glance-lite-manage db sync``, as in every
OpenStack service). The HTTP server itself is not built yet; until it
is, the command stops with an error after those steps.
"""

import sys

from oslo_log import log as logging

from glance_lite import cmd
from glance_lite.common import exception
from glance_lite.conf import import_pipeline
from glance_lite.db import api as db_api
from glance_lite.db import migration

LOG = logging.getLogger(__name__)


def main(argv=None):
    conf = cmd.load_config(argv)
    try:
        import_pipeline.check_opts(conf)
        engine = db_api.get_engine()
        if engine.dialect.name == 'sqlite':
            migration.upgrade(engine)
    except exception.GlanceLiteException as e:
        print('glance-lite-api: %s' % e, file=sys.stderr)
        return 1
    LOG.info('State directory %s and database %s are ready.',
             conf.state_path, engine.url.render_as_string(hide_password=True))
    print('glance-lite-api: the HTTP API server is not implemented yet; '
          'the state directory and database are ready.', file=sys.stderr)
    return 1
