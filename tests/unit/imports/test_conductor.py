"""Imports through a real jobboard (Redis, ZooKeeper) and a conductor.

The API side (ImportService with a board) posts; a conductor, in a
thread of this process with a board connection of its own, claims and
runs. The multi-process scenarios (conductors SIGKILLed and SIGSTOPped
mid-copy, several API servers) are tests/functional/test_conductors.py.
"""

import contextlib
import functools
import os
import threading
import time

import sqlalchemy as sa

from glance_lite.db import api as db_api
from glance_lite.db import models
from glance_lite.imports import conductor
from glance_lite.imports import jobboard
from glance_lite.imports import jobs
from glance_lite.imports import lock
from glance_lite.imports import reaper
from glance_lite.imports import service
from tests import jobboards
from tests.unit import config
from tests.unit.db import base as db_base
from tests.unit.imports import base

DATA = b'conducted' * 10000
# Two seconds of copying to the throttled store (0.05 s per 64 KiB).
SLOW_DATA = os.urandom(40 * 64 * 1024)


class ConductorTests(base.ImportTestCase):
    BACKEND = 'redis'

    def setUp(self):
        super().setUp()
        # Long enough for a loaded CI machine to renew the claims in
        # time: a claim lapsing is the fenced run's test below, and the
        # functional tests', not these tests' business.
        board = self.useFixture(jobboards.JobboardFixture(
            self.BACKEND, 'jobboard_claim_ttl = 10'))
        self.conf = config.make_conf(
            *base.config_lines(self.state_path),
            *board.config_file.splitlines())
        self.board = self.connected_board()
        self.scheduled = functools.partial(jobs.scheduled_tasks, self.board)
        self.service = service.ImportService(
            self.conf, self.stores, self.service.executor, board=self.board,
            scheduled=self.scheduled)

    def connected_board(self):
        connections = contextlib.ExitStack()
        self.addCleanup(connections.close)
        return connections.enter_context(jobboard.connected_jobboard(
            self.conf, persistence=jobs.persistence_backend()))

    def start_conductor(self, name='conductor-1'):
        runner = conductor.ImportConductor(name, self.connected_board(),
                                           self.conf, self.stores, [])
        thread = threading.Thread(target=runner.run, daemon=True)
        thread.start()
        self.addCleanup(runner.wait, 30)
        self.addCleanup(runner.stop)
        return runner

    def recorded_flows(self):
        """Rows of TaskFlow's tables: logbooks, flow and atom details."""
        with db_api.get_engine().connect() as connection:
            return {name: connection.execute(sa.select(sa.func.count()).
                                             select_from(table)).scalar()
                    for name, table in models.Base.metadata.tables.items()
                    if name in ('logbooks', 'flowdetails', 'atomdetails')}

    def test_an_import_waits_on_the_board_then_runs_on_a_conductor(self):
        image_id = self.staged_image(DATA)
        task = self.service.import_image(self.context, image_id,
                                         'glance-direct')
        self.assertEqual({task['id']}, self.scheduled())
        self.assertEqual(1, self.recorded_flows()['flowdetails'])
        # No conductor yet: the job waits, and its locks, stale as they
        # get, are the job's, not the reaper's.
        time.sleep(base.LOCK_TTL + 0.5)
        self.assertEqual([], reaper.reap_expired_imports(
            self.context, self.conf, self.stores, scheduled=self.scheduled))
        self.assertEqual('pending',
                         db_api.task_get(self.context, task['id'])['status'])
        self.assertEqual('importing', self.image(image_id)['status'])

        self.start_conductor()
        done = self.wait_for_task(task['id'])
        self.assertEqual('success', done['status'], done['message'])
        image = self.image(image_id)
        self.assertEqual(('active', len(DATA)), (image['status'],
                                                 image['size']))
        self.assertEqual(['fast'], [location['store']
                                    for location in image['locations']])
        self.wait_for(lambda: not self.scheduled(), what='job consumed')
        self.assertEqual([], db_api.import_lock_list(self.context, image_id))
        self.assertEqual({'logbooks': 0, 'flowdetails': 0, 'atomdetails': 0},
                         self.recorded_flows())
        self.assert_nothing_orphaned(image_id)

    def test_copies_to_several_stores_on_a_conductor(self):
        self.start_conductor()
        image_id = self.active_image(DATA)
        task = self.service.import_image(self.context, image_id,
                                         'copy-image',
                                         stores=['slow', 'common'])
        done = self.wait_for_task(task['id'])
        self.assertEqual('success', done['status'], done['message'])
        self.assertEqual({'fast', 'slow', 'common'}, {
            location['store']
            for location in self.image(image_id)['locations']})
        self.assert_nothing_orphaned(image_id)

    def flow_state(self, task_id):
        with db_api.get_engine().connect() as connection:
            return connection.execute(sa.text(
                'SELECT state FROM flowdetails WHERE uuid = :uuid'),
                {'uuid': task_id}).scalar()

    def test_a_run_fenced_by_a_takeover_is_run_again_whole(self):
        # A conductor stalled past its claim finds, at its next lock
        # check, that another took the import over, and reverts. Its
        # record then reads REVERTED, which the conductor that took over
        # had taken for an import that failed.
        runner = self.start_conductor()
        image_id = self.active_image(SLOW_DATA)
        task = self.service.import_image(self.context, image_id,
                                         'copy-image', stores=['throttled'])
        self.wait_for(lambda: db_api.task_get(
            self.context, task['id'])['status'] == 'processing',
            what='the copy to start')
        # What the conductor claiming the job next does first.
        self.assertEqual({'throttled'}, db_api.import_lock_take_over(
            self.context, image_id, task['id'], lock.new_lease(task['id']),
            lock.lock_owner(self.conf)))
        self.wait_for(lambda: self.flow_state(task['id']) == 'REVERTED',
                      what='the fenced run to revert')
        runner.stop()
        runner.wait(30)
        with contextlib.closing(
                jobs.persistence_backend().get_connection()) as connection:
            book = connection.get_logbook(task['id'])

        jobs.resume_import('conductor-2', self.conf, self.stores, [], book)
        done = db_api.task_get(self.context, task['id'])
        self.assertEqual('success', done['status'], done['message'])
        self.assertEqual({'fast', 'throttled'}, {
            location['store']
            for location in self.image(image_id)['locations']})
        self.assert_nothing_orphaned(image_id)
        self.assertEqual({'logbooks': 0, 'flowdetails': 0, 'atomdetails': 0},
                         self.recorded_flows())

    def test_many_imports_at_once_through_three_conductors(self):
        # Concurrent first saves of their steps' records deadlocked on
        # MariaDB now and then, and the import failed: TaskFlow retries
        # only the errors of an engine of its own kind.
        for name in ('conductor-1', 'conductor-2', 'conductor-3'):
            self.start_conductor(name)
        images = [self.staged_image(DATA) for _ in range(30)]
        tasks = [self.service.import_image(self.context, image_id,
                                           'glance-direct')
                 for image_id in images]
        ended = [self.wait_for_task(task['id']) for task in tasks]
        self.assertEqual([], [(task['id'], task['message'])
                              for task in ended
                              if task['status'] != 'success'])
        self.assertEqual({'active'}, {self.image(image_id)['status']
                                      for image_id in images})


class ConductorTestsZooKeeper(ConductorTests):
    BACKEND = 'zookeeper'


class ConductorTestsMySQL(ConductorTests):
    FIXTURE = db_base.MySQLFixture


class ConductorTestsZooKeeperPostgreSQL(ConductorTests):
    BACKEND = 'zookeeper'
    FIXTURE = db_base.PostgreSQLFixture
