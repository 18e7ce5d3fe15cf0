"""An import to several stores reads its source once, over HTTP.

A real two-worker server with file stores: ``fast`` holds the image,
``a``, ``b`` and ``c`` are plain targets, and three targets misbehave
(tests/third_party_store/glance_lite_test_stores/faulty.py):
``corrupt`` changes a byte of what it writes (its copy fails
verification once written), ``buggy`` fails its write at once with a
RuntimeError, ``slow`` pauses before every chunk.

How often the source is read is counted in the server's log: the file
store logs (at DEBUG) each time it opens an image file for reading.
"""

import pytest

from tests.functional import base
from tests.functional import test_import_pipeline as pipeline
from tests.unit.db import base as db_base

pytestmark = pytest.mark.filterwarnings(
    'ignore::PendingDeprecationWarning:openstack')

SIZE = 2 * 2 ** 20 + 5
TARGETS = ('a', 'b', 'c')


def copy_request(stores, all_stores_must_succeed):
    request = pipeline.copy_request(*stores)
    request['all_stores_must_succeed'] = all_stores_must_succeed
    return request


class ImportFanoutTests(pipeline.PipelineHelpers, base.ServerTestCase):

    FIXTURE = db_base.EmptySQLiteFixture
    ENABLED_BACKENDS = ('fast:file, a:file, b:file, c:file, '
                        'corrupt:corrupting_file, buggy:raising_file, '
                        'slow:throttled_file')
    STORES = ('fast',) + TARGETS + ('corrupt', 'buggy', 'slow')
    ALL_STORE_DIRS = STORES + (base.STAGING_STORE, 'os_glance_tasks_store')

    @classmethod
    def config_lines(cls):
        lines = super().config_lines()
        # [DEFAULT] debug: the file store's "reading" lines are counted.
        return lines[:1] + ['debug = true'] + lines[1:] + [
            '[fast]', 'filesystem_store_chunk_size = 65536',
            '[slow]', 'throttle_seconds_per_chunk = 0.02']

    def reads_of(self, image_id):
        """How many times the server opened the image's file in ``fast``."""
        prefix = 'Store fast: reading %s/' % self.store_dir('fast')
        return sum(1 for line in self.server.log().splitlines()
                   if prefix in line and image_id in line)

    def copy(self, image_id, stores, all_stores_must_succeed):
        """Copy to ``stores``: the ended task and the image after it."""
        status, body = self.raw('POST', self.import_path(image_id),
                                body=copy_request(stores,
                                                  all_stores_must_succeed))
        self.assertEqual(202, status, body)
        [task] = self.wait_for_tasks_to_end(image_id)
        return task, self.image(image_id)

    def wait_for_tasks_to_end(self, image_id, timeout=60):
        return [task for task in super().wait_for_tasks_to_end(
            image_id, timeout) if task['input']['method'] == 'copy-image']

    def assert_copied(self, image_id, data, task, image, landed, failed):
        """What a copy that succeeded left; it downloads the image."""
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual({'stores_succeeded': list(landed),
                          'stores_failed': list(failed)}, task['result'])
        self.assertEqual({'fast', *landed}, base.stores_of(image))
        self.assertEqual(','.join(failed),
                         image.get('os_glance_failed_import', ''))
        self.assertEqual('', image['os_glance_importing_to_stores'])
        # Every landed file holds exactly the image's bytes, nothing of
        # the failed stores is left.
        self.assert_one_complete_copy(image_id, data, ['fast', *landed])
        self.assert_download(image_id, data)

    def test_three_stores_from_one_read(self):
        image_id, data = self.active_image(SIZE)
        reads = self.reads_of(image_id)
        task, image = self.copy(image_id, TARGETS, True)
        self.assertEqual(1, self.reads_of(image_id) - reads)
        self.assert_copied(image_id, data, task, image, TARGETS, [])

    def test_a_failing_store_leaves_the_others(self):
        for broken in ('corrupt', 'buggy'):
            with self.subTest(broken=broken):
                image_id, data = self.active_image(SIZE)
                reads = self.reads_of(image_id)
                task, image = self.copy(image_id, ('a', broken, 'b'), False)
                self.assertEqual(1, self.reads_of(image_id) - reads)
                self.assert_copied(image_id, data, task, image, ['a', 'b'],
                                   [broken])

    def test_a_failing_store_fails_all_when_all_must_succeed(self):
        for broken, reason in (('corrupt', 'written to store corrupt is'),
                               ('buggy', 'An internal error occurred')):
            with self.subTest(broken=broken):
                image_id, data = self.active_image(SIZE)
                task, image = self.copy(image_id, ('a', broken, 'b'), True)
                self.assertEqual('failure', task['status'])
                self.assertIn(reason, task['message'])
                self.assertEqual({'fast'}, base.stores_of(image))
                self.assertEqual('active', image['status'])
                # Only the store that failed is marked: the others were
                # given up, not failed.
                self.assertEqual(broken, image['os_glance_failed_import'])
                self.assertEqual('', image['os_glance_importing_to_stores'])
                self.assert_one_complete_copy(image_id, data, ['fast'])

    def test_a_slow_store_does_not_corrupt_the_others(self):
        image_id, data = self.active_image(SIZE)
        reads = self.reads_of(image_id)
        task, image = self.copy(image_id, ('a', 'slow', 'b'), True)
        self.assertEqual(1, self.reads_of(image_id) - reads)
        self.assert_copied(image_id, data, task, image, ['a', 'slow', 'b'],
                           [])


class ImportFanoutTestsMySQL(ImportFanoutTests):
    FIXTURE = db_base.EmptyMySQLFixture


class ImportFanoutTestsPostgreSQL(ImportFanoutTests):
    FIXTURE = db_base.EmptyPostgreSQLFixture
