"""Imports run by glance-lite-conductor processes, killed and stopped.

Real processes on this host, laid out as a deployment runs them: two
API servers (``api-a`` and ``api-b``: ports and ``[DEFAULT] host`` of
their own) that accept imports and post them on a jobboard, and
conductors (``glance-lite-conductor``, hosts of their own) that claim
and run them; one database, and the same store directories for all.
Every class runs on Redis and on ZooKeeper with SQLite; the topology
also on MariaDB (with Redis) and on PostgreSQL (with ZooKeeper).

Failures are real signals: SIGKILL for a crashed conductor host,
SIGSTOP for a partitioned or hung one. To kill a conductor at a given
step of an import, whatever the timing, the conductor under test is
started through tests/functional/stopping_conductor.py, which stops
itself (SIGSTOP) when that step starts or ends; the test then kills it.
The other conductors are the plain console script, already running
when it is killed, and must finish the import.

The store ``throttled`` writes a chunk (256 KiB) every 0.3 s, so a
copy of SIZE takes about 2.4 s; ``common`` is a plain file store.
Timings are short: locks live 3 s (heartbeat 0.5 s, reaper every 1 s)
and a jobboard claim 2 s past its conductor's death (the ZooKeeper of
.ci/run accepts sessions down to 1 s).
"""

import collections
import concurrent.futures
import io
import itertools
import os
import re
import signal
import sys
import threading
import time

import fixtures
import pytest
import sqlalchemy as sa

from glance_lite.imports import jobboard
from glance_lite.imports import jobs
from tests.functional import base
from tests.functional import test_import_pipeline as pipeline
from tests import jobboards
from tests.unit.db import base as db_base

pytestmark = pytest.mark.filterwarnings(
    'ignore::PendingDeprecationWarning:openstack')

LOCK_TTL = 3
HEARTBEAT = 0.5
REAPER_INTERVAL = 1
CLAIM_TTL = 2
CHUNK = 256 * 1024
SECONDS_PER_CHUNK = 0.3
# 8 chunks: a copy to ``throttled`` takes about 2.4 s.
SIZE = 8 * CHUNK
# A dead conductor's job is claimed again once its claim has lapsed,
# plus the time the other conductors take to notice (a margin for a
# busy machine).
CLAIMED_AGAIN_WITHIN = CLAIM_TTL + 15
# How long an import may take from its acceptance (or its resumption).
DONE_WITHIN = 60
COPY_STORES = ('common', 'throttled')
STOPPING_CONDUCTOR = (sys.executable, '-m',
                      'tests.functional.stopping_conductor')
# Lines of each process's log printed (for pytest to show) with a
# failed test's output: those written during the test, the last ones.
LOG_LINES_SHOWN = 300

# What conductors log (glance_lite.imports.conductor and jobs), and
# what stopping_conductor does.
CLAIMED = 'claimed the job of import task'
COMPLETED = 'completed import task'
STOPPED = re.compile(r'^stopping_conductor: at (\S+),', re.M)
RUN = re.compile(r'^(\S+ \S+) .* Conductor (\S+) (?:runs|resumes) import '
                 r'task (\S+) of image \S+ under lease (\S+?)'
                 r'(?:; steps already done: (.*))?$', re.M)


def logged(what, task_id, name=None):
    """A pattern of ``Conductor <name> <what> <task_id>`` in a log.

    Its group 1 is the conductor's name (any, unless ``name`` is given).
    """
    return re.compile(r'Conductor (%s) %s %s\b' % (
        re.escape(name) if name else r'\S+', what, task_id))


def conductor_hosts():
    return ('conductor-%d' % number for number in itertools.count(1))


class ConductorTestCase(pipeline.PipelineHelpers, base.ServerTestCase):
    """Two API servers posting on ``BOARD``, conductors per test or class.

    ``CONDUCTORS`` conductors run for the whole class; tests start more
    of their own (``start_conductors``), stopped when the test ends.
    Each test's output is the logs of every process during the test,
    which pytest shows when it fails.
    """

    BOARD = 'redis'
    FIXTURE = db_base.EmptySQLiteFixture
    ENABLED_BACKENDS = 'fast:file, common:file, throttled:throttled_file'
    STORES = ('fast',) + COPY_STORES
    ALL_STORE_DIRS = STORES + (base.STAGING_STORE, 'os_glance_tasks_store')
    CONDUCTORS = 0

    @classmethod
    def setUpClass(cls):
        cls.board = jobboards.JobboardFixture(
            cls.BOARD, 'jobboard_claim_ttl = %d' % CLAIM_TTL)
        try:
            cls.board.setUp()
        except fixtures.MultipleExceptions as errors:
            # Its SkipTest, or why it failed.
            raise errors.args[0][1] from None
        cls.addClassCleanup(cls.board.cleanUp)
        cls.hosts = conductor_hosts()
        super().setUpClass()
        cls.server_b = cls.start_server('[DEFAULT]', 'host = api-b')
        cls.servers = (cls.server, cls.server_b)
        cls.engine = sa.create_engine(
            cls.database_url or 'sqlite:///%s' % os.path.join(
                cls.runner.state_path, 'glance-lite.sqlite'),
            poolclass=sa.pool.NullPool)
        cls.addClassCleanup(cls.engine.dispose)
        cls.conductors = [cls.launch_conductor(cls.addClassCleanup)
                          for _ in range(cls.CONDUCTORS)]
        for conductor in cls.conductors:
            conductor.wait_until_ready()

    @classmethod
    def config_lines(cls):
        """What the API servers and the conductors all read."""
        return super().config_lines() + [
            '[fast]', 'filesystem_store_chunk_size = %d' % CHUNK,
            '[throttled]', 'throttle_seconds_per_chunk = %s'
            % SECONDS_PER_CHUNK,
            '[import]', 'lock_ttl = %d' % LOCK_TTL,
            'heartbeat_interval = %s' % HEARTBEAT,
            'reaper_interval = %d' % REAPER_INTERVAL,
        ] + cls.board.config_file.splitlines()

    @classmethod
    def start_server(cls, *more_lines):
        # The class's ``server`` is api-a; api-b's lines say otherwise.
        return super().start_server('[DEFAULT]', 'host = api-a',
                                    *more_lines)

    @classmethod
    def launch_conductor(cls, add_cleanup, *more_lines, launcher=None):
        """Start a conductor (not waiting for it); stopped by a cleanup."""
        conductor = base.Conductor(cls.runner, next(cls.hosts), launcher)
        add_cleanup(cls.stop_service, conductor)
        conductor.start(*cls.config_lines(), *more_lines)
        return conductor

    def setUp(self):
        super().setUp()
        self.server_b.wait_until_every_worker_serves()
        for conductor in self.conductors:
            self.assertIsNone(conductor.process.poll(), conductor.log())
        self.test_conductors = []
        # Added first, so run last: after the test's conductors stopped.
        self.addCleanup(self.show_logs, self.log_sizes())

    # Processes -----------------------------------------------------------

    def start_conductors(self, count, *more_lines, launcher=None):
        """``count`` conductors of this test, once they take imports."""
        started = [self.launch_conductor(self.addCleanup, *more_lines,
                                         launcher=launcher)
                   for _ in range(count)]
        self.test_conductors += started
        return [conductor.wait_until_ready() for conductor in started]

    def all_conductors(self):
        return list(self.conductors) + self.test_conductors

    def log_sizes(self):
        sizes = {}
        for name in os.listdir(self.scratch_dir):
            if name.endswith('.log'):
                sizes[name] = os.path.getsize(os.path.join(self.scratch_dir,
                                                           name))
        return sizes

    def show_logs(self, sizes_before):
        """Print what each process logged during the test.

        pytest shows a test's output only when the test failed: this
        is how the logs of a failure are collected.
        """
        for name in sorted(self.log_sizes()):
            with open(os.path.join(self.scratch_dir, name),
                      errors='replace') as log:
                log.seek(sizes_before.get(name, 0))
                lines = log.read().splitlines()[-LOG_LINES_SHOWN:]
            print('---- %s (%d last lines of this test) ----\n%s' % (
                name, len(lines), '\n'.join(lines)))

    def wait_for_log(self, what, pattern, conductors=None, timeout=60):
        """The first match of ``pattern`` in a conductor's log, and it."""
        def probe():
            for conductor in conductors or self.all_conductors():
                found = pattern.search(conductor.log())
                if found:
                    return found, conductor
            return None
        return self.wait_for(what, probe, timeout)

    def runs_of(self, task_id):
        """[(conductor name, lease, steps done)] of each run of the task.

        In the order they started (by their logs' timestamps).
        """
        return [run[1:] for run in sorted(
            (found[1], found[2], found[4],
             sorted(filter(None, (found[5] or '').split(', '))))
            for conductor in self.all_conductors()
            for found in RUN.finditer(conductor.log())
            if found[3] == task_id)]

    # The database and the jobboard --------------------------------------

    def query(self, statement, **params):
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(
                sa.text(statement), params).mappings()]

    def atom_states(self, task_id):
        """{step: state} TaskFlow recorded of the task's flow."""
        return {row['name']: row['state'] for row in self.query(
            'SELECT name, state FROM atomdetails '
            'WHERE parent_uuid = :task_id', task_id=task_id)}

    def heartbeat_of(self, task_id):
        """When the task's locks were last refreshed (None: no lock)."""
        return next(iter(self.query(
            'SELECT heartbeat_at FROM import_locks WHERE task_id = :task_id',
            task_id=task_id)), {}).get('heartbeat_at')

    def locations(self, image_id):
        """{store: URL} of the image's locations."""
        return {row['store']: row['url'] for row in self.query(
            'SELECT store, url FROM image_locations '
            'WHERE image_id = :image_id', image_id=image_id)}

    def jobs_on_board(self):
        """The task ids of the jobs on the jobboard (claimed or not)."""
        with jobboard.connected_jobboard(self.board.conf) as board:
            return jobs.scheduled_tasks(board)

    # Requests ------------------------------------------------------------

    def copy(self, image_id, *stores, server=None):
        return self.raw('POST', self.import_path(image_id),
                        body=pipeline.copy_request(*stores), server=server)

    def concurrently(self, *calls):
        """The results of ``calls``, started at once from threads."""
        barrier = threading.Barrier(len(calls))

        def call(function):
            barrier.wait(10)
            return function()

        with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(call, calls))

    def task_status(self, task_id):
        status, task = self.raw('GET', '/v2/tasks/%s' % task_id)
        self.assertEqual(200, status, task)
        return task['status']

    def copy_task(self, image_id, task_ids=()):
        """The image's one copy-image task not in ``task_ids``."""
        [task] = [task for task in self.copy_tasks(image_id)
                  if task['id'] not in task_ids]
        return task

    # Checks --------------------------------------------------------------

    def assert_imported(self, image_id, data, stores, task_ids):
        """The image is active in ``stores``, and nothing else is left.

        One complete file per store, each the store's location, none
        anywhere else (no partial file, nothing staged); no import
        marker, lock, TaskFlow record or job of ``task_ids`` left.
        """
        for task_id in task_ids:
            task = self.wait_for_task(task_id, timeout=DONE_WITHIN)
            self.assertEqual('success', task['status'], task)
        # A conductor tidies up (earlier runs' files, its TaskFlow
        # records) after the task succeeded, then consumes the job.
        self.wait_for('the jobs of tasks %s to be consumed' % (task_ids,),
                      lambda: not set(task_ids) & self.jobs_on_board(),
                      timeout=10, interval=0.2)
        image = self.image(image_id)
        self.assertEqual(('active', set(stores)),
                         (image['status'], base.stores_of(image)))
        self.assertEqual(('', ''), (image['os_glance_importing_to_stores'],
                                    image['os_glance_failed_import']))
        self.assertEqual((len(data),) + base.digests(data), (
            image['size'], image['checksum'], image['os_hash_value']))
        self.assert_one_complete_copy(image_id, data, stores)
        locations = self.locations(image_id)
        self.assertEqual({store: self.store_files(store, image_id)
                          for store in stores},
                         {store: [os.path.basename(url)]
                          for store, url in locations.items()})
        self.assertEqual([], self.query(
            'SELECT store, task_id FROM import_locks '
            'WHERE image_id = :image_id', image_id=image_id))
        for task_id in task_ids:
            self.assertEqual({}, self.atom_states(task_id))
        return locations


class TopologyTests(ConductorTestCase):
    """Two API servers, three conductors, one database, shared stores."""

    CONDUCTORS = 3
    # Copy requests of the burst, from BURST_THREADS client threads,
    # half through each API server. The copy they race for outlasts the
    # burst: 48 chunks, about 15 s.
    BURST_REQUESTS = 1000
    BURST_THREADS = 20
    BURST_SIZE = 48 * CHUNK

    def assert_ran_on_conductors(self, task_ids):
        """Each task completed on a conductor, after its API posted it."""
        api_logs = self.server.log() + self.server_b.log()
        for task_id in task_ids:
            self.assertIn('Posted import task %s' % task_id, api_logs)
            self.wait_for_log('task %s completed on a conductor' % task_id,
                              logged(COMPLETED, task_id), timeout=10)

    def test_copies_to_two_stores_through_two_api_servers(self):
        image_id, data = self.active_image(SIZE)
        answers = self.concurrently(
            lambda: self.copy(image_id, 'common', server=self.server),
            lambda: self.copy(image_id, 'throttled', server=self.server_b))
        self.assertEqual([202, 202], [status for status, _ in answers],
                         answers)
        copies = [task['id'] for task in self.copy_tasks(image_id)]
        self.assertEqual(2, len(copies))
        self.assert_imported(image_id, data, self.STORES, copies)
        self.assert_ran_on_conductors(copies)

    def test_copies_to_one_store_through_two_api_servers(self):
        image_id, data = self.active_image(SIZE)
        answers = self.concurrently(
            lambda: self.copy(image_id, 'throttled', server=self.server),
            lambda: self.copy(image_id, 'throttled', server=self.server_b))
        self.assertEqual([202, 409], sorted(status for status, _ in answers),
                         answers)
        task = self.copy_task(image_id)
        [refused] = [body for status, body in answers if status == 409]
        self.assertIn('being imported to store throttled by task %s'
                      % task['id'], refused['error']['message'])
        self.assert_imported(image_id, data, ('fast', 'throttled'),
                             [task['id']])
        self.assert_ran_on_conductors([task['id']])

    def test_burst_of_copies_to_one_store_through_two_api_servers(self):
        image_id, data = self.active_image(self.BURST_SIZE)
        servers = itertools.cycle(self.servers)
        targets = [next(servers) for _ in range(self.BURST_REQUESTS)]
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(
                self.BURST_THREADS) as pool:
            answers = list(pool.map(
                lambda server: self.copy(image_id, 'throttled',
                                         server=server), targets))
        burst_seconds = time.monotonic() - started

        statuses = collections.Counter(status for status, _ in answers)
        self.assertEqual({202: 1, 409: self.BURST_REQUESTS - 1},
                         dict(statuses), [answer for answer in answers
                                          if answer[0] not in (202, 409)][:5])
        task = self.copy_task(image_id)
        # Refused while the copy ran, or (a burst slower than the copy)
        # once it was done; never for another reason.
        held = 'being imported to store throttled by task %s' % task['id']
        present = 'already in store(s) throttled'
        unexpected = [body for status, body in answers if status == 409
                      and held not in body['error']['message']
                      and present not in body['error']['message']]
        self.assertEqual([], unexpected[:5], '%d unexpected refusals' %
                         len(unexpected))
        self.assert_imported(image_id, data, ('fast', 'throttled'),
                             [task['id']])
        self.assertEqual([task['id']], [task['id'] for task in
                                        self.copy_tasks(image_id)])
        self.assert_ran_on_conductors([task['id']])
        print('burst of %d copy requests: %.1f s' % (self.BURST_REQUESTS,
                                                     burst_seconds))

    def test_glance_direct_staged_on_one_host_imported_on_another(self):
        glance_a = base.glance_client(self.server.url)
        image = glance_a.images.create(name=base.unique('across'),
                                       disk_format='raw',
                                       container_format='bare')
        data = os.urandom(SIZE)
        glance_a.images.stage(image.id, io.BytesIO(data), len(data))
        status, body = self.raw(
            'POST', self.import_path(image.id), server=self.server_b,
            body={'method': {'name': 'glance-direct'},
                  'stores': ['common']})
        self.assertEqual(202, status, body)
        [task] = self.tasks_of(image.id)

        self.assert_imported(image.id, data, ['common'], [task['id']])
        self.assertIn('Posted import task %s' % task['id'],
                      self.server_b.log())
        found, conductor = self.wait_for_log(
            'a conductor to complete task %s' % task['id'],
            logged(COMPLETED, task['id']))
        self.assertEqual(conductor.name, found[1])
        self.assertTrue(conductor.host.startswith('conductor-'))
        [(name, lease, done)] = self.runs_of(task['id'])
        self.assertEqual((conductor.name, []), (name, done))
        self.assertTrue(lease.startswith(task['id'] + '_'), lease)
        self.assertEqual({'common': 'file://%s/%s.%s' % (
            self.store_dir('common'), image.id, lease)},
            self.locations(image.id))


class TopologyTestsZooKeeper(TopologyTests):
    BOARD = 'zookeeper'


class TopologyTestsMySQL(TopologyTests):
    FIXTURE = db_base.EmptyMySQLFixture


class TopologyTestsZooKeeperPostgreSQL(TopologyTests):
    BOARD = 'zookeeper'
    FIXTURE = db_base.EmptyPostgreSQLFixture


class KillTests(ConductorTestCase):
    """A conductor SIGKILLed at each step of a copy; all of them; one
    SIGSTOPped and continued. Each test starts the conductors it needs.
    """

    def kill_at(self, state, step, done_before):
        """Kill the conductor copying to COPY_STORES at ``step``'s ``state``.

        The conductor under test is alone when the copy is posted, so
        it claims it; two plain conductors are started once it stopped
        at ``step`` and what it left was read (started earlier, one
        could claim the job as soon as the stopped one's claim lapsed,
        and a loaded machine may take that long to read), and are
        running when it is killed. ``done_before`` are the steps that
        had succeeded then, which the conductor resuming the import
        must not run again. Returns the image's id and what the run that
        died left: the steps' states, its lease, and the files of each
        store.
        """
        [doomed] = self.start_conductors(
            1, launcher=STOPPING_CONDUCTOR + ('copy-image', state, step))
        image_id, data = self.active_image(SIZE)
        status, body = self.copy(image_id, *COPY_STORES)
        self.assertEqual(202, status, body)
        task_id = self.copy_task(image_id)['id']
        self.wait_for_log('%s to claim task %s' % (doomed.name, task_id),
                          logged(CLAIMED, task_id, doomed.name),
                          conductors=[doomed])
        self.wait_for('%s to stop at %s %s' % (doomed.name, state, step),
                      doomed.is_stopped, timeout=30)
        states = self.atom_states(task_id)
        [(_name, first_lease, _done)] = self.runs_of(task_id)
        left = {store: self.store_files(store, image_id)
                for store in COPY_STORES}
        others = self.start_conductors(2)
        doomed.kill()
        killed_at = time.monotonic()
        stopped_for = time.time() - float(STOPPED.search(doomed.log())[1])
        self.assertEqual((state, done_before),
                         (states[step], {name for name, atom_state
                                         in states.items()
                                         if atom_state == 'SUCCESS'}))

        found, resumer = self.wait_for_log(
            'another conductor to claim task %s' % task_id,
            logged(CLAIMED, task_id), conductors=others,
            timeout=CLAIMED_AGAIN_WITHIN)
        claimed_at = time.monotonic()
        locations = self.assert_imported(image_id, data,
                                         ('fast',) + COPY_STORES, [task_id])
        done_at = time.monotonic()
        print('killed at %s %s (stopped for %.1f s): claimed again after '
              '%.1f s, complete after %.1f s' % (
                  state, step, stopped_for, claimed_at - killed_at,
                  done_at - killed_at))

        # One run died, the other resumed it, under leases of their own.
        [first, second] = self.runs_of(task_id)
        self.assertEqual((doomed.name, first_lease), first[:2])
        self.assertEqual(resumer.name, second[0])
        self.assertEqual(sorted(done_before), second[2])
        leases = {first_lease, second[1]}
        self.assertEqual(2, len(leases), leases)
        for lease in leases:
            self.assertTrue(lease.startswith(task_id + '_'), lease)
        # A store copied before the kill kept that copy; the others were
        # copied by the run that resumed.
        self.assertEqual({store: 'file://%s/%s.%s' % (
            self.store_dir(store), image_id,
            first_lease if 'ImportToStore_%s' % store in done_before
            else second[1]) for store in COPY_STORES}, {
                store: locations[store] for store in COPY_STORES})
        # Of what the first run wrote, only those copies are left.
        self.assertEqual(sorted(
            os.path.basename(locations[store]) for store in COPY_STORES
            if 'ImportToStore_%s' % store in done_before), sorted(
                name for names in self.files_of(image_id).values()
                for name in names if first_lease in name))
        return image_id, states, first_lease, left

    def test_killed_at_claim_locks(self):
        self.kill_at('RUNNING', 'ClaimLocks', set())

    def test_killed_at_use_existing_copy(self):
        self.kill_at('RUNNING', 'UseExistingCopy', {'ClaimLocks'})

    def test_killed_at_import_to_common(self):
        self.kill_at('RUNNING', 'ImportToStore_common',
                     {'ClaimLocks', 'UseExistingCopy'})

    def test_killed_at_import_to_throttled(self):
        self.kill_at('RUNNING', 'ImportToStore_throttled',
                     {'ClaimLocks', 'UseExistingCopy'})

    def test_killed_at_verify_locks(self):
        self.kill_at('RUNNING', 'VerifyLocks',
                     {'ClaimLocks', 'UseExistingCopy', 'ImportToStore_common',
                      'ImportToStore_throttled'})

    def test_killed_at_set_locations(self):
        self.kill_at('RUNNING', 'SetLocations',
                     {'ClaimLocks', 'UseExistingCopy', 'ImportToStore_common',
                      'ImportToStore_throttled', 'VerifyLocks'})

    def test_killed_at_finish(self):
        self.kill_at('RUNNING', 'Finish',
                     {'ClaimLocks', 'UseExistingCopy', 'ImportToStore_common',
                      'ImportToStore_throttled', 'VerifyLocks',
                      'SetLocations'})

    def test_killed_once_one_store_is_copied_and_another_is_copying(self):
        image_id, states, lease, left = self.kill_at(
            'SUCCESS', 'ImportToStore_common',
            {'ClaimLocks', 'UseExistingCopy', 'ImportToStore_common'})
        # The throttled store's copy was cut before its step ended: it
        # was copied again by the run that resumed, and what the first
        # run had written is gone (kill_at). That is a partial file,
        # unless the copy was renamed complete in the last moments: the
        # store writes its last chunk some 0.6 s after the other store.
        self.assertEqual('RUNNING', states['ImportToStore_throttled'])
        self.assertEqual(1, len(left['throttled']), left)
        self.assertIn('%s.%s' % (image_id, lease), left['throttled'][0])

    def test_every_conductor_killed_with_imports_running_and_pending(self):
        # One import at a time each: of three copies, two run, each
        # stopped at a step of its copy to ``throttled`` (one before it
        # wrote, one once it wrote all but had not recorded the copy),
        # and the third waits on the jobboard, unclaimed.
        workers = ('[import]', 'executor_workers = 1')
        conductors = [self.start_conductors(
            1, *workers, launcher=STOPPING_CONDUCTOR + (
                'copy-image', state, 'ImportToStore_throttled'))[0]
            for state in ('RUNNING', 'SUCCESS')]
        images = [self.active_image(SIZE) for _ in range(3)]
        # Both free again: their jobs ended, and were consumed.
        self.wait_for('the jobs of the first imports to be consumed',
                      lambda: not self.jobs_on_board(), interval=0.2)
        for image_id, _data in images:
            status, body = self.copy(image_id, 'throttled')
            self.assertEqual(202, status, body)
        task_ids = [self.copy_task(image_id)['id'] for image_id, _ in images]
        # Each is killed as soon as it stopped: on SQLite a process
        # stopped in the middle of a statement of another thread (its
        # reaper's, its heartbeat's) would hold the database lock.
        running = list(conductors)
        while running:
            stopped = self.wait_for('a conductor to stop', lambda: [
                conductor for conductor in running
                if conductor.is_stopped()], timeout=30)
            for conductor in stopped:
                conductor.kill()
                running.remove(conductor)
        killed_at = time.monotonic()
        [pending] = [task_id for task_id in task_ids
                     if not self.runs_of(task_id)]
        self.assertEqual(set(task_ids), self.jobs_on_board())

        # No conductor for longer than the locks live: the API servers'
        # reapers leave the imports alone, their jobs being on the board.
        time.sleep(LOCK_TTL + 3 * REAPER_INTERVAL)
        self.assertEqual(
            ['pending' if task_id == pending else 'processing'
             for task_id in task_ids],
            [self.task_status(task_id) for task_id in task_ids])
        self.assertEqual(set(task_ids), self.jobs_on_board())

        [restarted] = self.start_conductors(1, *workers)
        for (image_id, data), task_id in zip(images, task_ids, strict=True):
            locations = self.assert_imported(
                image_id, data, ('fast', 'throttled'), [task_id])
            # A copy the killed run had written is kept, though it was
            # not recorded yet; the other one was written again.
            runs = self.runs_of(task_id)
            self.assertEqual(restarted.name, runs[-1][0])
            if task_id == pending:
                self.assertEqual(1, len(runs), runs)
            else:
                [(_, first, _), (_, _, done)] = runs
                self.assertEqual(
                    first if 'ImportToStore_throttled' in done else
                    runs[-1][1], locations['throttled'].rpartition('.')[2])
        print('every conductor killed: all imports complete %.1f s later '
              '(%d s without a conductor)' % (time.monotonic() - killed_at,
                                              LOCK_TTL + 3 * REAPER_INTERVAL))

    def test_stopped_conductor_woken_after_takeover_changes_nothing(self):
        self.start_conductors(3)
        image_id, data = self.active_image(SIZE)
        status, body = self.copy(image_id, 'throttled')
        self.assertEqual(202, status, body)
        task_id = self.copy_task(image_id)['id']
        [(name, lease, _)] = self.wait_for(
            'a conductor to run task %s' % task_id,
            lambda: self.runs_of(task_id))
        [stalled] = [conductor for conductor in self.test_conductors
                     if conductor.name == name]
        partial = '.%s.%s.partial' % (image_id, lease)
        self.wait_for('the copy to be written', lambda: partial in
                      self.store_files('throttled', image_id), interval=0.01)
        # Right after a heartbeat (it takes a write transaction every
        # 0.5 s): on SQLite, a process stopped within one would hold the
        # database lock of every process while it sleeps.
        beat = self.heartbeat_of(task_id)
        self.wait_for('a heartbeat of task %s' % task_id,
                      lambda: self.heartbeat_of(task_id) != beat,
                      timeout=10, interval=0.01)
        stalled.send_signal(signal.SIGSTOP)
        stopped_at = time.monotonic()
        self.addCleanup(stalled.send_signal, signal.SIGCONT)
        others = [conductor for conductor in self.test_conductors
                  if conductor is not stalled]

        _found, resumer = self.wait_for_log(
            'another conductor to claim task %s' % task_id,
            logged(CLAIMED, task_id), conductors=others,
            timeout=CLAIMED_AGAIN_WITHIN)
        claimed_at = time.monotonic()
        locations = self.assert_imported(image_id, data, ('fast', 'throttled'),
                                         [task_id])
        print('stopped conductor: claimed again after %.1f s, complete '
              'after %.1f s' % (claimed_at - stopped_at,
                                time.monotonic() - stopped_at))
        [(_, first, _), (name, second, _)] = self.runs_of(task_id)
        self.assertEqual(lease, first)
        self.assertEqual(resumer.name, name)
        self.assertNotEqual(first, second)
        before = (self.image(image_id), locations, self.files_of(image_id))

        stalled.send_signal(signal.SIGCONT)
        woken_at = time.monotonic()
        # Awake, it finds its locks taken over at its next heartbeat and
        # gives up; give it several intervals to do anything it would.
        found, _ = self.wait_for_log(
            '%s to end its run of task %s' % (stalled.name, task_id),
            logged('(completed|reverted) import task', task_id,
                   stalled.name), conductors=[stalled], timeout=30)
        self.assertEqual('reverted', found[2])
        time.sleep(HEARTBEAT * 6)
        print('woken conductor ended its run after %.1f s' % (
            time.monotonic() - woken_at))
        self.assertEqual(before, (self.image(image_id),
                                  self.locations(image_id),
                                  self.files_of(image_id)))
        self.assertNotIn(partial, self.store_files('throttled'))
        self.assertIsNone(stalled.process.poll(), stalled.log())
        self.assertEqual('success', self.wait_for_task(task_id)['status'])


class KillTestsZooKeeper(KillTests):
    BOARD = 'zookeeper'
