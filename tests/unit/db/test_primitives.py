"""What each db api primitive does, one caller at a time, on each backend.

test_races.py shows the same primitives keep their promises when many
callers contend.
"""

import datetime

from oslo_utils import timeutils

from glance_lite.common import exception
from glance_lite.db import api as db_api
from tests.unit.db import base


class ImageTests(base.DbTestCase):

    def test_create_and_get_with_properties(self):
        image = db_api.image_create(
            self.context, {'name': 'cirros', 'owner': 'p1'},
            properties={'os_distro': 'cirros', 'hw_rng': 'yes'})
        fetched = db_api.image_get(self.context, image['id'])
        self.assertEqual('cirros', fetched['name'])
        self.assertEqual('queued', fetched['status'])
        self.assertEqual({'os_distro': 'cirros', 'hw_rng': 'yes'},
                         fetched['properties'])
        self.assertEqual({}, fetched['markers'])
        self.assertEqual([], fetched['locations'])

    def test_get_missing_or_deleted_image_is_not_found(self):
        deleted = self.create_deleted_image()
        for image_id in ('no-such-image', deleted['id']):
            with self.assertRaises(exception.ImageNotFound) as caught:
                db_api.image_get(self.context, image_id)
            self.assertIn(image_id, str(caught.exception))

    def test_create_with_existing_id_is_a_duplicate_naming_the_key(self):
        image = self.create_image()
        with self.assertRaises(exception.Duplicate) as caught:
            db_api.image_create(self.context, {'id': image['id']})
        self.assertIn(image['id'], str(caught.exception))

    def test_update_changes_only_what_it_names(self):
        image = db_api.image_create(self.context, {'name': 'a'},
                                    properties={'keep': '1', 'change': 'x'})
        db_api.image_update(self.context, image['id'], {'min_ram': 512},
                            properties={'change': 'y', 'new': 'z'})
        fetched = db_api.image_get(self.context, image['id'])
        self.assertEqual(('a', 512, 'queued'), (
            fetched['name'], fetched['min_ram'], fetched['status']))
        self.assertEqual({'keep': '1', 'change': 'y', 'new': 'z'},
                         fetched['properties'])
        self.assertRaises(exception.ImageNotFound, db_api.image_update,
                          self.context, 'no-such-image', {'name': 'b'})

    def test_destroy_once(self):
        image = self.create_image()
        db_api.image_destroy(self.context, image['id'])
        self.assertRaises(exception.ImageNotFound, db_api.image_get,
                          self.context, image['id'])
        self.assertRaises(exception.ImageNotFound, db_api.image_destroy,
                          self.context, image['id'])


class PropertyPrimitiveTests(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.image = self.create_image()

    def properties(self):
        return db_api.image_get(self.context, self.image['id'])['properties']

    def test_set_if_absent_creates_only_once(self):
        self.assertTrue(db_api.image_property_set_if_absent(
            self.context, self.image['id'], 'os_glance_lock', 'task-1'))
        self.assertFalse(db_api.image_property_set_if_absent(
            self.context, self.image['id'], 'os_glance_lock', 'task-2'))
        self.assertEqual({'os_glance_lock': 'task-1'}, self.properties())

    def test_set_if_absent_on_missing_or_deleted_image(self):
        deleted = self.create_deleted_image()
        for image_id in ('no-such-image', deleted['id']):
            self.assertRaises(
                exception.ImageNotFound, db_api.image_property_set_if_absent,
                self.context, image_id, 'k', 'v')

    def test_delete_if_value_leaves_a_changed_value_alone(self):
        db_api.image_property_set_if_absent(
            self.context, self.image['id'], 'k', 'mine')
        self.assertFalse(db_api.image_property_delete_if_value(
            self.context, self.image['id'], 'k', 'theirs'))
        self.assertEqual({'k': 'mine'}, self.properties())
        self.assertTrue(db_api.image_property_delete_if_value(
            self.context, self.image['id'], 'k', 'mine'))
        self.assertEqual({}, self.properties())
        self.assertFalse(db_api.image_property_delete_if_value(
            self.context, self.image['id'], 'k', 'mine'))


class MarkerPrimitiveTests(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.image = self.create_image()

    def markers(self):
        return db_api.image_get(self.context, self.image['id'])['markers']

    def test_add_and_remove_single_elements(self):
        image_id = self.image['id']
        self.assertTrue(db_api.image_marker_add(
            self.context, image_id, 'os_glance_failed_import', 'slow'))
        self.assertFalse(db_api.image_marker_add(
            self.context, image_id, 'os_glance_failed_import', 'slow'))
        db_api.image_marker_add(
            self.context, image_id, 'os_glance_failed_import', 'fast')
        db_api.image_marker_add(
            self.context, image_id, 'os_glance_importing_to_stores', 'slow')
        self.assertEqual({'os_glance_failed_import': ['fast', 'slow'],
                          'os_glance_importing_to_stores': ['slow']},
                         self.markers())

        self.assertTrue(db_api.image_marker_remove(
            self.context, image_id, 'os_glance_failed_import', 'slow'))
        self.assertFalse(db_api.image_marker_remove(
            self.context, image_id, 'os_glance_failed_import', 'slow'))
        self.assertEqual({'os_glance_failed_import': ['fast'],
                          'os_glance_importing_to_stores': ['slow']},
                         self.markers())

    def test_add_to_missing_image(self):
        self.assertRaises(exception.ImageNotFound, db_api.image_marker_add,
                          self.context, 'no-such-image', 'm', 'e')


class ImportLockPrimitiveTests(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image()['id']
        self.t0 = timeutils.utcnow().replace(microsecond=250000)

    def acquire(self, task_id, store='fast', now=None):
        return db_api.import_lock_acquire(
            self.context, self.image_id, store, task_id, now=now or self.t0)

    def owner(self, store='fast'):
        lock = db_api.import_lock_get(self.context, self.image_id, store)
        return lock and lock['task_id']

    def test_acquire_is_exclusive_per_image_and_store(self):
        self.acquire('task-1')
        with self.assertRaises(exception.ImportLockHeld) as caught:
            self.acquire('task-2')
        self.assertEqual('task-1', caught.exception.kwargs['task_id'])
        self.assertIn('task-1', str(caught.exception))
        self.assertIn('fast', str(caught.exception))
        # Another store of the same image is a different lock.
        self.acquire('task-2', store='slow')
        self.assertEqual('task-1', self.owner('fast'))
        self.assertEqual('task-2', self.owner('slow'))

    def test_acquire_for_missing_or_deleted_image(self):
        deleted = self.create_deleted_image()
        for image_id in ('no-such-image', deleted['id']):
            self.assertRaises(
                exception.ImageNotFound, db_api.import_lock_acquire,
                self.context, image_id, 'fast', 'task-1')

    def test_heartbeat_keeps_sub_second_precision(self):
        self.acquire('task-1')
        later = self.t0 + datetime.timedelta(seconds=1, microseconds=500)
        db_api.import_lock_heartbeat(
            self.context, self.image_id, 'fast', 'task-1', now=later)
        lock = db_api.import_lock_get(self.context, self.image_id, 'fast')
        self.assertEqual(later, lock['heartbeat_at'])
        self.assertEqual(self.t0, lock['acquired_at'])

    def test_heartbeat_with_unchanged_time_still_counts_as_owned(self):
        # MySQL reports "rows changed", not "rows matched", unless the
        # driver asks otherwise; an owner must not be told it lost.
        self.acquire('task-1')
        db_api.import_lock_heartbeat(
            self.context, self.image_id, 'fast', 'task-1', now=self.t0)

    def test_heartbeat_by_non_owner_or_after_release_is_lost(self):
        self.acquire('task-1')
        self.assertRaises(exception.ImportLockLost,
                          db_api.import_lock_heartbeat, self.context,
                          self.image_id, 'fast', 'task-2')
        db_api.import_lock_release(self.context, self.image_id, 'fast',
                                   'task-1')
        with self.assertRaises(exception.ImportLockLost) as caught:
            db_api.import_lock_heartbeat(self.context, self.image_id,
                                         'fast', 'task-1')
        self.assertIn('task-1', str(caught.exception))

    def test_take_over_needs_stale_heartbeat_and_expected_owner(self):
        self.acquire('task-1')
        fresh_cutoff = self.t0
        stale_cutoff = self.t0 + datetime.timedelta(seconds=61)
        self.assertFalse(db_api.import_lock_take_over(
            self.context, self.image_id, 'fast', 'task-1', 'task-2',
            stale_before=fresh_cutoff))
        self.assertFalse(db_api.import_lock_take_over(
            self.context, self.image_id, 'fast', 'task-9', 'task-2',
            stale_before=stale_cutoff))
        self.assertEqual('task-1', self.owner())

        self.assertTrue(db_api.import_lock_take_over(
            self.context, self.image_id, 'fast', 'task-1', 'task-2',
            stale_before=stale_cutoff, now=stale_cutoff))
        self.assertEqual('task-2', self.owner())
        # The preempted owner notices at its next heartbeat and cannot
        # release what is no longer its lock.
        self.assertRaises(exception.ImportLockLost,
                          db_api.import_lock_heartbeat, self.context,
                          self.image_id, 'fast', 'task-1')
        self.assertFalse(db_api.import_lock_release(
            self.context, self.image_id, 'fast', 'task-1'))
        self.assertEqual('task-2', self.owner())

    def test_release_only_by_owner_then_free_again(self):
        self.acquire('task-1')
        self.assertFalse(db_api.import_lock_release(
            self.context, self.image_id, 'fast', 'task-2'))
        self.assertEqual('task-1', self.owner())
        self.assertTrue(db_api.import_lock_release(
            self.context, self.image_id, 'fast', 'task-1'))
        self.assertIsNone(self.owner())
        self.acquire('task-2')
        self.assertEqual('task-2', self.owner())


class LocationPrimitiveTests(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image()['id']

    def stores(self):
        return [loc['store'] for loc in
                db_api.image_get(self.context, self.image_id)['locations']]

    def test_one_location_per_store(self):
        db_api.image_location_add(self.context, self.image_id, 'fast',
                                  'file:///a')
        with self.assertRaises(exception.LocationExists) as caught:
            db_api.image_location_add(self.context, self.image_id, 'fast',
                                      'file:///b')
        self.assertIn('fast', str(caught.exception))
        db_api.image_location_add(self.context, self.image_id, 'slow',
                                  'file:///c')
        self.assertEqual(['fast', 'slow'], self.stores())

    def test_add_under_lock_only_while_owned(self):
        db_api.import_lock_acquire(self.context, self.image_id, 'fast',
                                   'task-1')
        for task_id in ('task-2', 'task-1-but-not-quite'):
            self.assertRaises(
                exception.ImportLockLost, db_api.image_location_add,
                self.context, self.image_id, 'fast', 'file:///x',
                lock_task_id=task_id)
        # No lock at all for this store.
        self.assertRaises(
            exception.ImportLockLost, db_api.image_location_add,
            self.context, self.image_id, 'slow', 'file:///x',
            lock_task_id='task-1')
        self.assertEqual([], self.stores())

        db_api.image_location_add(self.context, self.image_id, 'fast',
                                  'file:///x', lock_task_id='task-1')
        self.assertEqual(['fast'], self.stores())

    def test_add_after_takeover_is_refused_to_old_owner(self):
        t0 = timeutils.utcnow()
        db_api.import_lock_acquire(self.context, self.image_id, 'fast',
                                   'task-1', now=t0)
        db_api.import_lock_take_over(
            self.context, self.image_id, 'fast', 'task-1', 'task-2',
            stale_before=t0 + datetime.timedelta(seconds=1))
        self.assertRaises(
            exception.ImportLockLost, db_api.image_location_add,
            self.context, self.image_id, 'fast', 'file:///old',
            lock_task_id='task-1')
        db_api.image_location_add(self.context, self.image_id, 'fast',
                                  'file:///new', lock_task_id='task-2')
        locations = db_api.image_get(self.context,
                                     self.image_id)['locations']
        self.assertEqual(['file:///new'], [loc['url'] for loc in locations])

    def test_add_to_missing_or_deleted_image(self):
        deleted = self.create_deleted_image()
        for image_id in ('no-such-image', deleted['id']):
            self.assertRaises(exception.ImageNotFound,
                              db_api.image_location_add, self.context,
                              image_id, 'fast', 'file:///x')
        db_api.import_lock_acquire(self.context, self.image_id, 'fast',
                                   'task-1')
        self.assertRaises(exception.ImageNotFound,
                          db_api.image_location_add, self.context,
                          deleted['id'], 'fast', 'file:///x',
                          lock_task_id='task-1')


class TaskTests(base.DbTestCase):

    def test_create_and_get(self):
        task = db_api.task_create(self.context, {
            'type': 'api_image_import', 'owner': 'p1', 'image_id': 'img',
            'input': {'import_req': {'method': {'name': 'copy-image'}},
                      'stores': ['fast', 'slow']}})
        fetched = db_api.task_get(self.context, task['id'])
        self.assertEqual('pending', fetched['status'])
        self.assertEqual(['fast', 'slow'], fetched['input']['stores'])
        self.assertEqual('', fetched['message'])

    def test_get_missing(self):
        self.assertRaises(exception.TaskNotFound, db_api.task_get,
                          self.context, 'no-such-task')


class ImportLifecyclePrimitiveTests(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image(status='importing')['id']

    def image(self):
        return db_api.image_get(self.context, self.image_id)

    def test_status_transition_only_from_expected_statuses(self):
        self.assertFalse(db_api.image_status_transition(
            self.context, self.image_id, ['queued', 'uploading'], 'active'))
        self.assertEqual('importing', self.image()['status'])
        self.assertTrue(db_api.image_status_transition(
            self.context, self.image_id, ['importing'], 'queued'))
        self.assertEqual('queued', self.image()['status'])

    def test_status_transition_while_locked_by_the_owner_only(self):
        db_api.import_lock_acquire(self.context, self.image_id, 'staging',
                                   'task-2')
        self.assertFalse(db_api.image_status_transition(
            self.context, self.image_id, ['importing'], 'queued',
            while_locked_by=('staging', 'task-1')))
        self.assertEqual('importing', self.image()['status'])
        self.assertTrue(db_api.image_status_transition(
            self.context, self.image_id, ['importing'], 'queued',
            while_locked_by=('staging', 'task-2')))
        self.assertEqual('queued', self.image()['status'])

    def test_importing_to_stores_is_derived_from_locks(self):
        for store in ('slow', 'fast'):
            db_api.import_lock_acquire(self.context, self.image_id, store,
                                       'task-1')
        self.assertEqual(['fast', 'slow'],
                         self.image()['importing_to_stores'])
        db_api.import_lock_release(self.context, self.image_id, 'fast',
                                   'task-1')
        self.assertEqual(['slow'], self.image()['importing_to_stores'])

    def test_finish_activates_and_unlocks_together(self):
        for store in ('fast', 'slow'):
            db_api.import_lock_acquire(self.context, self.image_id, store,
                                       'task-1')
        db_api.import_lock_acquire(self.context, self.image_id, 'other',
                                   'task-2')
        activation = {'size': 5, 'checksum': 'c' * 32,
                      'os_hash_algo': 'sha512', 'os_hash_value': 'h' * 128}
        db_api.import_finish(self.context, self.image_id, 'task-1',
                             ['fast', 'slow'], activation)
        image = self.image()
        self.assertEqual('active', image['status'])
        self.assertEqual(5, image['size'])
        self.assertEqual('h' * 128, image['os_hash_value'])
        # Only task-1's locks went; task-2's lock is untouched.
        self.assertEqual(['other'], image['importing_to_stores'])

    def test_failed_activation_releases_nothing(self):
        db_api.import_lock_acquire(self.context, self.image_id, 'fast',
                                   'task-1')
        db_api.image_status_transition(self.context, self.image_id,
                                       ['importing'], 'queued')
        self.assertRaises(exception.ImageNotFound, db_api.import_finish,
                          self.context, self.image_id, 'task-1', ['fast'],
                          {'size': 1})
        self.assertEqual('queued', self.image()['status'])
        self.assertEqual(['fast'], self.image()['importing_to_stores'])

    def test_destroy_drops_locks_and_reports_leftovers(self):
        db_api.import_lock_acquire(self.context, self.image_id, 'fast',
                                   'task-1')
        db_api.image_location_add(self.context, self.image_id, 'slow',
                                  'file:///slow/x', size=3)
        leftovers = db_api.image_destroy(self.context, self.image_id)
        self.assertEqual([('slow', 'file:///slow/x', 3)],
                         [(loc['store'], loc['url'], loc['size'])
                          for loc in leftovers['locations']])
        self.assertEqual([('fast', 'task-1')],
                         [(lock['store'], lock['task_id'])
                          for lock in leftovers['import_locks']])
        # The importer learns at its next heartbeat.
        self.assertRaises(exception.ImportLockLost,
                          db_api.import_lock_heartbeat, self.context,
                          self.image_id, 'fast', 'task-1')
        self.assertRaises(exception.ImageNotFound, db_api.image_location_add,
                          self.context, self.image_id, 'fast', 'file:///f')

    def test_location_remove_only_if_still_ours(self):
        db_api.image_location_add(self.context, self.image_id, 'fast',
                                  'file:///mine')
        self.assertFalse(db_api.image_location_remove(
            self.context, self.image_id, 'fast', 'file:///theirs'))
        self.assertTrue(db_api.image_location_remove(
            self.context, self.image_id, 'fast', 'file:///mine'))
        self.assertEqual([], self.image()['locations'])

    def test_release_all_of_one_task(self):
        for store, task in [('a', 'task-1'), ('b', 'task-1'),
                            ('c', 'task-2')]:
            db_api.import_lock_acquire(self.context, self.image_id, store,
                                       task)
        self.assertEqual(2, db_api.import_lock_release_all(
            self.context, self.image_id, 'task-1'))
        self.assertEqual(['c'], self.image()['importing_to_stores'])


class TaskUpdateTests(base.DbTestCase):

    def test_update_from_expected_status_only(self):
        task = db_api.task_create(self.context, {
            'type': 'api_image_import', 'image_id': 'img', 'input': {}})
        self.assertTrue(db_api.task_update(
            self.context, task['id'], {'status': 'failure',
                                       'message': 'lock taken over'},
            from_statuses=['pending', 'processing']))
        self.assertFalse(db_api.task_update(
            self.context, task['id'], {'status': 'success'},
            from_statuses=['pending', 'processing']))
        fetched = db_api.task_get(self.context, task['id'])
        self.assertEqual(('failure', 'lock taken over'),
                         (fetched['status'], fetched['message']))

    def test_list_for_image(self):
        ids = [db_api.task_create(self.context, {
            'type': 'api_image_import', 'image_id': image_id,
            'input': {}})['id'] for image_id in ('img', 'other', 'img')]
        self.assertEqual([ids[0], ids[2]], [
            t['id'] for t in db_api.task_list_for_image(self.context,
                                                        'img')])


class ImageTestsMySQL(ImageTests):
    FIXTURE = base.MySQLFixture


class ImageTestsPostgreSQL(ImageTests):
    FIXTURE = base.PostgreSQLFixture


class PropertyPrimitiveTestsMySQL(PropertyPrimitiveTests):
    FIXTURE = base.MySQLFixture


class PropertyPrimitiveTestsPostgreSQL(PropertyPrimitiveTests):
    FIXTURE = base.PostgreSQLFixture


class MarkerPrimitiveTestsMySQL(MarkerPrimitiveTests):
    FIXTURE = base.MySQLFixture


class MarkerPrimitiveTestsPostgreSQL(MarkerPrimitiveTests):
    FIXTURE = base.PostgreSQLFixture


class ImportLockPrimitiveTestsMySQL(ImportLockPrimitiveTests):
    FIXTURE = base.MySQLFixture


class ImportLockPrimitiveTestsPostgreSQL(ImportLockPrimitiveTests):
    FIXTURE = base.PostgreSQLFixture


class LocationPrimitiveTestsMySQL(LocationPrimitiveTests):
    FIXTURE = base.MySQLFixture


class LocationPrimitiveTestsPostgreSQL(LocationPrimitiveTests):
    FIXTURE = base.PostgreSQLFixture


class TaskTestsMySQL(TaskTests):
    FIXTURE = base.MySQLFixture


class TaskTestsPostgreSQL(TaskTests):
    FIXTURE = base.PostgreSQLFixture


class ImportLifecyclePrimitiveTestsMySQL(ImportLifecyclePrimitiveTests):
    FIXTURE = base.MySQLFixture


class ImportLifecyclePrimitiveTestsPostgreSQL(ImportLifecyclePrimitiveTests):
    FIXTURE = base.PostgreSQLFixture


class TaskUpdateTestsMySQL(TaskUpdateTests):
    FIXTURE = base.MySQLFixture


class TaskUpdateTestsPostgreSQL(TaskUpdateTests):
    FIXTURE = base.PostgreSQLFixture
