"""What each db api primitive does, one caller at a time, on each backend.

test_races.py shows the same primitives keep their promises when many
callers contend.
"""

import datetime

from oslo_utils import timeutils

from glance_lite.common import exception
from glance_lite.db import api as db_api
from tests.unit.db import base

STAGING = 'os_glance_staging_store'
FAILED = 'os_glance_failed_import'


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

    def heartbeat(self, task_id, **kwargs):
        return db_api.import_lock_heartbeat(self.context, self.image_id,
                                            task_id, **kwargs)

    def test_acquire_records_the_owner_process(self):
        db_api.import_lock_acquire(
            self.context, self.image_id, 'fast', 'task-1',
            owner={'owner_host': 'node-1', 'owner_pid': 4242})
        lock = db_api.import_lock_get(self.context, self.image_id, 'fast')
        self.assertEqual(('node-1', 4242),
                         (lock['owner_host'], lock['owner_pid']))

    def test_heartbeat_keeps_sub_second_precision(self):
        self.acquire('task-1')
        later = self.t0 + datetime.timedelta(seconds=1, microseconds=500)
        self.assertEqual({'fast'}, self.heartbeat('task-1', now=later))
        lock = db_api.import_lock_get(self.context, self.image_id, 'fast')
        self.assertEqual(later, lock['heartbeat_at'])
        self.assertEqual(self.t0, lock['acquired_at'])

    def test_heartbeat_with_unchanged_time_still_counts_as_owned(self):
        # MySQL reports "rows changed", not "rows matched", unless the
        # driver asks otherwise; an owner must not be told it lost.
        self.acquire('task-1')
        self.assertEqual({'fast'}, self.heartbeat('task-1', now=self.t0))

    def test_heartbeat_refreshes_all_locks_of_the_task_together(self):
        self.acquire('task-1', store='fast')
        self.acquire('task-1', store='slow')
        self.acquire('task-2', store='other')
        later = self.t0 + datetime.timedelta(seconds=2)
        self.assertEqual({'fast', 'slow'}, self.heartbeat(
            'task-1', now=later, progress=('slow', 10, 40)))
        locks = {lock['store']: lock for lock in db_api.import_lock_list(
            self.context, self.image_id)}
        self.assertEqual([later, later, self.t0], [
            locks[store]['heartbeat_at']
            for store in ('fast', 'slow', 'other')])
        self.assertEqual((10, 40), (locks['slow']['bytes_done'],
                                    locks['slow']['bytes_total']))
        self.assertIsNone(locks['fast']['bytes_done'])

    def test_heartbeat_writes_the_message_of_a_live_task_only(self):
        task = db_api.task_create(self.context, {
            'type': 'api_image_import', 'image_id': self.image_id,
            'input': {}})
        self.acquire(task['id'])
        self.heartbeat(task['id'], message='Copying: 50%')
        self.assertEqual('Copying: 50%', db_api.task_get(
            self.context, task['id'])['message'])
        db_api.task_update(self.context, task['id'],
                           {'status': 'failure', 'message': 'reaped'})
        self.heartbeat(task['id'], message='Copying: 60%')
        self.assertEqual('reaped', db_api.task_get(
            self.context, task['id'])['message'])

    def test_heartbeat_by_non_owner_or_after_release_holds_nothing(self):
        self.acquire('task-1')
        self.assertEqual(set(), self.heartbeat('task-2'))
        db_api.import_lock_release(self.context, self.image_id, 'fast',
                                   'task-1')
        self.assertEqual(set(), self.heartbeat('task-1'))

    def test_list_all_stale_only(self):
        self.acquire('task-1', store='fast')
        self.acquire('task-2', store='slow',
                     now=self.t0 + datetime.timedelta(seconds=30))
        everything = db_api.import_lock_list_all(self.context)
        self.assertEqual(['task-1', 'task-2'],
                         [lock['task_id'] for lock in everything])
        stale = db_api.import_lock_list_all(
            self.context,
            stale_before=self.t0 + datetime.timedelta(seconds=10))
        self.assertEqual(['task-1'], [lock['task_id'] for lock in stale])

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


    def test_take_over_moves_every_lock_of_the_task_to_the_new_lease(self):
        self.acquire('task-1', store='fast')
        self.acquire('task-1', store='slow')
        self.acquire('task-2', store='other')
        later = self.t0 + datetime.timedelta(seconds=5)
        owner = {'owner_host': 'conductor-host', 'owner_pid': 77}
        self.assertEqual({'fast', 'slow'}, db_api.import_lock_take_over(
            self.context, self.image_id, 'task-1', 'task-1_b', owner,
            now=later))
        locks = {lock['store']: lock for lock in db_api.import_lock_list(
            self.context, self.image_id)}
        self.assertEqual(
            [('task-1', 'task-1_b', later, 'conductor-host', 77)] * 2,
            [(locks[store]['task_id'], locks[store]['lease'],
              locks[store]['heartbeat_at'], locks[store]['owner_host'],
              locks[store]['owner_pid']) for store in ('fast', 'slow')])
        self.assertEqual(('task-2', self.t0), (locks['other']['lease'],
                                               locks['other']['heartbeat_at']))

    def test_a_run_whose_locks_were_taken_over_is_fenced_off(self):
        task = db_api.task_create(self.context, {
            'type': 'api_image_import', 'image_id': self.image_id,
            'input': {}})
        task_id = task['id']
        self.acquire(task_id, store='fast')
        self.acquire(task_id, store='os_glance_staging_store')
        old, new = task_id + '_first', task_id + '_second'
        db_api.import_lock_take_over(self.context, self.image_id, task_id,
                                     old, None)
        db_api.import_lock_take_over(self.context, self.image_id, task_id,
                                     new, None)
        # Every write of the first run is refused or changes nothing.
        self.assertEqual(set(), self.heartbeat(task_id, lease=old))
        self.assertRaises(
            exception.ImportLockLost, db_api.image_location_add,
            self.context, self.image_id, 'fast', 'file:///old',
            lock_task_id=task_id, lock_lease=old)
        self.assertFalse(db_api.image_marker_add(
            self.context, self.image_id, db_api.FAILED_IMPORT_MARKER,
            'fast', while_locked_by=('fast', old)))
        self.assertFalse(db_api.image_status_transition(
            self.context, self.image_id, ['queued'], 'active',
            while_locked_by=('os_glance_staging_store', old)))
        self.assertRaises(
            exception.ImportLockLost, db_api.import_finish, self.context,
            self.image_id, task_id, {'stores_succeeded': ['fast'],
                                     'stores_failed': []}, lease=old)
        self.assertEqual(0, db_api.import_lock_release_all(
            self.context, self.image_id, old))
        self.assertFalse(db_api.import_task_fail(
            self.context, self.image_id, task_id, old, 'stalled run failed'))
        self.assertEqual({new}, db_api.import_lock_leases(
            self.context, self.image_id, task_id))
        # The new run's are not.
        self.assertEqual({'fast', 'os_glance_staging_store'},
                         self.heartbeat(task_id, lease=new))
        db_api.image_location_add(
            self.context, self.image_id, 'fast', 'file:///new',
            lock_task_id=task_id, lock_lease=new)
        db_api.import_finish(self.context, self.image_id, task_id,
                             {'stores_succeeded': ['fast'],
                              'stores_failed': []}, lease=new)
        self.assertEqual('success', db_api.task_get(self.context,
                                                    task_id)['status'])
        self.assertFalse(db_api.import_task_fail(
            self.context, self.image_id, task_id, new, 'too late'))
        self.assertEqual([], db_api.import_lock_list(self.context,
                                                     self.image_id))
        self.assertEqual(['file:///new'], [
            location['url'] for location in db_api.image_get(
                self.context, self.image_id)['locations']])

    def test_take_over_of_a_task_without_locks_takes_nothing(self):
        self.acquire('task-1')
        db_api.import_lock_release_all(self.context, self.image_id, 'task-1')
        self.assertEqual(set(), db_api.import_lock_take_over(
            self.context, self.image_id, 'task-1', 'task-1_b', None))


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

    def test_add_after_reaping_is_refused_to_old_owner(self):
        t0 = timeutils.utcnow()
        db_api.import_lock_acquire(self.context, self.image_id, 'fast',
                                   'task-1', now=t0)
        db_api.import_reap(self.context, self.image_id, 'task-1',
                           t0 + datetime.timedelta(seconds=1), 'dead')
        self.assertRaises(
            exception.ImportLockLost, db_api.image_location_add,
            self.context, self.image_id, 'fast', 'file:///old',
            lock_task_id='task-1')
        db_api.import_lock_acquire(self.context, self.image_id, 'fast',
                                   'task-2')
        db_api.image_location_add(self.context, self.image_id, 'fast',
                                  'file:///new', lock_task_id='task-2')
        locations = db_api.image_get(self.context,
                                     self.image_id)['locations']
        self.assertEqual([('file:///new', 'task-2')],
                         [(loc['url'], loc['task_id'])
                          for loc in locations])

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

    def create_task(self):
        return db_api.task_create(self.context, {
            'type': 'api_image_import', 'image_id': self.image_id,
            'input': {}})['id']

    def test_finish_activates_marks_unlocks_and_succeeds_together(self):
        task_id = self.create_task()
        for store in ('fast', 'slow', STAGING):
            db_api.import_lock_acquire(self.context, self.image_id, store,
                                       task_id)
        db_api.import_lock_acquire(self.context, self.image_id, 'other',
                                   'task-2')
        db_api.image_marker_add(self.context, self.image_id, FAILED, 'fast')
        db_api.image_marker_add(self.context, self.image_id, FAILED,
                                'other')
        activation = {'size': 5, 'checksum': 'c' * 32,
                      'os_hash_algo': 'sha512', 'os_hash_value': 'h' * 128}
        outcome = {'stores_succeeded': ['fast'], 'stores_failed': ['slow']}
        db_api.import_finish(self.context, self.image_id, task_id, outcome,
                             activation)
        image = self.image()
        self.assertEqual('active', image['status'])
        self.assertEqual(5, image['size'])
        self.assertEqual('h' * 128, image['os_hash_value'])
        # Only this task's locks went; task-2's lock and the marker of
        # the store it holds are untouched.
        self.assertEqual(['other'], image['importing_to_stores'])
        self.assertEqual(['other', 'slow'], image['markers'][FAILED])
        task = db_api.task_get(self.context, task_id)
        self.assertEqual(('success', outcome),
                         (task['status'], task['result']))

    def test_finish_after_reaping_changes_nothing(self):
        task_id = self.create_task()
        t0 = timeutils.utcnow()
        for store in ('fast', STAGING):
            db_api.import_lock_acquire(self.context, self.image_id, store,
                                       task_id, now=t0)
        db_api.import_reap(self.context, self.image_id, task_id,
                           t0 + datetime.timedelta(seconds=1), 'dead')
        db_api.import_lock_acquire(self.context, self.image_id, STAGING,
                                   'task-2')
        db_api.image_status_transition(self.context, self.image_id,
                                       ['queued'], 'importing')
        self.assertRaises(
            exception.ImportLockLost, db_api.import_finish, self.context,
            self.image_id, task_id,
            {'stores_succeeded': ['fast'], 'stores_failed': []},
            {'size': 1})
        image = self.image()
        self.assertEqual(('importing', None, [STAGING], {}),
                         (image['status'], image['size'],
                          image['importing_to_stores'], image['markers']))
        self.assertEqual('failure',
                         db_api.task_get(self.context, task_id)['status'])

    def test_reap_undoes_only_the_dead_tasks_stale_work(self):
        task_id = self.create_task()
        t0 = timeutils.utcnow()
        for store in ('fast', 'slow', STAGING):
            db_api.import_lock_acquire(self.context, self.image_id, store,
                                       task_id, now=t0)
        db_api.import_lock_acquire(self.context, self.image_id, 'other',
                                   'task-2', now=t0)
        db_api.image_location_add(self.context, self.image_id, STAGING,
                                  'file:///staged', size=5)
        db_api.image_location_add(self.context, self.image_id, 'fast',
                                  'file:///fast/dead', lock_task_id=task_id)
        db_api.image_location_add(self.context, self.image_id, 'other',
                                  'file:///other/2', lock_task_id='task-2')
        cutoff = t0 + datetime.timedelta(seconds=1)
        nothing = {'stores': [], 'status': None, 'kept': []}
        # Too fresh, or not the owner: nothing happens.
        self.assertEqual(nothing, db_api.import_reap(
            self.context, self.image_id, task_id, t0, 'dead'))
        self.assertEqual(nothing, db_api.import_reap(
            self.context, self.image_id, 'task-9', cutoff, 'dead'))

        self.assertEqual(
            {'stores': ['fast', STAGING, 'slow'], 'status': 'uploading',
             'kept': []},
            db_api.import_reap(self.context, self.image_id, task_id, cutoff,
                               'owner died'))
        image = self.image()
        self.assertEqual('uploading', image['status'])
        self.assertEqual(['other'], image['importing_to_stores'])
        self.assertEqual([STAGING, 'other'],
                         [loc['store'] for loc in image['locations']])
        self.assertEqual({}, image['markers'])
        task = db_api.task_get(self.context, task_id)
        self.assertEqual(('failure', 'owner died'),
                         (task['status'], task['message']))
        # A second reaper finds nothing left.
        self.assertEqual(nothing, db_api.import_reap(
            self.context, self.image_id, task_id, cutoff, 'again'))

    def test_reap_of_a_first_import_without_staged_data_queues_it(self):
        t0 = timeutils.utcnow()
        db_api.import_lock_acquire(self.context, self.image_id, STAGING,
                                   'task-1', now=t0)
        self.assertEqual(
            {'stores': [STAGING], 'status': 'queued', 'kept': []},
            db_api.import_reap(self.context, self.image_id, 'task-1',
                               t0 + datetime.timedelta(seconds=1), 'dead'))

    def test_reap_of_a_dead_stager_queues_the_image_without_staged_data(self):
        # A stage request holds the staging lock under its write id (no
        # task row) while the image is uploading.
        t0 = timeutils.utcnow()
        self.assertTrue(db_api.image_status_transition(
            self.context, self.image_id, ['importing'], 'uploading'))
        db_api.import_lock_acquire(self.context, self.image_id, STAGING,
                                   'stage-1', now=t0)
        self.assertEqual(
            {'stores': [STAGING], 'status': 'queued', 'kept': []},
            db_api.import_reap(self.context, self.image_id, 'stage-1',
                               t0 + datetime.timedelta(seconds=1), 'dead'))
        self.assertEqual([], self.image()['importing_to_stores'])

    def test_reap_of_a_stager_that_recorded_its_data_keeps_it_staged(self):
        t0 = timeutils.utcnow()
        self.assertTrue(db_api.image_status_transition(
            self.context, self.image_id, ['importing'], 'uploading'))
        db_api.import_lock_acquire(self.context, self.image_id, STAGING,
                                   'stage-1', now=t0)
        db_api.image_location_add(self.context, self.image_id, STAGING,
                                  'file:///staged', lock_task_id='stage-1',
                                  size=5)
        self.assertEqual(
            {'stores': [STAGING], 'status': 'uploading', 'kept': [STAGING]},
            db_api.import_reap(self.context, self.image_id, 'stage-1',
                               t0 + datetime.timedelta(seconds=1), 'dead'))
        self.assertEqual([STAGING], [location['store'] for location in
                                     self.image()['locations']])

    def test_reap_of_an_upload_queues_it_even_with_staged_data(self):
        # An upload's data is its own, never the image's staged data.
        t0 = timeutils.utcnow()
        db_api.import_lock_acquire(self.context, self.image_id, STAGING,
                                   'task-1', now=t0)
        db_api.image_location_add(self.context, self.image_id, STAGING,
                                  'file:///staged', size=5)
        self.assertTrue(db_api.image_status_transition(
            self.context, self.image_id, ['importing'], 'saving'))
        self.assertEqual(
            {'stores': [STAGING], 'status': 'queued', 'kept': []},
            db_api.import_reap(self.context, self.image_id, 'task-1',
                               t0 + datetime.timedelta(seconds=1), 'dead'))

    def test_fenced_marker_add_and_status_change_need_the_lock(self):
        db_api.import_lock_acquire(self.context, self.image_id, 'fast',
                                   'task-1')
        self.assertFalse(db_api.image_marker_add(
            self.context, self.image_id, FAILED, 'fast',
            while_locked_by=('fast', 'task-2')))
        self.assertTrue(db_api.image_marker_add(
            self.context, self.image_id, FAILED, 'fast',
            while_locked_by=('fast', 'task-1')))
        self.assertFalse(db_api.image_status_transition(
            self.context, self.image_id, ['importing'], 'queued',
            while_locked_by=('slow', 'task-1')))
        image = self.image()
        self.assertEqual(({FAILED: ['fast']}, 'importing'),
                         (image['markers'], image['status']))

    def test_failed_activation_releases_nothing(self):
        db_api.import_lock_acquire(self.context, self.image_id, STAGING,
                                   'task-1')
        db_api.image_status_transition(self.context, self.image_id,
                                       ['importing'], 'queued')
        self.assertRaises(exception.ImageNotFound, db_api.import_finish,
                          self.context, self.image_id, 'task-1',
                          {'stores_succeeded': [STAGING],
                           'stores_failed': []}, {'size': 1})
        self.assertEqual('queued', self.image()['status'])
        self.assertEqual([STAGING], self.image()['importing_to_stores'])

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
        self.assertEqual(set(), db_api.import_lock_heartbeat(
            self.context, self.image_id, 'task-1'))
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
