"""glance-lite-manage and glance-lite-api start-up, as separate processes."""

import datetime
import json
import os
import socket
import tempfile
import time
import unittest

import sqlalchemy as sa

from glance_lite.db import api as db_api
from glance_lite.store import manager
from tests.functional import base as functional_base
from tests.unit import config
from tests.unit.db import base as db_base

TABLES = {'images', 'image_properties', 'image_marker_elements',
          'image_locations', 'image_tags', 'image_members', 'tasks',
          'import_locks', 'alembic_version'}


class ManageDbTests(db_base.DbTestCase):
    """db sync and db version against each backend's real server."""

    FIXTURE = db_base.EmptySQLiteFixture

    def setUp(self):
        super().setUp()
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.runner = functional_base.CommandRunner(scratch.name)

    def manage(self, *args):
        return self.runner.run(
            'glance-lite-manage', *args,
            config_lines=['[database]', 'connection = %s' % self.db_url])

    def test_sync_then_version(self):
        before = self.manage('db', 'version')
        self.assertEqual(0, before.returncode, before.stderr)
        self.assertEqual('None', before.stdout.strip())

        head = functional_base.head_revision()
        for _ in range(2):  # a second sync finds nothing to do
            synced = self.manage('db', 'sync')
            self.assertEqual(0, synced.returncode, synced.stderr)
            self.assertIn('revision %s' % head, synced.stdout)

        self.assertEqual(head, self.manage('db', 'version').stdout.strip())
        self.assertTrue(TABLES <= set(sa.inspect(
            self.engine).get_table_names()))


class ManageDbTestsMySQL(ManageDbTests):
    FIXTURE = db_base.EmptyMySQLFixture


class ManageDbTestsPostgreSQL(ManageDbTests):
    FIXTURE = db_base.EmptyPostgreSQLFixture


class EmbeddedDefaultTests(unittest.TestCase):
    """No database configured: everything lives under state_path."""

    def setUp(self):
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.runner = functional_base.CommandRunner(scratch.name)
        self.database = os.path.join(self.runner.state_path,
                                     'glance-lite.sqlite')

    def test_manage_creates_state_path_and_database(self):
        synced = self.runner.run('glance-lite-manage', 'db', 'sync')
        self.assertEqual(0, synced.returncode, synced.stderr)
        self.assertTrue(os.path.isfile(self.database))

    def test_db_version_creates_nothing(self):
        version = self.runner.run('glance-lite-manage', 'db', 'version')
        self.assertEqual(0, version.returncode, version.stderr)
        self.assertEqual('None', version.stdout.strip())
        self.assertIn('no database at %s' % self.database, version.stderr)
        self.assertFalse(os.path.exists(self.runner.state_path))

    def test_api_on_a_busy_port_exits_at_once_naming_bind_port(self):
        with socket.socket() as taken:
            taken.bind(('127.0.0.1', 0))
            taken.listen()
            port = taken.getsockname()[1]
            started = self.runner.run(
                'glance-lite-api', config_lines=['bind_port = %d' % port])
        self.assertEqual(1, started.returncode, started.stderr)
        self.assertIn('Cannot listen on 127.0.0.1:%d: Address already in '
                      'use' % port, started.stderr)
        self.assertIn('[DEFAULT] bind_host and bind_port', started.stderr)
        # Neither announced nor retried (gunicorn retries five times,
        # logging "Connection in use" each time).
        self.assertNotIn('Serving the Image API', started.stderr)
        self.assertNotIn('Connection in use', started.stderr)
        self.assertNotIn('Traceback', started.stderr)

    def test_api_refuses_a_ttl_shorter_than_three_heartbeats(self):
        started = self.runner.run(
            'glance-lite-api', config_lines=[
                '[import]', 'heartbeat_interval = 20', 'lock_ttl = 30'])
        self.assertEqual(1, started.returncode)
        self.assertIn('lock_ttl (30) must be at least three times',
                      started.stderr)
        self.assertNotIn('Traceback', started.stderr)
        self.assertFalse(os.path.exists(self.database))

    def test_unreachable_database_is_a_clear_error(self):
        synced = self.runner.run(
            'glance-lite-manage', 'db', 'sync', config_lines=[
                '[database]',
                'connection = mysql+pymysql://nobody:x@127.0.0.1:9/nothing',
                'max_retries = 0'])
        self.assertEqual(1, synced.returncode)
        self.assertIn('Database unreachable', synced.stderr)
        self.assertNotIn('Traceback', synced.stderr)


class ManageOperatorCommandTests(db_base.DbTestCase):
    """imports list and stores check as an operator runs them."""

    def setUp(self):
        super().setUp()
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.runner = functional_base.CommandRunner(scratch.name)
        self.stores = manager.StoreManager(config.make_conf(
            '[DEFAULT]', 'state_path = %s' % self.runner.state_path))
        self.local = self.stores.get('local')

    def manage(self, *args):
        return self.runner.run(
            'glance-lite-manage', *args,
            config_lines=['[database]', 'connection = %s' % self.db_url])

    def write(self, data, location=True):
        image_id = self.create_image()['id']
        stored = self.local.add(image_id, iter([data]), 'task-1')
        if location:
            db_api.image_location_add(self.context, image_id, 'local',
                                      stored.location, size=stored.size)
        path = stored.location[len('file://'):]
        os.utime(path, (time.time() - 3600, time.time() - 3600))
        return image_id, path

    def test_stores_check_reports_then_deletes_orphans(self):
        self.write(b'healthy')
        orphan_id, orphan = self.write(b'orphan', location=False)
        missing_id, missing = self.write(b'missing')
        os.unlink(missing)

        checked = self.manage('stores', 'check')
        self.assertEqual(1, checked.returncode, checked.stderr)
        lines = checked.stdout.splitlines()
        self.assertEqual(['STORE', 'OBJECTS', 'IN', 'FLIGHT'],
                         lines[0].split()[:4])
        self.assertRegex(checked.stdout,
                         r'local +orphan +%s +6 +complete, .* +task-1\n'
                         % orphan_id)
        self.assertRegex(checked.stdout,
                         r'local +data missing +%s +- +location says 7 '
                         r'bytes +file://%s\n' % (missing_id, missing))

        as_json = json.loads(self.manage('stores', 'check', '--format',
                                         'json').stdout)
        self.assertEqual(2, as_json['problems'])
        [local] = [s for s in as_json['stores'] if s['store'] == 'local']
        self.assertEqual([orphan_id],
                         [o['image_id'] for o in local['orphans']])

        deleted = self.manage('stores', 'check', '--delete')
        self.assertRegex(deleted.stdout, r'orphan, deleted +%s' % orphan_id)
        self.assertFalse(os.path.exists(orphan))
        # The location without its data is still a problem.
        self.assertEqual(1, deleted.returncode, deleted.stderr)

        db_api.image_location_remove(self.context, missing_id, 'local',
                                     'file://' + missing)
        clean = self.manage('stores', 'check')
        self.assertEqual(0, clean.returncode, clean.stderr + clean.stdout)

    def abandoned_first_import(self):
        """A glance-direct import whose process died mid-copy.

        The image is importing with its data staged; its task holds the
        staging lock and the lock of ``local``, where its partial copy
        is, and last beat an hour ago.
        """
        image_id = self.create_image()['id']
        db_api.image_status_transition(self.context, image_id, ['queued'],
                                       'uploading')
        staging = self.stores.get(functional_base.STAGING_STORE)
        staged = staging.add(image_id, iter([b'staged data']), 'stage-1')
        db_api.image_location_add(
            self.context, image_id, functional_base.STAGING_STORE,
            staged.location, size=staged.size)
        db_api.image_status_transition(self.context, image_id,
                                       ['uploading'], 'importing')
        task = db_api.task_create(self.context, {
            'type': 'api_image_import', 'image_id': image_id,
            'status': 'processing',
            'input': {'method': 'glance-direct', 'stores': ['local']}})
        for store in ('local', functional_base.STAGING_STORE):
            db_api.import_lock_acquire(
                self.context, image_id, store, task['id'],
                owner={'owner_host': 'gone-host', 'owner_pid': 4242},
                now=datetime.datetime.utcnow() - datetime.timedelta(hours=1))
        partial = os.path.join(self.local.datadir, '.%s.%s.partial' % (
            image_id, task['id']))
        with open(partial, 'wb') as partial_file:
            partial_file.write(b'staged')
        return image_id, task['id'], partial

    def test_imports_list_shows_live_and_expired_imports(self):
        live_image = self.create_image()['id']
        db_api.import_lock_acquire(
            self.context, live_image, 'replica', 'live-task',
            owner={'owner_host': 'host-1', 'owner_pid': 1234})
        db_api.import_lock_heartbeat(self.context, live_image, 'live-task',
                                     progress=('replica', 1024, 4096))
        dead_image, dead_task, _partial = self.abandoned_first_import()

        listed = self.manage('imports', 'list')
        self.assertEqual(1, listed.returncode, listed.stderr)
        header, expired, live = listed.stdout.splitlines()
        self.assertEqual(['IMAGE', 'TASK', 'METHOD', 'STORES'],
                         header.split()[:4])
        self.assertRegex(
            expired, r'^%s +%s +glance-direct +local, '
            r'os_glance_staging_store +gone-host/4242 +36\d\d\.\d s +- +'
            r'expired$' % (dead_image, dead_task))
        self.assertRegex(
            live, r'^%s +live-task +- +replica +host-1/1234 +\d+\.\d s +'
            r'1024/4096 B \(25%%\) +live$' % live_image)

        as_json = json.loads(self.manage('imports', 'list', '--format',
                                         'json').stdout)
        self.assertEqual(
            [(dead_task, 'expired', 'gone-host', 4242, None),
             ('live-task', 'live', 'host-1', 1234, 25.0)],
            [(i['task_id'], i['state'], i['owner_host'], i['owner_pid'],
              i['percent']) for i in as_json['imports']])

        db_api.import_lock_release_all(self.context, dead_image, dead_task)
        self.assertEqual(0, self.manage('imports', 'list').returncode)

    def test_imports_reap_undoes_an_abandoned_import(self):
        image_id, task_id, partial = self.abandoned_first_import()

        reaped = self.manage('imports', 'reap')

        self.assertEqual(0, reaped.returncode, reaped.stderr)
        header, row = reaped.stdout.splitlines()
        self.assertEqual(['IMAGE', 'TASK', 'METHOD', 'STORES', 'DEAD'],
                         header.split()[:5])
        self.assertRegex(
            row, r'^%s +%s +glance-direct +local, os_glance_staging_store +'
            r'gone-host/4242 +36\d\d\.\d s +local, os_glance_staging_store +'
            r'uploading$' % (image_id, task_id))
        self.assertFalse(os.path.exists(partial))
        self.assertEqual('uploading',
                         db_api.image_get(self.context, image_id)['status'])
        task = db_api.task_get(self.context, task_id)
        self.assertEqual('failure', task['status'])
        self.assertIn('pid 4242 on host gone-host', task['message'])

        again = self.manage('imports', 'reap', '--format', 'json')
        self.assertEqual((0, {'reaped': []}),
                         (again.returncode, json.loads(again.stdout)))
        self.assertEqual(0, self.manage('imports', 'list').returncode)

    def test_help_describes_each_command(self):
        for command, words in [(('imports', 'list'), 'expired'),
                               (('imports', 'reap'), 'reaper once'),
                               (('stores', 'check'), '--delete')]:
            helped = self.manage(*command, '--help')
            self.assertEqual(0, helped.returncode, helped.stderr)
            self.assertIn(words, helped.stdout)
            self.assertIn('--format {table,json}', helped.stdout)


class ManageOperatorCommandTestsMySQL(ManageOperatorCommandTests):
    FIXTURE = db_base.MySQLFixture


class ManageOperatorCommandTestsPostgreSQL(ManageOperatorCommandTests):
    FIXTURE = db_base.PostgreSQLFixture
