"""Database calls through an outage of a real, private database server.

Each class starts its own PostgreSQL or MariaDB (tests/private_db.py),
points glance_lite.db.api at it, and crashes it with SIGKILL while a
call is made: a context with a retry budget (an import's) rides out a
restart, one without (a request's) fails at once with
DatabaseUnavailable, and a budget that runs out gives up with it.

The primitives the import pipeline retries must be harmless when run
again after a commit that landed although its reply was lost; that is
tested on every backend by simply running each one twice.
"""

import os
import sqlite3
import tempfile
import threading
import time
import unittest

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from glance_lite.common import context
from glance_lite.common import exception
from glance_lite.db import api as db_api
from tests import private_db
from tests.unit.db import base


STAGING = 'os_glance_staging_store'


class PrivateServerTestCase(unittest.TestCase):
    """A class's own ``SERVER``, with an image and its pending task."""

    SERVER = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.SERVER()
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()

    def setUp(self):
        super().setUp()
        self.server.use_for_glance_lite(self)
        self.context = context.RequestContext()
        self.image_id = db_api.image_create(self.context, {})['id']
        self.task_id = db_api.task_create(self.context, {
            'type': 'api_image_import', 'image_id': self.image_id,
            'input': {}})['id']

    def restart_in_background(self, delay):
        """Restart the crashed server after ``delay`` s; join at cleanup."""
        def restart():
            time.sleep(delay)
            self.server.restart()
        restarter = threading.Thread(target=restart)
        restarter.start()
        self.addCleanup(restarter.join)

    def set_processing(self, ctx):
        return db_api.task_update(ctx, self.task_id,
                                  {'status': 'processing'},
                                  from_statuses=['pending'])

    def task_status(self):
        return db_api.task_get(self.context, self.task_id)['status']


class RetryThroughOutageMixin:

    def test_call_with_budget_rides_out_a_restart(self):
        self.server.crash()
        self.restart_in_background(2)
        importing = self.context.with_db_retry_timeout(60)
        self.assertTrue(self.set_processing(importing))
        self.assertEqual('processing', self.task_status())

    def test_call_without_budget_fails_at_once(self):
        self.server.crash()
        # Were the call to retry, it would succeed once this restart is
        # done; a request's call must not wait for it.
        self.restart_in_background(3)
        self.assertRaises(exception.DatabaseUnavailable,
                          self.set_processing, self.context)
        self.assertFalse(self.server.accepts_connections())

    def test_budget_runs_out(self):
        self.server.crash()
        self.addCleanup(self.server.restart)
        started = time.monotonic()
        self.assertRaises(exception.DatabaseUnavailable, self.set_processing,
                          self.context.with_db_retry_timeout(2))
        # It did retry: it gave up only once its budget had passed.
        self.assertGreaterEqual(time.monotonic() - started, 2)


class PostgreSQLOutageTests(RetryThroughOutageMixin, PrivateServerTestCase):
    SERVER = private_db.PrivatePostgreSQL


class MariaDBOutageTests(RetryThroughOutageMixin, PrivateServerTestCase):
    SERVER = private_db.PrivateMariaDB


class RunTwiceTests(base.DbTestCase):
    """Each retried primitive, run again as after a lost COMMIT reply."""

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image(status='importing')['id']
        self.task_id = 'task-1'
        db_api.import_lock_acquire(self.context, self.image_id, 'fast',
                                   self.task_id)

    def test_lock_acquire(self):
        again = db_api.import_lock_acquire(self.context, self.image_id,
                                           'fast', self.task_id)
        self.assertEqual(self.task_id, again['task_id'])

    def test_heartbeat(self):
        for _run in range(2):
            self.assertEqual({'fast'}, db_api.import_lock_heartbeat(
                self.context, self.image_id, self.task_id))

    def test_location_add(self):
        for _run in range(2):
            db_api.image_location_add(
                self.context, self.image_id, 'fast', 'file:///fast/x.task-1',
                lock_task_id=self.task_id, size=3)
        self.assertEqual(['file:///fast/x.task-1'], [
            location['url'] for location in db_api.image_get(
                self.context, self.image_id)['locations']])
        # Another URL in the same store is still a conflict.
        self.assertRaises(exception.LocationExists,
                          db_api.image_location_add, self.context,
                          self.image_id, 'fast', 'file:///fast/x.task-9',
                          lock_task_id=self.task_id, size=3)

    def test_finish(self):
        db_api.task_create(self.context, {
            'id': self.task_id, 'type': 'api_image_import',
            'image_id': self.image_id, 'status': 'processing', 'input': {}})
        db_api.import_lock_acquire(self.context, self.image_id, STAGING,
                                   self.task_id)
        activation = {'size': 3, 'checksum': 'c', 'os_hash_algo': 'sha512',
                      'os_hash_value': 'h'}
        outcome = {'stores_succeeded': ['fast'], 'stores_failed': []}
        for _run in range(2):
            db_api.import_finish(self.context, self.image_id, self.task_id,
                                 outcome, activation)
        image = db_api.image_get(self.context, self.image_id)
        self.assertEqual(('active', []),
                         (image['status'], image['importing_to_stores']))
        self.assertEqual('success', db_api.task_get(
            self.context, self.task_id)['status'])

    def test_finish_of_a_reaped_task_still_fails(self):
        db_api.task_create(self.context, {
            'id': self.task_id, 'type': 'api_image_import',
            'image_id': self.image_id, 'status': 'processing', 'input': {}})
        db_api.task_update(self.context, self.task_id,
                           {'status': 'failure', 'message': 'reaped'})
        db_api.import_lock_release_all(self.context, self.image_id,
                                       self.task_id)
        self.assertRaises(exception.ImportLockLost, db_api.import_finish,
                          self.context, self.image_id, self.task_id,
                          {'stores_succeeded': ['fast'],
                           'stores_failed': []}, {'size': 3})

    def test_task_create_and_update(self):
        values = {'id': 'task-x', 'type': 'api_image_import',
                  'image_id': self.image_id, 'input': {}}
        for _run in range(2):
            self.assertEqual('pending', db_api.task_create(
                self.context, values)['status'])
        for _run in range(2):
            self.assertTrue(db_api.task_update(
                self.context, 'task-x', {'status': 'processing'},
                from_statuses=['pending']))
        # An ended task is not brought back, nor its message replaced.
        db_api.task_update(self.context, 'task-x',
                           {'status': 'failure', 'message': 'reaped'})
        self.assertFalse(db_api.task_update(
            self.context, 'task-x', {'status': 'failure', 'message': 'late'},
            from_statuses=['pending', 'processing']))
        self.assertEqual('reaped', db_api.task_get(
            self.context, 'task-x')['message'])


class MySQLRunTwiceTests(RunTwiceTests):
    FIXTURE = base.MySQLFixture


class PostgreSQLRunTwiceTests(RunTwiceTests):
    FIXTURE = base.PostgreSQLFixture


class SQLiteLockedTests(unittest.TestCase):
    """SQLite's "database is locked" is retried as a conflict."""

    def test_database_is_locked_is_a_deadlock(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, 'locked.sqlite')
            holder = sqlite3.connect(path, isolation_level=None)
            self.addCleanup(holder.close)
            holder.execute('CREATE TABLE t (x INTEGER)')
            holder.execute('BEGIN IMMEDIATE')
            # No busy wait: the writer below meets the lock at once.
            engine = sa.create_engine('sqlite:///%s' % path,
                                      connect_args={'timeout': 0})
            self.addCleanup(engine.dispose)
            with self.assertRaises(sa_exc.OperationalError) as raised:
                with engine.begin() as connection:
                    connection.execute(sa.text('INSERT INTO t VALUES (1)'))
        self.assertIn('database is locked', str(raised.exception))
        self.assertIs(exception.DatabaseDeadlock,
                      db_api.transient_error(raised.exception))
