"""glance-lite-manage and glance-lite-api start-up, as separate processes."""

import os
import tempfile
import unittest

import sqlalchemy as sa

from tests.functional import base as functional_base
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
