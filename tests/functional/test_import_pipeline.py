"""The import pipeline over HTTP, against a real two-worker server.

Images are created, staged and imported with python-glanceclient; what
the clients cannot show exactly (the status of each of many concurrent
requests, a 409's message) is read from raw HTTP responses. Requests
that must reach both workers go over connections known to be accepted
by each worker (``base.WorkerConnections``).

Stores are file stores. ``fast`` reads in 4 KiB chunks, so that copying
a 64 MiB image from it takes a second or two: long enough for a test
to act while the copy runs, which it sees as the copy's ``.partial``
file in the target store's directory.

Two stores fail at write time, each in a real way the file driver meets
on a real host. At start-up the driver creates its directory
(``os.makedirs(..., exist_ok=True)``): a directory that is missing then
is created, and a regular file in its place stops the server from
starting (test_api_server). So the damage is done after start-up, by
the test that needs it:

- ``missing``: its directory is removed, so creating the write's file
  fails with ENOENT ("data directory ... is missing", as when a volume
  is unmounted and its mount point removed);
- ``notadir``: its directory is replaced by a regular file, so every
  path under it fails with ENOTDIR, the write's and the cleanup's.

Locks use a short TTL (3 s) and heartbeat (0.5 s): a copy whose worker
is killed is taken over within seconds, and a deleted image's copy stops
at its next heartbeat.
"""

import concurrent.futures
import io
import os
import shutil
import signal
import tempfile
import threading
import time

import pytest

from tests import disk_images
from tests.functional import base
from tests.unit.db import base as db_base

# openstacksdk warns about its own internals on many calls.
pytestmark = pytest.mark.filterwarnings(
    'ignore::PendingDeprecationWarning:openstack')

BIG = 64 * 2 ** 20
SMALL = 2 * 2 ** 20 + 3
LOCK_TTL = 3
HEARTBEAT = 0.5


def copy_request(*stores):
    return {'method': {'name': 'copy-image'}, 'stores': list(stores)}


class PipelineHelpers:
    """Images in given states and checks of what the pipeline left.

    For ServerTestCase classes whose store ``fast`` reads slowly (see
    the module docstring) and which have a store ``slow``.
    """

    def import_path(self, image_id):
        return '/v2/images/%s/import' % image_id

    DISK_FORMAT = 'raw'

    def image_data(self, size):
        """(data to stage, data the image has once imported)."""
        data = os.urandom(size)
        return data, data

    def staged_image(self, size, headers=base.ADMIN):
        """A new image with ``size`` random bytes staged: (id, data).

        ``data`` is what the image holds once imported (see image_data).
        """
        glance = self.glance(headers)
        image = glance.images.create(name=base.unique('pipeline'),
                                     disk_format=self.DISK_FORMAT,
                                     container_format='bare')
        staged, data = self.image_data(size)
        glance.images.stage(image.id, io.BytesIO(staged), len(staged))
        return image.id, data

    def active_image(self, size=BIG, headers=base.ADMIN):
        """A new image active in ``fast``: (id, data)."""
        image_id, data = self.staged_image(size, headers)
        self.glance(headers).images.image_import(
            image_id, method='glance-direct', stores=['fast'])
        image = self.wait_for_image(
            image_id, lambda image: image['status'] == 'active',
            'to become active', headers=headers)
        self.assertEqual({'fast'}, base.stores_of(image))
        return image_id, data

    def copy_in_progress(self, image_id, store):
        """Wait for the copy's partial file; its name."""
        return self.wait_for(
            'a copy of %s to %s to start writing' % (image_id, store),
            lambda: [name for name in self.store_files(store, image_id)
                     if name.endswith('.partial')], timeout=30,
            interval=0.01)[0]

    def copy_tasks(self, image_id):
        return [task for task in self.tasks_of(image_id)
                if task['input']['method'] == 'copy-image']

    def wait_for_task(self, task_id, timeout=60):
        def probe():
            status, task = self.raw('GET', '/v2/tasks/%s' % task_id)
            self.assertEqual(200, status, task)
            return task if task['status'] in ('success', 'failure') else None
        return self.wait_for('task %s to end' % task_id, probe, timeout)

    def assert_one_complete_copy(self, image_id, data, stores):
        """Exactly one complete file in each of ``stores``, none elsewhere."""
        found = self.files_of(image_id)
        self.assertEqual(set(stores), set(found), found)
        for store in stores:
            self.assertEqual(1, len(found[store]), found)
            self.assertFalse(found[store][0].startswith('.'), found)
            self.assertEqual(data, self.read_store_file(store, image_id))

    def assert_download(self, image_id, data, headers=base.ADMIN):
        # glanceclient checks the data against os_hash_value as it reads.
        downloaded = b''.join(self.glance(headers).images.data(image_id))
        self.assertEqual(data, downloaded)

    def break_store(self, store, how):
        """Make ``store`` fail at write time; undone after the test."""
        directory = self.store_dir(store)
        shutil.rmtree(directory)
        if how == 'file':
            with open(directory, 'w') as plain:
                plain.write('this should be a directory\n')

        def repair():
            if os.path.isfile(directory):
                os.unlink(directory)
            os.makedirs(directory, exist_ok=True)
        self.addCleanup(repair)


class ImportPipelineTests(PipelineHelpers, base.ServerTestCase):

    FIXTURE = db_base.EmptySQLiteFixture
    ENABLED_BACKENDS = ('fast:file, slow:file, common:file, '
                        'missing:file, notadir:file')
    STORES = ('fast', 'slow', 'common', 'missing', 'notadir')
    ALL_STORE_DIRS = STORES + (base.STAGING_STORE, 'os_glance_tasks_store')

    @classmethod
    def config_lines(cls):
        return super().config_lines() + [
            '[fast]', 'filesystem_store_chunk_size = 4096',
            '[import]', 'lock_ttl = %d' % LOCK_TTL,
            'heartbeat_interval = %s' % HEARTBEAT]

    # Seed 1 --------------------------------------------------------------

    def test_concurrent_copies_to_two_stores(self):
        image_id, data = self.active_image()
        connections = base.WorkerConnections(self.server, per_worker=1)
        self.addCleanup(connections.close)
        (_, first), (_, second) = connections.all()
        barrier = threading.Barrier(2)

        def copy(connection, store):
            barrier.wait(10)
            return base.http_request(connection, 'POST',
                                     self.import_path(image_id),
                                     body=copy_request(store))

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(copy, [first, second],
                                    ['slow', 'common']))
        self.assertEqual([202, 202], [status for status, _ in answers],
                         answers)
        # Both copies run at the same time, one in each worker.
        self.wait_for('both copies to be writing at once', lambda: all(
            any(name.endswith('.partial')
                for name in self.store_files(store, image_id))
            for store in ('slow', 'common')), timeout=30, interval=0.01)

        image = self.wait_for_image(
            image_id, lambda image: base.stores_of(image) == {
                'fast', 'slow', 'common'}, 'to be in three stores')
        tasks = self.wait_for_tasks_to_end(image_id)
        self.assertEqual(['success'] * 3, [task['status'] for task in tasks],
                         tasks)
        image = self.image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual('', image['os_glance_importing_to_stores'])
        self.assertEqual('', image['os_glance_failed_import'])
        self.assert_one_complete_copy(image_id, data,
                                      ['fast', 'slow', 'common'])
        self.assert_download(image_id, data)

    # Seed 2 --------------------------------------------------------------

    def _glance_direct_with_failing_store(self, broken):
        image_id, data = self.staged_image(SMALL)
        accepted = threading.Event()

        def copy_as_soon_as_active():
            # Another client, watching the image: the moment it is
            # active, it asks for a copy to ``slow``.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                import_accepted = accepted.is_set()
                status, image = self.raw('GET', '/v2/images/%s' % image_id)
                if status == 200 and image['status'] == 'active':
                    return self.raw('POST', self.import_path(image_id),
                                    body=copy_request('slow'))
                if status != 200 or image['status'] not in (
                        'uploading', 'importing') or (
                        import_accepted and image['status'] == 'uploading'):
                    # The import failed: the image went back to uploading.
                    return status, 'image %s' % (image.get('status')
                                                 if status == 200 else image)
                time.sleep(0.005)
            return None, 'the image did not become active'

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            copier = pool.submit(copy_as_soon_as_active)
            try:
                # allow_failure (the default) sends
                # all_stores_must_succeed = false.
                self.glance().images.image_import(
                    image_id, method='glance-direct',
                    stores=['fast', broken], allow_failure=True)
            finally:
                accepted.set()
            copied = copier.result(90)
        self.assertEqual(202, copied[0], 'no copy after the import: %s; '
                         'tasks: %s' % (copied, [
                             (task['status'], task['message'])
                             for task in self.tasks_of(image_id)]))

        image = self.wait_for_image(
            image_id, lambda image: base.stores_of(image) == {'fast',
                                                              'slow'},
            'to be in fast and slow')
        tasks = {task['input']['method']: task
                 for task in self.wait_for_tasks_to_end(image_id)}
        image = self.image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(broken, image.get('os_glance_failed_import', ''))
        self.assertEqual('', image['os_glance_importing_to_stores'])
        self.assertEqual(('success', {'stores_succeeded': ['fast'],
                                      'stores_failed': [broken]}),
                         (tasks['glance-direct']['status'],
                          tasks['glance-direct']['result']))
        self.assertEqual('success', tasks['copy-image']['status'],
                         tasks['copy-image'])
        self.assertEqual((len(data),) + base.digests(data),
                         (image['size'], image['checksum'],
                          image['os_hash_value']))
        # Nothing staged is left, and the broken store holds nothing.
        self.assert_one_complete_copy(image_id, data, ['fast', 'slow'])
        self.assert_download(image_id, data)

    def test_glance_direct_with_a_store_whose_directory_is_gone(self):
        self.break_store('missing', how='remove')
        self._glance_direct_with_failing_store('missing')

    def test_glance_direct_with_a_store_whose_directory_is_a_file(self):
        self.break_store('notadir', how='file')
        self._glance_direct_with_failing_store('notadir')

    # One store, many requests --------------------------------------------

    def test_concurrent_copies_to_one_store_from_both_workers(self):
        image_id, data = self.active_image()
        connections = base.WorkerConnections(self.server, per_worker=3)
        self.addCleanup(connections.close)
        pairs = connections.all()
        barrier = threading.Barrier(len(pairs))

        def copy(pair):
            worker, connection = pair
            barrier.wait(10)
            status, body = base.http_request(
                connection, 'POST', self.import_path(image_id),
                body=copy_request('slow'))
            return worker, status, body

        with concurrent.futures.ThreadPoolExecutor(len(pairs)) as pool:
            answers = list(pool.map(copy, pairs))
        self.assertEqual(2, len({worker for worker, _, _ in answers}))
        accepted = [answer for answer in answers if answer[1] == 202]
        refused = [answer for answer in answers if answer[1] == 409]
        self.assertEqual((1, len(pairs) - 1), (len(accepted),
                                               len(refused)), answers)

        tasks = self.copy_tasks(image_id)
        self.assertEqual(1, len(tasks), tasks)
        running = tasks[0]['id']
        for _worker, _status, body in refused:
            self.assertIn(running, body['error']['message'])
            self.assertIn('slow', body['error']['message'])

        self.assertEqual('success', self.wait_for_task(running)['status'])
        image = self.image(image_id)
        self.assertEqual({'fast', 'slow'}, base.stores_of(image))
        self.assertEqual('', image['os_glance_importing_to_stores'])
        self.assert_one_complete_copy(image_id, data, ['fast', 'slow'])

    # Changes while a copy runs -------------------------------------------

    def test_delete_while_copying_leaves_no_file(self):
        image_id, _data = self.active_image()
        self.glance().images.image_import(image_id, method='copy-image',
                                          stores=['slow'])
        [task] = self.copy_tasks(image_id)
        self.copy_in_progress(image_id, 'slow')

        status, body = self.raw('DELETE', '/v2/images/%s' % image_id)
        self.assertEqual(204, status, body)
        self.assertEqual(404, self.raw('GET', '/v2/images/%s'
                                       % image_id)[0])
        # The copy stops at its next heartbeat and removes its file.
        ended = self.wait_for_task(task['id'], timeout=30)
        self.assertEqual('failure', ended['status'], ended)
        self.wait_for('every file of deleted image %s to go' % image_id,
                      lambda: not self.files_of(image_id), timeout=15)
        time.sleep(2 * HEARTBEAT)
        self.assertEqual({}, self.files_of(image_id))

    def test_patch_during_copy_survives_it(self):
        image_id, data = self.active_image()
        glance = self.glance()
        glance.images.update(image_id, colour='red', shape='square')
        glance.images.image_import(image_id, method='copy-image',
                                   stores=['slow'])
        [task] = self.copy_tasks(image_id)
        self.copy_in_progress(image_id, 'slow')

        glance.images.update(image_id, name='renamed-during-copy',
                             colour='blue', texture='rough',
                             remove_props=['shape'])
        # The copy was still running when the update was answered.
        self.assertTrue(any(name.endswith('.partial') for name in
                            self.store_files('slow', image_id))
                        or self.image(image_id).get(
                            'os_glance_importing_to_stores') == 'slow')

        self.assertEqual('success', self.wait_for_task(task['id'])['status'])
        image = glance.images.get(image_id)
        self.assertEqual('renamed-during-copy', image['name'])
        self.assertEqual('blue', image['colour'])
        self.assertEqual('rough', image['texture'])
        self.assertNotIn('shape', image)
        self.assertEqual({'fast', 'slow'}, base.stores_of(image))
        self.assertEqual('active', image['status'])
        self.assert_one_complete_copy(image_id, data, ['fast', 'slow'])

    # Takeover ------------------------------------------------------------

    def test_copy_of_a_killed_worker_is_taken_over(self):
        image_id, data = self.active_image()
        connections = base.WorkerConnections(self.server, per_worker=1)
        self.addCleanup(connections.close)
        worker, connection = connections.all()[0]
        status, body = base.http_request(connection, 'POST',
                                         self.import_path(image_id),
                                         body=copy_request('slow'))
        self.assertEqual(202, status, body)
        [dead_task] = self.copy_tasks(image_id)
        partial = self.copy_in_progress(image_id, 'slow')

        # The worker running the copy dies: no revert, no cleanup.
        os.kill(worker, signal.SIGKILL)
        self.wait_for('worker %d to die' % worker,
                      lambda: worker not in self.server.worker_pids(),
                      timeout=10)
        status, body = self.raw('POST', self.import_path(image_id),
                                body=copy_request('slow'))
        self.assertEqual(409, status, body)
        self.assertIn(dead_task['id'], body['error']['message'])

        # Once its heartbeat is lock_ttl old, a new copy takes over.
        def retry():
            answer = self.raw('POST', self.import_path(image_id),
                              body=copy_request('slow'))
            if answer[0] == 409:
                self.assertIn(dead_task['id'],
                              answer[1]['error']['message'])
                return None
            return answer
        status, body = self.wait_for('the dead copy to be taken over',
                                     retry, timeout=LOCK_TTL + 20,
                                     interval=0.25)
        self.assertEqual(202, status, body)

        ended = self.wait_for_task(dead_task['id'])
        self.assertEqual('failure', ended['status'])
        self.assertIn('stopped responding', ended['message'])
        tasks = self.copy_tasks(image_id)
        [new_task] = [task for task in tasks
                      if task['id'] != dead_task['id']]
        self.assertEqual('success',
                         self.wait_for_task(new_task['id'])['status'])
        self.assertNotIn(partial, self.store_files('slow'))
        image = self.image(image_id)
        self.assertEqual({'fast', 'slow'}, base.stores_of(image))
        self.assertEqual('', image['os_glance_importing_to_stores'])
        self.assert_one_complete_copy(image_id, data, ['fast', 'slow'])
        self.server.wait_until_every_worker_serves()

    # Policy --------------------------------------------------------------

    def test_copy_image_needs_an_administrator_by_default(self):
        owner = base.identity(base.unique('owner'))
        image_id, data = self.active_image(SMALL, headers=owner)

        status, body = self.raw('POST', self.import_path(image_id), owner,
                                body=copy_request('slow'))
        self.assertEqual(403, status, body)
        self.assertIn('copy_image', body['error']['message'])
        # openstacksdk says the same.
        sdk = self.sdk(owner)
        response = sdk.image.import_image(sdk.image.get_image(image_id),
                                          method='copy-image',
                                          stores=['slow'])
        self.assertEqual(403, response.status_code)
        self.assertEqual([], self.copy_tasks(image_id))
        self.assertEqual([], self.store_files('slow', image_id))

        admin = self.sdk(base.ADMIN)
        response = admin.image.import_image(
            admin.image.get_image(image_id), method='copy-image',
            stores=['slow'])
        self.assertEqual(202, response.status_code, response.text)
        self.wait_for_image(
            image_id, lambda image: base.stores_of(image) == {'fast',
                                                              'slow'},
            'to be copied to slow', headers=owner)
        self.assert_one_complete_copy(image_id, data, ['fast', 'slow'])
        self.assert_download(image_id, data, headers=owner)


class ImportPipelineTestsWithConversion(ImportPipelineTests):
    """The same races with the image_conversion plugin in every import.

    The staged data is a qcow2 of random bytes, which each first import
    converts to raw with qemu-img before writing it to its stores.
    """

    DISK_FORMAT = 'qcow2'

    @classmethod
    def config_lines(cls):
        return super().config_lines() + [
            '[image_import_opts]', 'image_import_plugins = image_conversion']

    def image_data(self, size):
        with tempfile.TemporaryDirectory() as directory:
            return disk_images.qcow2_of(directory, os.urandom(size))


class ImportPipelineTestsMySQL(ImportPipelineTests):
    FIXTURE = db_base.EmptyMySQLFixture


class ImportPipelineTestsPostgreSQL(ImportPipelineTests):
    FIXTURE = db_base.EmptyPostgreSQLFixture
