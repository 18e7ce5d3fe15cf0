"""The store driver contract, checked on every writable driver.

Each driver is loaded the way the service loads it: by its type name
through ``StoreManager`` and stevedore. ``sqlite_chunks`` comes from the
separately installed package in tests/third_party_store, so these tests
also prove a third-party store plugs in without any change to
glance-lite.

After every failed write the store must hold exactly what it held
before (``snapshot``), and while a write runs, readers must see nothing
of it (``visible``).
"""

import datetime
import hashlib
import io
import os
import sqlite3
import tempfile
import unittest

from oslo_utils import timeutils

from glance_lite.common import exception
from glance_lite.common import streaming
from glance_lite.store import driver
from glance_lite.store import manager
from tests.unit import config

IMAGE_ID = '1b6ec3b4-5a0c-4c9e-9d46-2f6f1b8f4a10'
OTHER_IMAGE_ID = '7d0a2c55-3f7e-4b8a-a0e6-9b4b1c2d3e4f'


class SourceFailed(Exception):
    pass


def pieces(data, size=100_003):
    """``data`` as an iterator of unevenly sized chunks."""
    return (data[i:i + size] for i in range(0, len(data), size))


def endless():
    while True:
        yield b'x' * 65536


class StoreContractMixin:
    """Tests every writable driver must pass; subclasses name the driver."""

    STORE_TYPE = None
    CHUNK_OPTION = None

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.state_path = tmp.name
        self.store = self.load_store()

    def load_store(self, *extra_lines):
        conf = config.make_conf(
            '[DEFAULT]', 'state_path = %s' % self.state_path,
            'enabled_backends = under_test:%s' % self.STORE_TYPE,
            *extra_lines,
            '[glance_store]', 'default_backend = under_test',
            '[under_test]', '%s = 65536' % self.CHUNK_OPTION)
        return manager.StoreManager(conf).get('under_test')

    def snapshot(self):
        """Everything the store holds, partial data included."""
        raise NotImplementedError

    def visible(self):
        """What a reader could find in the store right now."""
        raise NotImplementedError

    def assert_store_unchanged(self, before):
        self.assertEqual(before, self.snapshot())

    def read(self, location, **kwargs):
        return b''.join(self.store.get(location, **kwargs))

    def test_add_reports_size_and_hashes_and_reads_back(self):
        data = os.urandom(300_001)
        stored = self.store.add(IMAGE_ID, pieces(data), 'task-1',
                                expected_size=len(data))
        self.assertEqual(len(data), stored.size)
        self.assertEqual(hashlib.md5(data).hexdigest(), stored.checksum)
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         stored.os_hash_value)
        self.assertTrue(self.store.exists(stored.location))
        self.assertEqual(data, self.read(stored.location))

    def test_a_measurement_given_is_reported_and_the_size_checked(self):
        # An import writing one read to several stores hashes it once
        # and hands each store the reader's measurement.
        if not driver.takes_measurement(self.store):
            self.skipTest('%s hashes what it writes itself'
                          % self.STORE_TYPE)
        data = os.urandom(300_001)
        reader = streaming.MeasuredStream(pieces(data), 'source', IMAGE_ID)
        stored = self.store.add(IMAGE_ID, reader, 'task-1',
                                expected_size=len(data), measured_by=reader)
        self.assertEqual(
            (len(data), hashlib.md5(data).hexdigest(),
             hashlib.sha512(data).hexdigest()),
            (stored.size, stored.checksum, stored.os_hash_value))
        self.assertEqual(data, self.read(stored.location))
        before = self.snapshot()
        with self.assertRaises(exception.SizeMismatch):
            self.store.add(IMAGE_ID, pieces(data), 'task-2',
                           expected_size=len(data) + 1, measured_by=reader)
        self.assert_store_unchanged(before)

    def test_add_from_file_object_without_expected_size(self):
        data = os.urandom(200_000)
        stored = self.store.add(IMAGE_ID, io.BytesIO(data), 'task-1')
        self.assertEqual(len(data), stored.size)
        self.assertEqual(data, self.read(stored.location))

    def test_empty_image(self):
        stored = self.store.add(IMAGE_ID, iter([]), 'task-1',
                                expected_size=0)
        self.assertEqual(0, stored.size)
        self.assertEqual(hashlib.sha512(b'').hexdigest(),
                         stored.os_hash_value)
        self.assertTrue(self.store.exists(stored.location))
        self.assertEqual(b'', self.read(stored.location))

    def test_range_reads(self):
        data = os.urandom(200_000)
        stored = self.store.add(IMAGE_ID, pieces(data), 'task-1')
        for offset, length in [(0, 10), (65530, 20), (100, None),
                               (199_990, 100), (0, 200_000), (200_000, 5)]:
            end = None if length is None else offset + length
            self.assertEqual(
                data[offset:end],
                self.read(stored.location, offset=offset, length=length),
                (offset, length))

    def test_reads_stream_in_bounded_chunks(self):
        data = os.urandom(500_000)
        stored = self.store.add(IMAGE_ID, io.BytesIO(data), 'task-1')
        sizes = [len(chunk) for chunk in self.store.get(stored.location)]
        self.assertGreater(len(sizes), 5)
        self.assertLessEqual(max(sizes), 65536)

    def test_nothing_partial_is_visible_during_a_write(self):
        before = self.visible()
        seen_mid_write = []

        def source():
            yield os.urandom(150_000)
            seen_mid_write.append(self.visible())
            yield os.urandom(150_000)

        stored = self.store.add(IMAGE_ID, source(), 'task-1')
        self.assertEqual([before], seen_mid_write)
        self.assertNotEqual(before, self.visible())
        self.assertTrue(self.store.exists(stored.location))

    def test_short_source_fails_and_leaves_nothing(self):
        before = self.snapshot()
        with self.assertRaises(exception.SizeMismatch) as caught:
            self.store.add(IMAGE_ID, pieces(b'a' * 1000), 'task-1',
                           expected_size=1001)
        self.assertIn('1000 bytes long, but 1001', str(caught.exception))
        self.assertIn(IMAGE_ID, str(caught.exception))
        self.assert_store_unchanged(before)

    def test_long_source_stops_early_and_leaves_nothing(self):
        before = self.snapshot()
        with self.assertRaises(exception.SizeMismatch) as caught:
            self.store.add(IMAGE_ID, endless(), 'task-1',
                           expected_size=100_000)
        self.assertIn('but 100000 bytes were expected',
                      str(caught.exception))
        self.assert_store_unchanged(before)

    def test_size_cap_stops_the_write_and_leaves_nothing(self):
        self.store = self.load_store('image_size_cap = 200000')
        before = self.snapshot()
        with self.assertRaises(exception.SizeExceeded) as caught:
            self.store.add(IMAGE_ID, endless(), 'task-1')
        self.assertIn('200000 bytes allowed in store under_test',
                      str(caught.exception))
        self.assert_store_unchanged(before)

    def test_source_error_mid_stream_leaves_nothing(self):
        before = self.snapshot()

        def failing_source():
            yield os.urandom(100_000)
            raise SourceFailed('connection reset by peer')

        self.assertRaises(SourceFailed, self.store.add, IMAGE_ID,
                          failing_source(), 'task-1')
        self.assert_store_unchanged(before)

    def test_each_write_has_its_own_object(self):
        first = self.store.add(IMAGE_ID, iter([b'first']), 'task-1')
        second = self.store.add(IMAGE_ID, iter([b'second']), 'task-2')
        other = self.store.add(OTHER_IMAGE_ID, iter([b'other']), 'task-1')
        self.assertEqual(3, len({first.location, second.location,
                                 other.location}))

        self.store.discard(IMAGE_ID, 'task-1')
        self.store.discard(IMAGE_ID, 'task-1')  # idempotent
        self.assertFalse(self.store.exists(first.location))
        self.assertEqual(b'second', self.read(second.location))
        self.assertEqual(b'other', self.read(other.location))

    def test_discard_of_a_write_that_never_happened(self):
        before = self.snapshot()
        self.store.discard(IMAGE_ID, 'never-written')
        self.assert_store_unchanged(before)

    def test_delete(self):
        stored = self.store.add(IMAGE_ID, iter([b'data']), 'task-1')
        self.store.delete(stored.location)
        self.assertFalse(self.store.exists(stored.location))
        for operation in (self.store.delete, self.read):
            with self.assertRaises(exception.StoreDataNotFound) as caught:
                operation(stored.location)
            self.assertIn(stored.location, caught.exception.detail)

    def test_ids_that_could_escape_the_store_are_refused(self):
        before = self.snapshot()
        for image_id, write_id in [('../../etc/passwd', 'task-1'),
                                   (IMAGE_ID + '/..', 'task-1'),
                                   (IMAGE_ID, '../task'),
                                   (IMAGE_ID, ''),
                                   (IMAGE_ID, 'a/b')]:
            self.assertRaises(exception.InvalidLocation, self.store.add,
                              image_id, iter([b'x']), write_id)
            self.assertRaises(exception.InvalidLocation, self.store.discard,
                              image_id, write_id)
        self.assert_store_unchanged(before)

    def test_locations_of_other_stores_are_refused(self):
        stored = self.store.add(IMAGE_ID, iter([b'data']), 'task-1')
        for location in ['file:///etc/passwd',
                         'http://127.0.0.1/%s.task-1' % IMAGE_ID,
                         stored.location.replace('task-1', '../task-1'),
                         'sqlite-chunks://elsewhere/%s.task-1' % IMAGE_ID]:
            with self.assertRaises(exception.InvalidLocation) as caught:
                self.store.exists(location)
            self.assertIn('under_test', str(caught.exception))

    def complete_objects(self, image_id=None):
        return sorted((o for o in self.store.list_objects(image_id)
                       if o.complete), key=lambda o: o.location)

    def test_list_objects_reports_each_write(self):
        started = timeutils.utcnow() - datetime.timedelta(seconds=2)
        self.assertEqual([], list(self.store.list_objects()))
        first = self.store.add(IMAGE_ID, iter([b'first']), 'task-1')
        other = self.store.add(OTHER_IMAGE_ID, iter([b'other!']), 'task-2')

        listed = self.complete_objects()
        self.assertEqual(
            sorted([(IMAGE_ID, 'task-1', first.location, 5),
                    (OTHER_IMAGE_ID, 'task-2', other.location, 6)]),
            sorted((o.image_id, o.write_id, o.location, o.size)
                   for o in listed))
        for stored in listed:
            self.assertIsNotNone(stored.modified_at)
            self.assertGreater(stored.modified_at, started)
        self.assertEqual([first.location],
                         [o.location for o in
                          self.complete_objects(IMAGE_ID)])

        self.store.discard(IMAGE_ID, 'task-1')
        self.assertEqual([other.location],
                         [o.location for o in self.complete_objects()])

    def test_a_write_in_progress_is_never_listed_complete(self):
        seen_mid_write = []

        def source():
            yield os.urandom(150_000)
            seen_mid_write.extend(self.store.list_objects(IMAGE_ID))
            yield os.urandom(150_000)

        self.store.add(IMAGE_ID, source(), 'task-1')
        self.assertEqual([], [o for o in seen_mid_write if o.complete])
        self.assertEqual(1, len(self.complete_objects(IMAGE_ID)))


class FileStoreContractTests(StoreContractMixin, unittest.TestCase):
    STORE_TYPE = 'file'
    CHUNK_OPTION = 'filesystem_store_chunk_size'

    def snapshot(self):
        return sorted(os.listdir(self.store.datadir))

    def visible(self):
        return [name for name in self.snapshot() if not name.startswith('.')]

    def test_partials_are_listed_and_foreign_files_are_not(self):
        seen_mid_write = []

        def source():
            yield b'x' * 1000
            seen_mid_write.extend(self.store.list_objects())

        for foreign in ('README', '%s.task-1.tmp' % IMAGE_ID, '.hidden'):
            with open(os.path.join(self.store.datadir, foreign), 'w'):
                pass
        self.store.add(IMAGE_ID, source(), 'task-1')
        self.assertEqual([(IMAGE_ID, 'task-1', None, 1000, False)],
                         [o[:5] for o in seen_mid_write])


class ThirdPartyStoreContractTests(StoreContractMixin, unittest.TestCase):
    STORE_TYPE = 'sqlite_chunks'
    CHUNK_OPTION = 'chunk_store_chunk_size'

    def snapshot(self):
        # A separate connection sees only committed rows, as a reader.
        with sqlite3.connect(self.store.database) as connection:
            return connection.execute(
                'SELECT object, COUNT(*), SUM(LENGTH(data)) FROM chunks '
                'GROUP BY object ORDER BY object').fetchall()

    visible = snapshot


class UnlistableStoreTests(unittest.TestCase):
    """A driver that cannot list says so, with the store's name."""

    def test_http_store_cannot_list(self):
        with tempfile.TemporaryDirectory() as state_path:
            conf = config.make_conf(
                '[DEFAULT]', 'state_path = %s' % state_path,
                'enabled_backends = web:http, local:file',
                '[glance_store]', 'default_backend = local')
            store = manager.StoreManager(conf).get('web')
        with self.assertRaises(exception.StoreNotListable) as caught:
            list(store.list_objects())
        self.assertIn('Store web (driver HTTPStore) cannot list',
                      str(caught.exception))
