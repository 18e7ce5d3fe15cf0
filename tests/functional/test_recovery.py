"""Recovery with nobody calling: the reaper and fencing, on real servers.

The whole service is SIGKILLed mid-import and started again, and then
nothing but reads is sent: the reaper every worker runs must fail the
dead task, clear its marker and remove its files by itself, within
``lock_ttl + reaper_interval`` of the last heartbeat (with a margin for
the restart and the polling). A worker SIGSTOPped mid-copy is reaped
while it sleeps; once a new copy has completed, it is SIGCONTed and
must change nothing.
"""

import http.client
import io
import os
import re
import signal
import time

import psutil
import pytest

from tests.functional import base
from tests.functional import test_import_pipeline as pipeline
from tests.unit.db import base as db_base

pytestmark = pytest.mark.filterwarnings(
    'ignore::PendingDeprecationWarning:openstack')

LOCK_TTL = 3
HEARTBEAT = 0.5
REAPER_INTERVAL = 1
# The bound of the issue plus what restarting and polling add.
REAPED_WITHIN = LOCK_TTL + REAPER_INTERVAL + 10


class RecoveryTests(pipeline.PipelineHelpers, base.ServerTestCase):

    FIXTURE = db_base.EmptySQLiteFixture
    # glance-direct into a file store adopts the staged file with a hard
    # link, done before a test could kill it: ``throttled`` writes every
    # byte, slowly, so the import is certainly still running.
    ENABLED_BACKENDS = base.ServerTestCase.ENABLED_BACKENDS + (
        ', throttled:throttled_file')
    STORES = base.ServerTestCase.STORES + ('throttled',)
    ALL_STORE_DIRS = STORES + (base.STAGING_STORE, 'os_glance_tasks_store')

    @classmethod
    def config_lines(cls):
        return super().config_lines() + [
            '[fast]', 'filesystem_store_chunk_size = 4096',
            '[throttled]', 'throttle_seconds_per_chunk = 0.01',
            '[import]', 'lock_ttl = %d' % LOCK_TTL,
            'heartbeat_interval = %s' % HEARTBEAT,
            'reaper_interval = %d' % REAPER_INTERVAL]

    def kill_whole_service(self):
        """SIGKILL the master and every worker at once, as a host crash."""
        pids = [self.server.process.pid] + self.server.worker_pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        self.server.process.wait(10)
        psutil.wait_procs([psutil.Process(pid) for pid in pids[1:]
                           if psutil.pid_exists(pid)], timeout=10)

    def restart(self):
        self.server.start_and_wait(*self.config_lines())

    def dead_task_files(self, task_id):
        """Files in any store directory named by ``task_id``."""
        return {store: names for store in self.ALL_STORE_DIRS
                for names in [[name for name in self.store_files(store)
                               if task_id in name]] if names}

    def wait_until_reaped(self, image_id, task_id, killed_at):
        ended = self.wait_for_task(task_id, timeout=REAPED_WITHIN)
        self.assertLess(time.monotonic() - killed_at, REAPED_WITHIN)
        self.assertEqual('failure', ended['status'])
        self.assertIn('stopped responding', ended['message'])
        self.wait_for('the reaper to log task %s' % task_id, lambda:
                      re.search(r'Reaped .*%s of image' % task_id,
                                self.server.log()))
        image = self.image(image_id)
        # Absent for an upload, which shows no import markers.
        self.assertEqual('', image.get('os_glance_importing_to_stores', ''))
        self.assertEqual({}, self.dead_task_files(task_id))
        return image

    def start_upload(self, image_id, total, sent, call='file'):
        """An upload (``call`` 'stage': a stage request) of ``total``
        bytes that sends ``sent`` and waits."""
        connection = http.client.HTTPConnection(
            '127.0.0.1', self.server.port, timeout=120)
        self.addCleanup(connection.close)
        connection.putrequest('PUT', '/v2/images/%s/%s' % (image_id, call))
        for name, value in dict(
                base.ADMIN, **{'Content-Type': 'application/octet-stream',
                               'Content-Length': str(total)}).items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.send(b'u' * sent)
        return connection

    def test_killed_service_mid_upload_is_reaped_back_to_queued(self):
        image_id = self.glance().images.create(
            disk_format='raw', container_format='bare').id
        self.start_upload(image_id, 8 * 2 ** 20, 2 ** 20)
        self.wait_for_image(image_id,
                            lambda image: image['status'] == 'saving',
                            'to be saving')
        [dead] = self.tasks_of(image_id)
        self.wait_for('the upload to write to staging', lambda:
                      self.dead_task_files(dead['id']).get(
                          base.STAGING_STORE), interval=0.01)
        self.kill_whole_service()
        killed_at = time.monotonic()
        self.restart()

        image = self.wait_until_reaped(image_id, dead['id'], killed_at)
        # An upload's data was its own: nothing is kept, the image is
        # queued for the client to upload again.
        self.assertEqual(('queued', set()),
                         (image['status'], base.stores_of(image)))
        self.assertEqual({}, self.files_of(image_id))
        data = os.urandom(3 * 2 ** 20)
        self.glance().images.upload(image_id, io.BytesIO(data), len(data))
        self.assertEqual('active', self.image(image_id)['status'])
        self.assert_one_complete_copy(image_id, data, ['fast'])

    def test_killed_service_mid_stage_is_reaped_back_to_queued(self):
        image_id = self.glance().images.create(
            disk_format='raw', container_format='bare').id
        self.start_upload(image_id, 8 * 2 ** 20, 2 ** 20, call='stage')
        self.wait_for('the stage request to write to staging', lambda:
                      self.files_of(image_id).get(base.STAGING_STORE),
                      interval=0.01)
        self.assertEqual('uploading', self.image(image_id)['status'])
        self.kill_whole_service()
        killed_at = time.monotonic()
        self.restart()

        # Nothing was staged: queued again, the partial data removed.
        self.wait_for_image(image_id,
                            lambda image: image['status'] == 'queued',
                            'to be queued', timeout=REAPED_WITHIN)
        self.assertLess(time.monotonic() - killed_at, REAPED_WITHIN)
        self.assertEqual({}, self.files_of(image_id))
        # The reaper logs after it removed the writes, so a moment after
        # the image shows queued.
        self.wait_for('the reaper to log the stage request', lambda:
                      'Reaped the stage request' in self.server.log())
        data = os.urandom(3 * 2 ** 20)
        self.glance().images.stage(image_id, io.BytesIO(data), len(data))
        self.glance().images.image_import(image_id, method='glance-direct')
        self.wait_for_image(image_id,
                            lambda image: image['status'] == 'active',
                            'to become active')
        self.assert_one_complete_copy(image_id, data, ['fast'])

    def test_killed_service_mid_copy_is_reaped_with_nobody_asking(self):
        image_id, data = self.active_image()
        self.glance().images.image_import(image_id, method='copy-image',
                                          stores=['slow'])
        [dead] = self.copy_tasks(image_id)
        self.copy_in_progress(image_id, 'slow')
        self.kill_whole_service()
        killed_at = time.monotonic()
        self.assertNotEqual({}, self.dead_task_files(dead['id']))
        self.restart()

        image = self.wait_until_reaped(image_id, dead['id'], killed_at)
        self.assertEqual(('active', {'fast'}),
                         (image['status'], base.stores_of(image)))
        self.assertEqual('', image['os_glance_failed_import'])
        # The store is free again, and a copy to it succeeds.
        self.glance().images.image_import(image_id, method='copy-image',
                                          stores=['slow'])
        self.wait_for_image(
            image_id, lambda image: base.stores_of(image) == {'fast', 'slow'},
            'to be in slow')
        self.assert_one_complete_copy(image_id, data, ['fast', 'slow'])

    def test_killed_service_mid_glance_direct_is_reaped(self):
        image_id, data = self.staged_image(pipeline.BIG)
        self.glance().images.image_import(image_id, method='glance-direct',
                                          stores=['throttled'])
        [dead] = self.tasks_of(image_id)
        partial = self.copy_in_progress(image_id, 'throttled')
        self.kill_whole_service()
        killed_at = time.monotonic()
        self.assertIn(partial, self.store_files('throttled'))
        self.restart()

        image = self.wait_until_reaped(image_id, dead['id'], killed_at)
        # Back to where it was: staged, its data kept for a new import.
        self.assertEqual(('uploading', set()),
                         (image['status'], base.stores_of(image)))
        self.assertEqual(1, len(self.store_files(base.STAGING_STORE)))
        self.glance().images.image_import(image_id, method='glance-direct',
                                          stores=['slow'])
        self.wait_for_image(image_id,
                            lambda image: image['status'] == 'active',
                            'to become active')
        self.assert_one_complete_copy(image_id, data, ['slow'])
        self.assertEqual([], self.store_files(base.STAGING_STORE))

    def test_stalled_owner_woken_after_reaping_changes_nothing(self):
        image_id, data = self.active_image(pipeline.BIG * 2)
        connections = base.WorkerConnections(self.server, per_worker=1)
        self.addCleanup(connections.close)
        worker, connection = connections.all()[0]
        status, body = base.http_request(
            connection, 'POST', self.import_path(image_id),
            body=pipeline.copy_request('slow'))
        self.assertEqual(202, status, body)
        [stalled] = self.copy_tasks(image_id)
        partial = self.copy_in_progress(image_id, 'slow')
        os.kill(worker, signal.SIGSTOP)
        stopped = True

        def wake_up():
            if stopped:
                os.kill(worker, signal.SIGCONT)
        self.addCleanup(wake_up)

        # The other worker's reaper frees the store while it sleeps.
        reaped = self.wait_for_task(stalled['id'], timeout=REAPED_WITHIN)
        self.assertEqual('failure', reaped['status'])
        self.assertNotIn(partial, self.store_files('slow'))
        status, body = self.raw('POST', self.import_path(image_id),
                                body=pipeline.copy_request('slow'))
        self.assertEqual(202, status, body)
        [new] = [task for task in self.copy_tasks(image_id)
                 if task['id'] != stalled['id']]
        self.assertEqual('success',
                         self.wait_for_task(new['id'], timeout=120)['status'])
        before = self.image(image_id)
        new_files = self.store_files('slow')

        os.kill(worker, signal.SIGCONT)
        stopped = False
        # Awake, it heartbeats within HEARTBEAT, finds its lock gone and
        # stops; give it several intervals to do anything it would.
        time.sleep(HEARTBEAT * 8)
        self.assertEqual(before, self.image(image_id))
        self.assertEqual(new_files, self.store_files('slow'))
        self.assertEqual([], self.dead_task_files(stalled['id']).get(
            'slow', []))
        self.assertEqual(reaped, self.wait_for_task(stalled['id']))
        self.assert_one_complete_copy(image_id, data, ['fast', 'slow'])


class RecoveryTestsMySQL(RecoveryTests):
    FIXTURE = db_base.EmptyMySQLFixture


class RecoveryTestsPostgreSQL(RecoveryTests):
    FIXTURE = db_base.EmptyPostgreSQLFixture
