"""stores check on each database backend, with real stores and writers.

The stores are a file store, the third-party ``sqlite_chunks`` store
(loaded by its entry point, so it takes part through the driver
contract alone) and the staging store. Data in flight is written by
real writer threads through the drivers' ``add``, held mid-write.
"""

import datetime
import os
import sqlite3
import tempfile
import threading
import time

from oslo_utils import timeutils
from oslo_utils import uuidutils

from glance_lite.conf import stores as stores_conf
from glance_lite.db import api as db_api
from glance_lite.store import check
from glance_lite.store import manager
from tests.unit import config
from tests.unit.db import base

LOCK_TTL = 60
STAGING = stores_conf.STAGING_STORE
LONG_AGO = time.time() - 2 * 3600


class HeldWriter:
    """A real ``add`` in a thread, stopped after its first chunk."""

    def __init__(self, store, image_id, write_id):
        self.wrote_first_chunk = threading.Event()
        self.go_on = threading.Event()
        self.result = []
        self.thread = threading.Thread(
            target=lambda: self.result.append(
                store.add(image_id, self._source(), write_id)))
        self.thread.start()
        assert self.wrote_first_chunk.wait(30)
        # The chunk is written once the driver asks for the next one.
        deadline = time.monotonic() + 30
        while not any(o.size for o in store.list_objects(image_id)):
            assert time.monotonic() < deadline
            time.sleep(0.01)

    def _source(self):
        yield b'a' * 1000
        self.wrote_first_chunk.set()
        self.go_on.wait(30)
        yield b'b' * 1000

    def finish(self):
        self.go_on.set()
        self.thread.join(30)
        return self.result[0]


class RacingStore:
    """A real driver whose listings let other work in between them."""

    def __init__(self, driver):
        self.driver = driver
        self.listings = 0
        self.after_first_listing = self.before_second_listing = None

    def list_objects(self, image_id=None):
        self.listings += 1
        if self.listings == 2:
            self.before_second_listing()
        listed = list(self.driver.list_objects(image_id))
        if self.listings == 1:
            self.after_first_listing()
        return listed


class StoresCheckTests(base.DbTestCase):

    def setUp(self):
        super().setUp()
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        conf = config.make_conf(
            '[DEFAULT]', 'state_path = %s' % scratch.name,
            'enabled_backends = local:file, chunks:sqlite_chunks',
            '[glance_store]', 'default_backend = local')
        self.stores = manager.StoreManager(conf)
        self.local = self.stores.get('local')
        self.chunks = self.stores.get('chunks')
        self.staging = self.stores.get(STAGING)

    def check(self, delete=False):
        reports = check.check_stores(
            self.context, self.stores, ['local', 'chunks', STAGING],
            LOCK_TTL, delete=delete)
        return {report.store: report for report in reports}

    def write(self, store, data=b'image data', write_id=None, image=None,
              location=True):
        """Real data in ``store``; its location recorded if ``location``."""
        image = image or self.create_image()
        stored = self.stores.get(store).add(
            image['id'], iter([data]), write_id or uuidutils.generate_uuid())
        if location:
            db_api.image_location_add(self.context, image['id'], store,
                                      stored.location, size=stored.size)
        return image['id'], stored

    def age(self, store, location):
        """Make the object at ``location`` look written two hours ago."""
        if store == 'chunks':
            with sqlite3.connect(self.chunks.database) as connection:
                connection.execute(
                    'UPDATE objects SET written_at = ? WHERE object = ?',
                    (datetime.datetime.fromtimestamp(LONG_AGO).isoformat(),
                     location.rsplit('/', 1)[1]))
        else:
            os.utime(location[len('file://'):], (LONG_AGO, LONG_AGO))

    def plant_orphan(self, store):
        """Complete data of a write that never became a location."""
        image_id, stored = self.write(store, location=False)
        self.age(store, stored.location)
        return image_id, stored

    def orphans(self, report):
        return sorted((o.image_id, o.write_id) for o in report.orphans)

    def test_finds_orphans_and_locations_without_their_data(self):
        healthy = [self.write(store) for store in ('local', 'chunks')]
        for _image_id, stored in healthy:
            self.age('chunks' if 'chunks' in stored.location else 'local',
                     stored.location)
        orphans = {store: self.plant_orphan(store)
                   for store in ('local', 'chunks', STAGING)}
        # The data of a deleted image whose removal failed.
        deleted_id, deleted_data = self.write('local', write_id='task-old')
        self.age('local', deleted_data.location)
        db_api.image_destroy(self.context, deleted_id)
        missing_id, missing = self.write('local')
        self.local.delete(missing.location)
        short_id, short = self.write('local', data=b'0123456789')
        os.truncate(short.location[len('file://'):], 4)
        gone_id, gone = self.write('chunks')
        self.chunks.delete(gone.location)

        reports = self.check()

        self.assertEqual(
            sorted([(orphans['local'][0], orphans['local'][1].location
                     .rsplit('.', 1)[1]), (deleted_id, 'task-old')]),
            self.orphans(reports['local']))
        for store in ('chunks', STAGING):
            image_id, stored = orphans[store]
            self.assertEqual(
                [(image_id, stored.location.rsplit('.', 1)[1])],
                self.orphans(reports[store]))
        self.assertEqual(
            sorted([check.BrokenLocation('local', missing_id,
                                         missing.location, 10, None),
                    check.BrokenLocation('local', short_id, short.location,
                                         10, 4)]),
            sorted(reports['local'].broken))
        self.assertEqual([check.BrokenLocation('chunks', gone_id,
                                               gone.location, 10, None)],
                         reports['chunks'].broken)
        self.assertEqual(4, len(reports['local'].problems))
        # Nothing is removed without --delete.
        self.assertTrue(self.local.exists(deleted_data.location))

    def test_delete_removes_the_orphans_only(self):
        kept = [self.write(store)[1] for store in ('local', 'chunks')]
        short_id, short = self.write('local', data=b'0123456789')
        os.truncate(short.location[len('file://'):], 4)
        for location in [k.location for k in kept] + [short.location]:
            self.age('chunks' if 'chunks' in location else 'local',
                     location)
        orphans = {store: self.plant_orphan(store)[1]
                   for store in ('local', 'chunks', STAGING)}
        partial = os.path.join(self.local.datadir,
                               '.%s.task-dead.partial'
                               % self.create_image()['id'])
        with open(partial, 'wb') as partial_file:
            partial_file.write(b'half an image')
        os.utime(partial, (LONG_AGO, LONG_AGO))

        reports = self.check(delete=True)

        self.assertEqual(2, len(reports['local'].deleted))
        for store, stored in orphans.items():
            self.assertFalse(self.stores.get(store).exists(stored.location))
            self.assertEqual(reports[store].orphans, reports[store].deleted)
        self.assertFalse(os.path.exists(partial))
        for stored in kept:
            self.assertEqual(
                b'image data',
                b''.join(self.stores.get('chunks' if 'chunks' in
                                         stored.location else 'local')
                         .get(stored.location)))
        # A location of the wrong size is reported, never deleted.
        self.assertTrue(self.local.exists(short.location))
        self.assertEqual([short.location],
                         [b.url for b in reports['local'].problems])
        after = self.check()
        self.assertEqual([], [o for r in after.values() for o in r.orphans])

    def test_writes_in_flight_are_not_orphans(self):
        # An import's copy, its task holding a live lock of the image,
        # stalled long enough that its partial looks old.
        image = self.create_image()
        task_id = uuidutils.generate_uuid()
        db_api.import_lock_acquire(self.context, image['id'], 'local',
                                   task_id)
        copy = HeldWriter(self.local, image['id'], task_id)
        self.addCleanup(copy.finish)
        partial = os.path.join(self.local.datadir,
                               '.%s.%s.partial' % (image['id'], task_id))
        os.utime(partial, (LONG_AGO, LONG_AGO))
        # A stage upload: no lock, a fresh partial.
        staged_image = self.create_image()
        stage = HeldWriter(self.staging, staged_image['id'],
                           'stage-' + uuidutils.generate_uuid(dashed=False))
        self.addCleanup(stage.finish)
        # A complete copy of an import whose lock has expired: the
        # reaper's to clean, not ours.
        dead_task = uuidutils.generate_uuid()
        db_api.import_lock_acquire(
            self.context, staged_image['id'], 'chunks', dead_task,
            now=timeutils.utcnow() - datetime.timedelta(hours=1))
        abandoned = self.chunks.add(staged_image['id'], iter([b'x']),
                                    dead_task)
        self.age('chunks', abandoned.location)

        reports = self.check(delete=True)

        for report in reports.values():
            self.assertEqual([], report.orphans, report.store)
        self.assertEqual((1, 1, 0), (reports['local'].in_flight,
                                     reports[STAGING].in_flight,
                                     reports['chunks'].in_flight))
        self.assertEqual(1, reports['chunks'].abandoned)
        self.assertTrue(self.chunks.exists(abandoned.location))
        for writer in (copy, stage):
            self.assertEqual(2000, writer.finish().size)

    def test_writes_of_a_conductors_runs_count_as_their_tasks(self):
        # A conductor names its writes by its lease of the task: this
        # run's, and an earlier run's that it resumed, are the task's
        # while its lock lives; the same names without a lock are not.
        image = self.create_image()
        task_id = uuidutils.generate_uuid()
        db_api.import_lock_acquire(self.context, image['id'], 'local',
                                   task_id)
        for run in ('first', 'second'):
            _image_id, stored = self.write(
                'local', write_id='%s_%s' % (task_id, run), image=image,
                location=False)
            self.age('local', stored.location)
        _orphan_image, orphan = self.write(
            'local', write_id='%s_%s' % (uuidutils.generate_uuid(), 'x'),
            location=False)
        self.age('local', orphan.location)

        report = self.check()['local']

        self.assertEqual(2, report.in_flight)
        self.assertEqual([orphan.location], [
            stored.location for o in report.orphans for stored in o.objects])

    def test_an_orphan_that_became_a_location_survives_delete(self):
        image_id, stored = self.plant_orphan('local')
        report = check.check_store(self.context, 'local', self.local,
                                   LOCK_TTL)
        self.assertEqual([image_id], [o.image_id for o in report.orphans])

        db_api.image_location_add(self.context, image_id, 'local',
                                  stored.location, size=stored.size)

        self.assertEqual([], check.delete_orphans(self.context, report,
                                                  self.local, LOCK_TTL))
        self.assertTrue(self.local.exists(stored.location))

    def test_what_changes_between_listing_and_reading_is_not_reported(self):
        # An image being deleted: its location row goes first, then the
        # deleting worker removes its data.
        deleted_id, deleted = self.write('local')
        self.age('local', deleted.location)
        # A copy completing: its file appears, then its location row.
        copied = self.create_image()
        copy_task = uuidutils.generate_uuid()
        store = RacingStore(self.local)
        store.after_first_listing = lambda: (
            db_api.image_destroy(self.context, deleted_id),
            db_api.image_location_add(
                self.context, copied['id'], 'local',
                self.local.add(copied['id'], iter([b'copy']),
                               copy_task).location, size=4))
        store.before_second_listing = lambda: self.local.delete(
            deleted.location)

        report = check.check_store(self.context, 'local', store, LOCK_TTL)

        self.assertEqual(([], []), (report.orphans, report.broken))

    def test_a_store_that_cannot_list_is_not_checkable(self):
        with tempfile.TemporaryDirectory() as state_path:
            stores = manager.StoreManager(config.make_conf(
                '[DEFAULT]', 'state_path = %s' % state_path,
                'enabled_backends = web:http, local:file',
                '[glance_store]', 'default_backend = local'))
            web, local = check.check_stores(self.context, stores,
                                            ['web', 'local'], LOCK_TTL)
        self.assertFalse(web.checkable)
        self.assertIn('cannot list', web.reason)
        self.assertEqual([], web.problems)
        self.assertTrue(local.checkable)


class StoresCheckTestsMySQL(StoresCheckTests):
    FIXTURE = base.MySQLFixture


class StoresCheckTestsPostgreSQL(StoresCheckTests):
    FIXTURE = base.PostgreSQLFixture
