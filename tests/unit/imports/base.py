"""Import pipeline tests: real database, real stores, real executor.

Stores (all file-based, under a temporary state_path):
- fast, slow, common: plain file stores;
- corrupt: silently corrupts what it writes (corrupting_file);
- throttled: pauses before each chunk (throttled_file), so a test can
  act while an import is in the middle of its copy.

Locks use a short TTL (3 s) and heartbeat (0.5 s) so that takeover
scenarios run quickly.
"""

import io
import os
import tempfile
import time

from glance_lite.api import services
from glance_lite.db import api as db_api
from glance_lite.imports import executor
from glance_lite.imports import service
from glance_lite.store import manager
from tests.unit import config
from tests.unit.db import base as db_base

ENABLED_STORES = ('fast:file, slow:file, common:file, '
                  'corrupt:corrupting_file, throttled:throttled_file')
STAGING = 'os_glance_staging_store'
LOCK_TTL = 3
HEARTBEAT = 0.5
CHUNK = 65536
TERMINAL = ('success', 'failure')


def config_lines(state_path, *extra):
    """The config file of these tests, for this process or a child one."""
    return ['[DEFAULT]', 'state_path = %s' % state_path,
            'enabled_backends = %s' % ENABLED_STORES,
            '[glance_store]', 'default_backend = fast',
            '[import]', 'heartbeat_interval = %s' % HEARTBEAT,
            'lock_ttl = %d' % LOCK_TTL,
            # Races between requests and a running import need both to
            # get the CPU alike: a niced import yields to a burst of
            # requests and ends only after it (test_thread_priority
            # sets its own).
            'executor_niceness = 0',
            '[throttled]', 'filesystem_store_chunk_size = %d' % CHUNK,
            'throttle_seconds_per_chunk = 0.05',
            # The throttled store pauses per chunk of its source, and
            # copy-image reads ``fast``: small chunks there make a copy
            # to ``throttled`` take 0.05 s per 64 KiB.
            '[fast]', 'filesystem_store_chunk_size = %d' % CHUNK,
            '[os_glance_staging_store]',
            'filesystem_store_chunk_size = %d' % CHUNK, *extra]


def build_service(conf):
    stores = manager.StoreManager(conf)
    workers = executor.ImportExecutor(
        conf['import'].executor_workers, conf['import'].heartbeat_interval,
        niceness=conf['import'].executor_niceness)
    return service.ImportService(conf, stores, workers)


class ImportTestCase(db_base.DbTestCase):

    def setUp(self):
        super().setUp()
        # An API test whose application failed to load leaves its
        # services, reaper included, behind: that reaper would reap this
        # test's imports with its own stores.
        services.stop(0)
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.state_path = tmp.name
        self.conf = config.make_conf(*config_lines(self.state_path))
        self.service = build_service(self.conf)
        self.stores = self.service.stores
        self.addCleanup(self.service.executor.shutdown, 60)

    def store_files(self, store):
        return sorted(os.listdir(self.stores.get(store).datadir))

    def all_store_files(self):
        return {store: self.store_files(store)
                for store in self.stores.enabled_stores + [STAGING]}

    def image(self, image_id):
        return db_api.image_get(self.context, image_id)

    def wait_for_task(self, task_id, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task = db_api.task_get(self.context, task_id)
            if task['status'] in TERMINAL:
                return task
            time.sleep(0.05)
        self.fail('task %s did not end within %d s' % (task_id, timeout))

    def wait_for(self, condition, timeout=30, what='condition'):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.02)
        self.fail('%s not reached within %d s' % (what, timeout))

    def staged_image(self, data, **values):
        image = self.create_image(disk_format='raw', container_format='bare',
                                  **values)
        self.service.stage(self.context, image['id'], io.BytesIO(data),
                           size=len(data))
        return image['id']

    def active_image(self, data, stores=('fast',)):
        image_id = self.staged_image(data)
        task = self.service.import_image(self.context, image_id,
                                         'glance-direct', stores=stores)
        self.assertEqual('success', self.wait_for_task(task['id'])['status'])
        return image_id

    def snapshot(self, image_id):
        """Everything an import may touch: image, locks, markers, files."""
        image = self.image(image_id)
        image.pop('updated_at')
        for location in image['locations']:
            location.pop('id')
        return image, self.all_store_files()

    def assert_nothing_orphaned(self, image_id):
        """Every file in every store is a location of the image."""
        urls = {location['url']
                for location in self.image(image_id)['locations']}
        for store, names in self.all_store_files().items():
            for name in names:
                path = os.path.join(self.stores.get(store).datadir, name)
                self.assertIn('file://' + path, urls,
                              'orphan in store %s' % store)
