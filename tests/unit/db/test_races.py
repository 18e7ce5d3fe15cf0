"""The atomic primitives under real contention, on each backend.

Every test runs its contenders as threads spread over two OS processes
(tests/unit/db/race.py), all released by one barrier per round, against
this test's real database. The assertions are the primitives' promises:
exactly one winner, and no writer's element lost.

Several rounds per test give a read-then-write implementation many
chances to let two contenders through.
"""

import datetime

from oslo_utils import timeutils

from glance_lite.db import api as db_api
from tests.unit.db import base
from tests.unit.db import race

CONTENDERS = 16
STAGING = 'os_glance_staging_store'
ROUNDS = 4


def winners(outcomes, round_index):
    """Indexes of contenders whose call returned (did not raise)."""
    return [i for i, rounds in enumerate(outcomes)
            if rounds[round_index][0] == 'ok']


def returned_true(outcomes, round_index):
    return [i for i, rounds in enumerate(outcomes)
            if rounds[round_index] == ('ok', True)]


class RaceTests(base.DbTestCase):

    def create_images(self, count=ROUNDS, **values):
        return [self.create_image(**values)['id'] for _ in range(count)]

    def contend(self, calls):
        return race.contend(self.db_url, calls)

    def test_lock_acquire_has_one_winner_per_image_and_store(self):
        images = self.create_images()
        # Half the contenders want store "a", half want store "b": each
        # store gets exactly one owner, and the two do not block each
        # other.
        calls = [[('import_lock_acquire',
                   (image_id, 'ab'[i % 2], 'task-%d' % i))
                  for image_id in images] for i in range(CONTENDERS)]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            for store in 'ab':
                contenders = [i for i in range(CONTENDERS)
                              if 'ab'[i % 2] == store]
                won = [i for i in winners(outcomes, r) if i in contenders]
                self.assertEqual(1, len(won), (store, outcomes))
                owner = 'task-%d' % won[0]
                self.assertEqual(owner, db_api.import_lock_get(
                    self.context, image_id, store)['task_id'])
                for i in contenders:
                    if i != won[0]:
                        kind, name, message = outcomes[i][r]
                        self.assertEqual('ImportLockHeld', name)
                        self.assertIn(owner, message)

    def test_property_set_if_absent_has_one_winner(self):
        images = self.create_images()
        calls = [[('image_property_set_if_absent',
                   (image_id, 'os_glance_import_task', 'task-%d' % i))
                  for image_id in images] for i in range(CONTENDERS)]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            won = returned_true(outcomes, r)
            self.assertEqual(1, len(won), outcomes)
            self.assertEqual(
                {'os_glance_import_task': 'task-%d' % won[0]},
                db_api.image_get(self.context, image_id)['properties'])

    def test_property_delete_if_value_has_one_winner(self):
        images = self.create_images()
        for image_id in images:
            db_api.image_property_set_if_absent(
                self.context, image_id, 'os_glance_import_task', 'task-x')
        calls = [[('image_property_delete_if_value',
                   (image_id, 'os_glance_import_task', 'task-x'))
                  for image_id in images] for _ in range(CONTENDERS)]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            self.assertEqual(1, len(returned_true(outcomes, r)), outcomes)
            self.assertEqual(
                {}, db_api.image_get(self.context, image_id)['properties'])

    def test_reap_has_one_winner(self):
        images = self.create_images(status='importing')
        long_ago = timeutils.utcnow() - datetime.timedelta(hours=1)
        for image_id in images:
            for store in ('fast', STAGING):
                db_api.import_lock_acquire(self.context, image_id, store,
                                           'dead-task', now=long_ago)
        cutoff = timeutils.utcnow() - datetime.timedelta(minutes=1)
        calls = [[('import_reap', (image_id, 'dead-task', cutoff,
                                   'reaped by %d' % i))
                  for image_id in images] for i in range(CONTENDERS)]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            won = [i for i, rounds in enumerate(outcomes)
                   if rounds[r][0] == 'ok' and rounds[r][1]['stores']]
            self.assertEqual(1, len(won), outcomes)
            self.assertEqual(
                {'stores': ['fast', STAGING], 'status': 'queued',
                 'kept': []},
                outcomes[won[0]][r][1])
            nothing = {'stores': [], 'status': None, 'kept': []}
            self.assertTrue(all(
                rounds[r] == ('ok', nothing)
                for i, rounds in enumerate(outcomes) if i != won[0]),
                outcomes)
            self.assertEqual([], db_api.import_lock_list(self.context,
                                                         image_id))

    def test_owner_heartbeat_and_reap_exclude_each_other(self):
        # The owner is slow but alive: its heartbeat and the reapers
        # race. Either the heartbeat lands first and no reaper wins, or
        # exactly one reaper wins and the owner learns it holds nothing.
        images = self.create_images()
        stalled = timeutils.utcnow() - datetime.timedelta(minutes=5)
        for image_id in images:
            db_api.import_lock_acquire(self.context, image_id, 'fast',
                                       'owner', now=stalled)
        cutoff = timeutils.utcnow() - datetime.timedelta(minutes=1)
        calls = [[('import_lock_heartbeat', (image_id, 'owner'))
                  for image_id in images]]
        calls += [[('import_reap', (image_id, 'owner', cutoff, 'reaped'))
                   for image_id in images] for _ in range(1, CONTENDERS)]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            reaped = [i for i, rounds in enumerate(outcomes[1:])
                      if rounds[r][1]['stores']]
            lock = db_api.import_lock_get(self.context, image_id, 'fast')
            if outcomes[0][r] == ('ok', {'fast'}):
                self.assertEqual([], reaped, outcomes)
                self.assertEqual('owner', lock['task_id'])
            else:
                self.assertEqual(('ok', set()), outcomes[0][r])
                self.assertEqual(1, len(reaped), outcomes)
                self.assertIsNone(lock)

    def test_lock_release_happens_once(self):
        images = self.create_images()
        for image_id in images:
            db_api.import_lock_acquire(self.context, image_id, 'fast',
                                       'owner')
        calls = [[('import_lock_release', (image_id, 'fast', 'owner'))
                  for image_id in images] for _ in range(CONTENDERS)]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            self.assertEqual(1, len(returned_true(outcomes, r)), outcomes)
            self.assertIsNone(
                db_api.import_lock_get(self.context, image_id, 'fast'))

    def test_location_add_has_one_winner_per_store(self):
        images = self.create_images()
        calls = [[('image_location_add',
                   (image_id, 'fast', 'file:///copy-%d' % i))
                  for image_id in images] for i in range(CONTENDERS)]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            won = winners(outcomes, r)
            self.assertEqual(1, len(won), outcomes)
            self.assertEqual(
                {'LocationExists'},
                {outcomes[i][r][1] for i in range(CONTENDERS)
                 if i != won[0]})
            locations = db_api.image_get(self.context,
                                         image_id)['locations']
            self.assertEqual(['file:///copy-%d' % won[0]],
                             [loc['url'] for loc in locations])

    def test_marker_adds_and_removes_lose_no_element(self):
        # 50 writers add distinct elements while 10 others remove the
        # elements that were there before: nobody's change is lost.
        image_id = self.create_image()['id']
        marker = 'os_glance_failed_import'
        for n in range(10):
            db_api.image_marker_add(self.context, image_id, marker,
                                    'old-%d' % n)
        calls = [[('image_marker_add', (image_id, marker, 'new-%02d' % n))]
                 for n in range(50)]
        calls += [[('image_marker_remove', (image_id, marker, 'old-%d' % n))]
                  for n in range(10)]
        outcomes = self.contend(calls)

        self.assertEqual([[('ok', True)]] * 60, outcomes)
        self.assertEqual(
            ['new-%02d' % n for n in range(50)],
            db_api.image_get(self.context, image_id)['markers'][marker])

    def test_marker_add_of_one_element_has_one_winner(self):
        images = self.create_images()
        calls = [[('image_marker_add',
                   (image_id, 'os_glance_importing_to_stores', 'slow'))
                  for image_id in images] for _ in range(CONTENDERS)]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            self.assertEqual(1, len(returned_true(outcomes, r)), outcomes)
            self.assertEqual(
                {'os_glance_importing_to_stores': ['slow']},
                db_api.image_get(self.context, image_id)['markers'])


class RaceTestsMySQL(RaceTests):
    FIXTURE = base.MySQLFixture


class RaceTestsPostgreSQL(RaceTests):
    FIXTURE = base.PostgreSQLFixture
