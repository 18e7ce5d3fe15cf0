"""glance-lite-manage: operator commands.

``glance-lite-manage db sync`` migrates the database to the newest
schema; ``glance-lite-manage db version`` prints the schema revision.
"""

import sys

from oslo_config import cfg

from glance_lite import cmd
from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.db import migration


def db_sync():
    migration.upgrade(db_api.get_engine())
    print('Database is at revision %s.' % db_version_string())


def db_version():
    print(db_version_string())


def db_version_string():
    return migration.current_revision(db_api.get_engine()) or 'None'


def _add_command_parsers(subparsers):
    db_parser = subparsers.add_parser('db', help='Manage the database.')
    db_actions = db_parser.add_subparsers(dest='action', metavar='ACTION')
    db_actions.required = True
    db_actions.add_parser(
        'sync', help='Migrate the database to the newest schema.'
    ).set_defaults(func=db_sync)
    db_actions.add_parser(
        'version', help='Print the schema revision of the database.'
    ).set_defaults(func=db_version)


_COMMAND_OPT = cfg.SubCommandOpt(
    'command', title='Commands', help='Available commands',
    handler=_add_command_parsers)


def main(argv=None):
    conf = cmd.load_config(argv, cli_opts=[_COMMAND_OPT])
    try:
        conf.command.func()
    except exception.GlanceLiteException as e:
        print('glance-lite-manage: %s' % e, file=sys.stderr)
        return 1
    return 0
