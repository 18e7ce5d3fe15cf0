"""The import pipeline under concurrency and failure, in one process.

Multi-process scenarios (a thousand racing requests, a killed importer)
are in test_processes.py.
"""

import contextlib
import errno
import http.server
import os
import re
import threading
import time

import fixtures
import sqlalchemy as sa
from oslo_utils import timeutils

from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.imports import flow
from glance_lite.imports import tasks
from tests.unit import config
from tests.unit.imports import base

DATA = os.urandom(300_000)
# About 2.5 s through the throttled store: long enough to act mid-copy.
BIG = os.urandom(50 * base.CHUNK)
FAILED = tasks.FAILED_IMPORT_MARKER


class InjectedFailure(exception.GlanceLiteException):
    """A step's own failure, whose message reaches the task as it is."""

    msg_fmt = '%(reason)s'


class ScenarioTests(base.ImportTestCase, fixtures.TestWithFixtures):

    def copy(self, image_id, *stores, **kwargs):
        return self.service.import_image(self.context, image_id,
                                         'copy-image', stores=list(stores),
                                         **kwargs)

    def wait_for_partial_file(self, store):
        self.wait_for(lambda: any(name.endswith('.partial')
                                  for name in self.store_files(store)),
                      what='a partial file in %s' % store)

    def stores_of(self, image_id):
        return [loc['store'] for loc in self.image(image_id)['locations']]

    def test_seed_1_concurrent_copies_to_two_stores(self):
        image_id = self.active_image(DATA)
        barrier = threading.Barrier(2)
        accepted = {}

        def copy_to(store):
            barrier.wait()
            accepted[store] = self.copy(image_id, store)

        threads = [threading.Thread(target=copy_to, args=(store,))
                   for store in ('slow', 'common')]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for store in ('slow', 'common'):
            self.assertEqual('success', self.wait_for_task(
                accepted[store]['id'])['status'])
        image = self.image(image_id)
        self.assertEqual(['common', 'fast', 'slow'],
                         sorted(self.stores_of(image_id)))
        self.assertEqual([], image['importing_to_stores'])
        self.assertEqual({}, image['markers'])
        self.assertEqual([], self.store_files(base.STAGING))
        self.assert_nothing_orphaned(image_id)

    def test_seed_2_partial_first_import_while_another_caller_copies(self):
        image_id = self.staged_image(DATA)
        first = self.service.import_image(
            self.context, image_id, 'glance-direct',
            stores=['fast', 'corrupt'], all_stores_must_succeed=False)
        refusals = []

        def copy_when_possible():
            while True:
                try:
                    return self.copy(image_id, 'slow')
                except exception.ImportConflict as refused:
                    refusals.append(str(refused))
                    time.sleep(0.01)

        second = copy_when_possible()
        self.assertEqual('success',
                         self.wait_for_task(first['id'])['status'])
        self.assertEqual('success',
                         self.wait_for_task(second['id'])['status'])
        self.assertTrue(all('needs an active image' in refusal
                            for refusal in refusals), refusals)
        self.assertEqual(
            {'stores_succeeded': ['fast'], 'stores_failed': ['corrupt']},
            db_api.task_get(self.context, first['id'])['result'])
        image = self.image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(['fast', 'slow'], sorted(self.stores_of(image_id)))
        self.assertEqual({FAILED: ['corrupt']}, image['markers'])
        self.assertEqual([], image['importing_to_stores'])
        self.assertEqual([], self.store_files('corrupt'))
        self.assertEqual([], self.store_files(base.STAGING))
        self.assert_nothing_orphaned(image_id)

    def failing_step(self, step_name, after):
        """A fixture making flow step ``step_name`` raise InjectedFailure.

        With ``after`` the step's real work is done first, so its revert
        has something to undo. Use it as a context manager.
        """
        cls = next(task_class for task_class in (
            tasks.ClaimLocks, tasks.UseStagedData, tasks.UseExistingCopy,
            tasks.ImportToStore, tasks.VerifyLocks, tasks.SetLocations,
            tasks.Finish) if step_name.startswith(task_class.__name__))
        real_execute = cls.execute

        def failing_execute(task, *args, **kwargs):
            if task.name != step_name:
                return real_execute(task, *args, **kwargs)
            if after:
                real_execute(task, *args, **kwargs)
            raise InjectedFailure(reason='injected into %s' % step_name)

        return fixtures.MonkeyPatch(
            '%s.%s.execute' % (tasks.__name__, cls.__name__),
            failing_execute)

    def assert_reverted(self, image_id, before, task, failed_store=None):
        self.assertEqual('failure', task['status'])
        after = self.snapshot(image_id)
        markers = after[0].pop('markers')
        before[0].pop('markers')
        # Accepting the import made the markers properties, empty; they
        # stay, as in Glance.
        for name in (db_api.IMPORTING_MARKER, FAILED):
            self.assertEqual('', after[0]['properties'].pop(name))
            before[0]['properties'].pop(name, None)
        self.assertEqual(before, after)
        expected = {FAILED: [failed_store]} if failed_store else {}
        self.assertEqual(expected, markers)

    def test_revert_at_every_step_of_glance_direct(self):
        steps = ['ClaimLocks', 'UseStagedData', 'ImportToStore_fast',
                 'ImportToStore_slow', 'VerifyLocks', 'SetLocations']
        for step in steps:
            for after in (False, True):
                with self.subTest(step=step, after=after):
                    image_id = self.staged_image(DATA)
                    before = self.snapshot(image_id)
                    with self.failing_step(step, after):
                        task = self.service.import_image(
                            self.context, image_id, 'glance-direct',
                            stores=['fast', 'slow'])
                        task = self.wait_for_task(task['id'])
                    self.assertIn('injected into %s' % step, task['message'])
                    failed = (step.split('_', 1)[1]
                              if step.startswith('ImportToStore') else None)
                    self.assert_reverted(image_id, before, task, failed)
                    self.assertEqual('uploading',
                                     self.image(image_id)['status'])

    def test_revert_at_every_step_of_copy_image(self):
        image_id = self.active_image(DATA)
        steps = ['ClaimLocks', 'UseExistingCopy', 'ImportToStore_slow',
                 'ImportToStore_common', 'VerifyLocks', 'SetLocations',
                 'Finish']
        for step in steps:
            for after in (False, True) if step != 'Finish' else (False,):
                with self.subTest(step=step, after=after):
                    before = self.snapshot(image_id)
                    with self.failing_step(step, after):
                        task = self.wait_for_task(self.copy(
                            image_id, 'slow', 'common')['id'])
                    self.assertIn('injected into %s' % step, task['message'])
                    failed = (step.split('_', 1)[1]
                              if step.startswith('ImportToStore') else None)
                    self.assert_reverted(image_id, before, task, failed)
                    db_api.image_marker_remove(self.context, image_id,
                                               FAILED, failed)

    def test_revert_when_the_store_fails_mid_write(self):
        image_id = self.active_image(DATA)
        before = self.snapshot(image_id)
        real_write = os.write
        written = [0]

        def write_until_full(fd, data):
            if written[0] + len(data) > 100_000:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written[0] += len(data)
            return real_write(fd, data)

        with fixtures.MonkeyPatch('os.write', write_until_full):
            task = self.wait_for_task(self.service.import_image(
                self.context, image_id, 'copy-image',
                stores=['slow'])['id'])
        self.assertIn('There is no space left in store slow',
                      task['message'])
        self.assert_reverted(image_id, before, task, 'slow')

    def test_revert_when_the_store_cannot_adopt_staged_data(self):
        image_id = self.staged_image(DATA)
        before = self.snapshot(image_id)

        def full_directory(source, destination):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        with fixtures.MonkeyPatch('os.link', full_directory):
            task = self.wait_for_task(self.service.import_image(
                self.context, image_id, 'glance-direct',
                stores=['fast'])['id'])
        self.assertIn('There is no space left in store fast',
                      task['message'])
        self.assert_reverted(image_id, before, task, 'fast')

    def test_success_is_recorded_even_when_tidying_fails(self):
        image_id = self.staged_image(DATA)

        def deleted_meanwhile(context, image_id, store, url):
            raise exception.ImageNotFound(image_id=image_id)

        with fixtures.MonkeyPatch('%s.image_location_remove'
                                  % db_api.__name__, deleted_meanwhile):
            task = self.wait_for_task(self.service.import_image(
                self.context, image_id, 'glance-direct')['id'])
        self.assertEqual(('success', {'stores_succeeded': ['fast'],
                                      'stores_failed': []}),
                         (task['status'], task['result']))
        self.assertEqual('active', self.image(image_id)['status'])

    def test_nothing_is_written_after_an_import_succeeded(self):
        # The transaction that marks the task a success also activates
        # the image and drops its locks: a client that sees it may
        # import again at once, so the importing thread must not send
        # the database anything more (it used to give back its claims
        # once more, racing the next import's requests).
        image_id = self.staged_image(DATA)
        sent = []

        def record(connection, cursor, statement, parameters, *args):
            sent.append((threading.current_thread(), statement,
                         parameters))
        engine = db_api.get_engine()
        sa.event.listen(engine, 'before_cursor_execute', record)
        self.addCleanup(sa.event.remove, engine, 'before_cursor_execute',
                        record)
        task = self.wait_for_task(self.service.import_image(
            self.context, image_id, 'glance-direct')['id'])
        self.assertEqual('success', task['status'], task['message'])
        # Wait for the executor's thread to be done with the import.
        self.assertEqual(0, self.service.executor.shutdown(60))
        marked = [index for index, (_thread, statement, parameters)
                  in enumerate(sent)
                  if statement.startswith('UPDATE tasks')
                  and 'success' in str(parameters)]
        self.assertEqual(1, len(marked), sent)
        # Only this test's thread may have asked anything since.
        self.assertEqual([], [(thread.name, statement)
                              for thread, statement, _parameters
                              in sent[marked[0] + 1:]
                              if thread is not threading.current_thread()
                              and statement not in ('COMMIT', 'BEGIN')])

    def test_engine_error_still_releases_everything(self):
        image_id = self.staged_image(DATA)
        before = self.snapshot(image_id)

        def broken_flow(job):
            # What a stopping interpreter raises to a late submit.
            raise RuntimeError('cannot schedule new futures after '
                               'interpreter shutdown')

        release_claims = tasks.release_claims

        def slow_release_claims(job):
            # Giving the image back takes a while: the task must not
            # say it failed before it is done (a client would retry and
            # find the image still importing).
            time.sleep(0.5)
            release_claims(job)

        with fixtures.MonkeyPatch('%s.build_import_flow' % flow.__name__,
                                  broken_flow), fixtures.MonkeyPatch(
                '%s.release_claims' % tasks.__name__, slow_release_claims):
            task = self.wait_for_task(self.service.import_image(
                self.context, image_id, 'glance-direct')['id'])
        # Users are not shown a Python error; the log has it by task id.
        self.assertEqual('An internal error occurred; the service log has '
                         'the details of task %s.' % task['id'],
                         task['message'])
        self.assert_reverted(image_id, before, task)

    def test_a_failed_copy_to_several_stores_leaves_no_thread(self):
        # One read feeds three stores; corrupt fails once written, and
        # all must succeed: every copy is removed, and neither the
        # shared read's thread nor the engine's pool outlives the task.
        # One executor worker, started by the first import: any thread
        # the copy adds is the copy's own.
        self.service = base.build_service(config.make_conf(
            *base.config_lines(self.state_path, '[import]',
                               'executor_workers = 1')))
        self.addCleanup(self.service.executor.shutdown, 60)
        image_id = self.active_image(BIG)
        before = set(threading.enumerate())
        task = self.wait_for_task(self.copy(
            image_id, 'slow', 'corrupt', 'common',
            all_stores_must_succeed=True)['id'])
        self.assertEqual('failure', task['status'])
        self.assertIn('written to store corrupt', task['message'])
        self.assertEqual({FAILED: ['corrupt']},
                         self.image(image_id)['markers'])
        self.assertEqual(['fast'], self.stores_of(image_id))
        self.assert_nothing_orphaned(image_id)
        self.wait_for(lambda: set(threading.enumerate()) <= before,
                      what='no thread but those there before the copy')

    def test_corrupt_copy_never_becomes_a_location(self):
        image_id = self.active_image(DATA)
        task = self.wait_for_task(self.copy(image_id, 'corrupt')['id'])
        self.assertEqual('failure', task['status'])
        self.assertIn('written to store corrupt is 300000 bytes with sha512',
                      task['message'])
        image = self.image(image_id)
        self.assertEqual(['fast'], self.stores_of(image_id))
        self.assertEqual('active', image['status'])
        self.assertEqual({FAILED: ['corrupt']}, image['markers'])
        self.assertEqual([], self.store_files('corrupt'))

    def test_first_import_failing_everywhere_records_every_store(self):
        image_id = self.staged_image(DATA)
        task = self.wait_for_task(self.service.import_image(
            self.context, image_id, 'glance-direct',
            stores=['corrupt'], all_stores_must_succeed=False)['id'])
        self.assertEqual('failure', task['status'])
        self.assertIn('failed in every store: corrupt:', task['message'])
        image = self.image(image_id)
        self.assertEqual('uploading', image['status'])
        self.assertEqual({FAILED: ['corrupt']}, image['markers'])
        self.assertEqual([base.STAGING], self.stores_of(image_id))
        self.assertEqual([], self.store_files('corrupt'))

    def test_later_success_clears_the_failed_marker(self):
        image_id = self.active_image(DATA)
        db_api.image_marker_add(self.context, image_id, FAILED, 'slow')
        self.wait_for_task(self.copy(image_id, 'slow')['id'])
        self.assertEqual({}, self.image(image_id)['markers'])

    def test_edits_made_during_a_copy_survive_it(self):
        image_id = self.active_image(BIG)
        for make_it_fail in (True, False):
            with self.subTest(make_it_fail=make_it_fail):
                failing = (self.failing_step('Finish', after=False)
                           if make_it_fail else contextlib.nullcontext())
                with failing:
                    task = self.copy(image_id, 'throttled')
                    self.wait_for_partial_file('throttled')
                    db_api.image_update(
                        self.context, image_id,
                        {'name': 'renamed-%s' % make_it_fail,
                         'min_ram': 1024},
                        properties={'os_distro': 'edited'})
                    task = self.wait_for_task(task['id'])
                self.assertEqual('failure' if make_it_fail else 'success',
                                 task['status'])
                image = self.image(image_id)
                self.assertEqual('renamed-%s' % make_it_fail, image['name'])
                self.assertEqual(1024, image['min_ram'])
                # The import markers, empty, are properties since the
                # image's first import.
                self.assertEqual({'os_distro': 'edited',
                                  'os_glance_importing_to_stores': '',
                                  'os_glance_failed_import': ''},
                                 image['properties'])
                self.assertEqual('active', image['status'])

    def delete_mid_copy_leaves_nothing(self, image_id, task):
        self.wait_for_partial_file('throttled')
        self.service.delete_image(self.context, image_id)
        # Delete did not wait for the import to end...
        self.assertEqual('processing',
                         db_api.task_get(self.context, task['id'])['status'])
        # ...which stops at its next heartbeat and leaves no byte behind.
        task = self.wait_for_task(task['id'])
        self.assertEqual(
            ('failure', 'The image was deleted while it was being imported.'),
            (task['status'], task['message']))
        self.assertEqual({store: [] for store in self.all_store_files()},
                         self.all_store_files())

    def test_delete_during_copy(self):
        image_id = self.active_image(BIG)
        task = self.copy(image_id, 'throttled')
        self.delete_mid_copy_leaves_nothing(image_id, task)

    def test_delete_during_glance_direct(self):
        image_id = self.staged_image(BIG)
        task = self.service.import_image(self.context, image_id,
                                         'glance-direct',
                                         stores=['fast', 'throttled'])
        self.delete_mid_copy_leaves_nothing(image_id, task)

    def reap_and_lock(self, image_id, owner, new_owner, stores):
        """Reap ``owner`` as if it had stalled; lock ``stores`` again.

        The owner is alive: it must notice at its next heartbeat.
        """
        far_future = timeutils.utcnow().replace(year=2999)
        self.assertTrue(db_api.import_reap(
            self.context, image_id, owner, far_future,
            'reaped by the test')['stores'])
        for store in stores:
            db_api.import_lock_acquire(self.context, image_id, store,
                                       new_owner)

    def wait_until_it_stopped_writing(self, store):
        started = time.monotonic()
        self.wait_for(lambda: not self.store_files(store),
                      what='the reaped task to remove its partial file')
        return time.monotonic() - started

    def test_reaped_live_task_stops_at_its_next_heartbeat(self):
        image_id = self.active_image(BIG * 4)  # about 10 s to copy
        task = self.copy(image_id, 'throttled')
        self.wait_for_partial_file('throttled')
        self.reap_and_lock(image_id, task['id'], 'intruder', ['throttled'])
        # It stopped at a heartbeat, long before its copy would end, and
        # removed its own partial file.
        self.assertLess(self.wait_until_it_stopped_writing('throttled'), 5)
        task = self.wait_for_task(task['id'])
        # Its revert wrote nothing: the reaper's verdict stands, the
        # intruder's lock is untouched and no failure is marked.
        self.assertEqual(('failure', 'reaped by the test'),
                         (task['status'], task['message']))
        self.assertEqual('intruder', db_api.import_lock_get(
            self.context, image_id, 'throttled')['task_id'])
        image = self.image(image_id)
        self.assertEqual({}, image['markers'])
        self.assertEqual(['fast'], self.stores_of(image_id))

    def test_reaped_first_import_leaves_the_image_to_its_successor(self):
        image_id = self.staged_image(BIG * 4)
        task = self.service.import_image(self.context, image_id,
                                         'glance-direct',
                                         stores=['throttled'])
        self.wait_for_partial_file('throttled')
        self.reap_and_lock(image_id, task['id'], 'successor',
                           [base.STAGING, 'throttled'])
        self.assertTrue(db_api.image_status_transition(
            self.context, image_id, ['uploading'], 'importing'))
        self.wait_until_it_stopped_writing('throttled')
        self.assertEqual('failure', self.wait_for_task(task['id'])['status'])
        image = self.image(image_id)
        # The reverting task neither reset the status nor freed the
        # locks that are now the successor's; it removed its own copy.
        self.assertEqual('importing', image['status'])
        self.assertEqual([base.STAGING, 'throttled'],
                         image['importing_to_stores'])
        self.assertEqual([base.STAGING], self.stores_of(image_id))

    def test_progress_is_reported_while_data_moves(self):
        image_id = self.active_image(BIG)
        task = self.copy(image_id, 'throttled')
        messages = set()

        def progress_seen():
            messages.add(db_api.task_get(self.context, task['id'])['message'])
            return any('%)' in message for message in messages)

        self.wait_for(progress_seen, what='a progress message')
        progress = re.compile(
            r'^Copying to store throttled: [0-9.]+ of 3\.1 MiB \([0-9]+%\)$')
        self.assertTrue(any(progress.match(message) for message in messages),
                        messages)
        self.assertEqual('success', self.wait_for_task(task['id'])['status'])

    def test_queued_imports_keep_their_locks(self):
        conf = config.make_conf(*base.config_lines(
            self.state_path, '[import]', 'executor_workers = 1'))
        service = base.build_service(conf)
        self.addCleanup(service.executor.shutdown, 60)
        image_id = self.active_image(BIG * 2)  # about 5 s to copy
        running = service.import_image(self.context, image_id, 'copy-image',
                                       stores=['throttled'])
        queued = service.import_image(self.context, image_id, 'copy-image',
                                      stores=['slow'])
        time.sleep(base.LOCK_TTL + 1)
        self.assertEqual('pending', db_api.task_get(
            self.context, queued['id'])['status'])
        with self.assertRaises(exception.ImportLockHeld) as caught:
            service.import_image(self.context, image_id, 'copy-image',
                                 stores=['slow'])
        self.assertIn(queued['id'], str(caught.exception))
        for task in (running, queued):
            self.assertEqual('success',
                             self.wait_for_task(task['id'])['status'])

    def test_a_store_is_free_the_moment_the_image_is_active(self):
        image_id = self.staged_image(DATA)
        self.service.import_image(self.context, image_id, 'glance-direct',
                                  stores=['fast', 'corrupt'],
                                  all_stores_must_succeed=False)
        self.wait_for(lambda: self.image(image_id)['status'] == 'active',
                      what='activation')
        # The failed store's lock went in the activating transaction.
        task = self.copy(image_id, 'corrupt')
        self.assertEqual('pending', task['status'])
        self.wait_for_task(task['id'])

    def test_first_imports_of_one_image_exclude_each_other(self):
        image_id = self.staged_image(BIG)
        first = self.service.import_image(self.context, image_id,
                                          'glance-direct',
                                          stores=['throttled'])
        with self.assertRaises(exception.ImportLockHeld) as caught:
            self.service.import_image(self.context, image_id,
                                      'glance-direct', stores=['slow'])
        self.assertEqual(
            'Image %s is already being imported to the staging area by '
            'task %s.' % (image_id, first['id']), str(caught.exception))
        self.assertEqual('success',
                         self.wait_for_task(first['id'])['status'])
        self.assertEqual(['throttled'], self.stores_of(image_id))
        self.assert_nothing_orphaned(image_id)

    def test_dead_first_import_is_taken_over_and_cleaned_up(self):
        image_id = self.staged_image(DATA)
        dead = db_api.task_create(self.context, {
            'type': 'api_image_import', 'image_id': image_id,
            'status': 'processing', 'input': {}})['id']
        long_ago = db_api.image_get(self.context, image_id)['created_at']
        long_ago = long_ago.replace(year=long_ago.year - 1)
        for store in (base.STAGING, 'fast', 'slow'):
            db_api.import_lock_acquire(self.context, image_id, store, dead,
                                       now=long_ago)
        db_api.image_status_transition(self.context, image_id,
                                       ['uploading'], 'importing')
        leftover = os.path.join(self.stores.get('slow').datadir,
                                '.%s.%s.partial' % (image_id, dead))
        with open(leftover, 'wb') as partial:
            partial.write(b'half an image')

        task = self.service.import_image(self.context, image_id,
                                         'glance-direct', stores=['fast'])
        self.assertEqual('success', self.wait_for_task(task['id'])['status'])
        dead_task = db_api.task_get(self.context, dead)
        self.assertEqual('failure', dead_task['status'])
        self.assertIn('stopped responding', dead_task['message'])
        image = self.image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual([], image['importing_to_stores'])
        self.assertEqual(['fast'], self.stores_of(image_id))
        self.assert_nothing_orphaned(image_id)

    def test_staging_heartbeats_keep_a_slow_download_locked(self):
        server = SlowServer(chunks=20, pause=0.25)  # about 5 s > TTL
        self.addCleanup(server.stop)
        conf = config.make_conf(*base.config_lines(
            self.state_path, '[import_filtering_opts]',
            'allowed_hosts = 127.0.0.1', 'allowed_ports = %d' % server.port))
        service = base.build_service(conf)
        self.addCleanup(service.executor.shutdown, 60)
        image_id = self.create_image()['id']
        url = 'http://127.0.0.1:%d/image' % server.port
        task = service.import_image(self.context, image_id, 'web-download',
                                    uri=url)
        time.sleep(base.LOCK_TTL + 1)
        with self.assertRaises(exception.ImportLockHeld) as caught:
            service.import_image(self.context, image_id, 'web-download',
                                 uri=url)
        self.assertIn(task['id'], str(caught.exception))
        task = self.wait_for_task(task['id'])
        self.assertEqual('success', task['status'], task['message'])
        image = self.image(image_id)
        self.assertEqual(('active', server.size),
                         (image['status'], image['size']))
        self.assertEqual([], self.store_files(base.STAGING))
        self.assert_nothing_orphaned(image_id)


class SlowServer:
    """An HTTP server on 127.0.0.1 that sends its body slowly."""

    def __init__(self, chunks, pause):
        payload = os.urandom(base.CHUNK)
        self.size = chunks * len(payload)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler):
                handler.send_response(200)
                handler.send_header('Content-Length', str(self.size))
                handler.end_headers()
                for _ in range(chunks):
                    time.sleep(pause)
                    handler.wfile.write(payload)

            def log_message(handler, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                       Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


class ScenarioTestsMySQL(ScenarioTests):
    FIXTURE = base.db_base.MySQLFixture


class ScenarioTestsPostgreSQL(ScenarioTests):
    FIXTURE = base.db_base.PostgreSQLFixture
