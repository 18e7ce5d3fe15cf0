"""glance-lite-manage: operator commands.

- ``db sync`` migrates the database to the newest schema; ``db
  version`` prints the schema revision; ``db load-metadefs [PATH]``
  adds the metadata definition namespaces of PATH's files that are not
  in the catalogue yet (see ``glance_lite.cmd.load_metadefs``).
- ``imports list`` shows the imports holding locks, live or abandoned;
  exits 1 when one has expired (its owner stopped beating), so a
  monitoring script notices what the reaper has yet to clean.
- ``imports reap`` runs the reaper once now and prints the imports it
  undid; exits 0 whether or not it found any.
- ``stores check [--delete]`` reports data no location or import
  explains and locations whose data is missing or of the wrong size;
  exits 1 when it finds either (orphans it deleted do not count).

Commands that report take ``--format table|json``. Every command
exits 0 on success and 1 on an error, which it prints on stderr.
"""

import os
import sys

from oslo_config import cfg

from glance_lite import cmd
from glance_lite.cmd import load_metadefs
from glance_lite.cmd import output
from glance_lite.common import context
from glance_lite.common import exception
from glance_lite.conf import stores as stores_conf
from glance_lite.db import api as db_api
from glance_lite.db import migration
from glance_lite.imports import inventory
from glance_lite.imports import reaper
from glance_lite.store import check
from glance_lite.store import manager


def db_sync(conf):
    migration.prepare_sqlite_directory(conf.database.connection)
    migration.upgrade(db_api.get_engine())
    print('Database is at revision %s.' % db_version_string())


def db_version(conf):
    """Print the revision; an SQLite file that is missing stays missing."""
    missing = migration.sqlite_file(conf.database.connection)
    if missing is not None and not os.path.exists(missing):
        print('None')
        print('glance-lite-manage: no database at %s (glance-lite-manage '
              'db sync creates it)' % missing, file=sys.stderr)
        return 0
    print(db_version_string())


def db_version_string():
    return migration.current_revision(db_api.get_engine()) or 'None'


_LOAD_COLUMNS = [('FILE', lambda r: r['file']),
                 ('NAMESPACE', lambda r: r['namespace']),
                 ('RESULT', lambda r: r['result'])]


def db_load_metadefs(conf):
    directory = conf.command.path or load_metadefs.default_directory()
    loaded = load_metadefs.load(context.get_admin_context(), directory)
    output.show(conf.command.format, 'namespaces', _LOAD_COLUMNS, loaded)


def _progress(entry):
    if entry['bytes_done'] is None:
        return None
    if entry['percent'] is None:
        return '%d B' % entry['bytes_done']
    return '%d/%d B (%g%%)' % (entry['bytes_done'], entry['bytes_total'],
                               entry['percent'])


def _owner(entry):
    if entry['owner_host'] is None:
        return None
    return '%s/%s' % (entry['owner_host'], entry['owner_pid'])


# What names an import, in imports list and imports reap alike.
_IMPORT_NAME_COLUMNS = [
    ('IMAGE', lambda e: e['image_id']),
    ('TASK', lambda e: e['task_id']),
    ('METHOD', lambda e: e['method']),
    ('STORES', lambda e: e['stores']),
]

_IMPORT_COLUMNS = _IMPORT_NAME_COLUMNS + [
    ('OWNER (HOST/PID)', _owner),
    ('HEARTBEAT AGE', lambda e: '%.1f s' % e['silence']),
    ('PROGRESS', _progress),
    ('STATE', lambda e: e['state']),
]


def imports_list(conf):
    imports = inventory.list_imports(context.get_admin_context(),
                                     conf['import'].lock_ttl)
    output.show(conf.command.format, 'imports', _IMPORT_COLUMNS, imports)
    return int(any(entry['state'] == inventory.EXPIRED
                   for entry in imports))


_REAPED_COLUMNS = _IMPORT_NAME_COLUMNS + [
    ('DEAD OWNER (HOST/PID)', _owner),
    ('SILENT FOR', lambda r: '%.1f s' % r['silence']),
    ('WRITES REMOVED FROM', lambda r: r['removed']),
    ('IMAGE STATUS RESTORED', lambda r: r['status']),
]


def imports_reap(conf):
    reaped = reaper.reap_expired_imports(
        context.get_admin_context(), conf, manager.StoreManager(conf))
    output.show(conf.command.format, 'reaped', _REAPED_COLUMNS, reaped)


def _object_detail(stored):
    state = 'complete' if stored.complete else 'partial'
    if stored.modified_at is None:
        return state
    return '%s, modified %s UTC' % (state, stored.modified_at.isoformat(
        sep=' ', timespec='seconds'))


def _problem_rows(report):
    deleted = set(report.deleted)
    for orphan in report.orphans:
        yield {'store': orphan.store,
               'problem': 'orphan, deleted' if orphan in deleted
               else 'orphan',
               'image_id': orphan.image_id, 'object': orphan.write_id,
               'size': sum(o.size for o in orphan.objects),
               'detail': '; '.join(_object_detail(o)
                                   for o in orphan.objects)}
    for broken in report.broken:
        missing = broken.actual_size is None
        yield {'store': broken.store,
               'problem': 'data missing' if missing else 'wrong size',
               'image_id': broken.image_id, 'object': broken.url,
               'size': broken.actual_size,
               'detail': 'location says %s bytes' % broken.expected_size}


_STORE_COLUMNS = [
    ('STORE', lambda r: r.store),
    ('OBJECTS', lambda r: r.objects if r.checkable else None),
    ('IN FLIGHT', lambda r: r.in_flight if r.checkable else None),
    ('ABANDONED', lambda r: r.abandoned if r.checkable else None),
    ('ORPHANS', lambda r: len(r.orphans) if r.checkable else None),
    ('DELETED', lambda r: len(r.deleted) if r.checkable else None),
    ('BROKEN LOCATIONS', lambda r: len(r.broken) if r.checkable else None),
    ('CHECKED', lambda r: 'yes' if r.checkable else 'no: ' + r.reason),
]

_PROBLEM_COLUMNS = [(header, lambda row, key=key: row[key])
                    for header, key in [
                        ('STORE', 'store'), ('PROBLEM', 'problem'),
                        ('IMAGE', 'image_id'), ('SIZE', 'size'),
                        ('DETAIL', 'detail'), ('OBJECT', 'object')]]


def _report_json(report):
    deleted = set(report.deleted)
    return {
        'store': report.store, 'checkable': report.checkable,
        'reason': report.reason, 'objects': report.objects,
        'in_flight': report.in_flight, 'abandoned': report.abandoned,
        'orphans': [{'image_id': o.image_id, 'write_id': o.write_id,
                     'deleted': o in deleted,
                     'objects': [s._asdict() for s in o.objects]}
                    for o in report.orphans],
        'broken_locations': [b._asdict() for b in report.broken],
    }


def stores_check(conf):
    stores = manager.StoreManager(conf)
    reports = check.check_stores(
        context.get_admin_context(), stores,
        stores.enabled_stores + [stores_conf.STAGING_STORE],
        conf['import'].lock_ttl, delete=conf.command.delete)
    problems = sum(len(report.problems) for report in reports)
    if conf.command.format == 'json':
        output.dump_json({'stores': [_report_json(r) for r in reports],
                          'problems': problems})
    else:
        output.print_table(_STORE_COLUMNS, reports)
        rows = [row for report in reports for row in _problem_rows(report)]
        if rows:
            print()
            output.print_table(_PROBLEM_COLUMNS, rows)
    return int(bool(problems))


def _add_parser(subparsers, name, help_text, func=None):
    """A (sub)command whose help shows in its parent's list and its own."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description=help_text)
    if func is not None:
        parser.set_defaults(func=func)
    return parser


def _add_actions(subparsers, name, help_text):
    parser = _add_parser(subparsers, name, help_text)
    actions = parser.add_subparsers(dest='action', metavar='ACTION')
    actions.required = True
    return actions


def _add_command_parsers(subparsers):
    db_actions = _add_actions(subparsers, 'db', 'Manage the database.')
    _add_parser(db_actions, 'sync',
                'Migrate the database to the newest schema.', db_sync)
    _add_parser(db_actions, 'version',
                'Print the schema revision of the database.', db_version)
    loading = _add_parser(
        db_actions, 'load-metadefs',
        'Add the metadata definition namespaces of a directory\'s *.json '
        'files (one namespace each) that the catalogue does not have; '
        'existing ones are left unchanged, so running it again changes '
        'nothing. Every file is checked before anything is loaded.',
        db_load_metadefs)
    loading.add_argument(
        'path', nargs='?', metavar='PATH',
        help='The directory (default: the definitions installed with '
             'glance-lite, %s).' % load_metadefs.default_directory())
    output.add_format_argument(loading)

    imports_actions = _add_actions(subparsers, 'imports',
                                   'Inspect and clean up imports.')
    output.add_format_argument(_add_parser(
        imports_actions, 'list',
        'List running and abandoned imports, one row per import task: '
        'its stores, owner (host/pid), seconds since its last heartbeat, '
        'progress and state (live, or expired after [import] lock_ttl). '
        'Exits 1 if an import has expired.', imports_list))
    output.add_format_argument(_add_parser(
        imports_actions, 'reap',
        'Run the reaper once now: undo every import whose owner sent no '
        'heartbeat for [import] lock_ttl (its writes removed, its task '
        'failed, the image status it had restored) and list them. '
        'Exits 0 whether or not there was anything to reap.',
        imports_reap))

    stores_actions = _add_actions(subparsers, 'stores',
                                  'Check the data in the stores.')
    checking = _add_parser(
        stores_actions, 'check',
        'Walk every enabled store and the staging store; report orphans '
        '(data no location and no import explains) and locations whose '
        'data is missing or of the wrong size. Safe while imports run: '
        'their data is not reported. Exits 1 if it finds a problem '
        '(deleted orphans excepted).', stores_check)
    checking.add_argument(
        '--delete', action='store_true',
        help='Remove the orphans, each judged again right before it is '
             'removed. Location data is never removed.')
    output.add_format_argument(checking)


_COMMAND_OPT = cfg.SubCommandOpt(
    'command', title='Commands', help='Available commands',
    handler=_add_command_parsers)


def main(argv=None):
    conf = cmd.load_config(argv, cli_opts=[_COMMAND_OPT])
    try:
        return conf.command.func(conf) or 0
    except exception.GlanceLiteException as e:
        # The operator runs this: tell them the detail, not the
        # message written for API users.
        print('glance-lite-manage: %s' % e.detail, file=sys.stderr)
        return 1
