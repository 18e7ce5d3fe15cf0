"""The Image API's database functions under real contention.

Same harness as test_races.py: contenders are threads in two OS
processes, released together by a barrier each round, against this
test's real database.
"""

from glance_lite.db import api as db_api
from tests.unit.db import base
from tests.unit.db import race
from tests.unit.db.test_races import CONTENDERS
from tests.unit.db.test_races import returned_true
from tests.unit.db.test_races import winners

# Two contenders only have a short window to collide in: many rounds.
STORE_COPY_ROUNDS = 12
ROUNDS = 4


class ImageApiRaceTests(base.DbTestCase):

    def create_images(self, count=ROUNDS):
        return [self.create_image()['id'] for _ in range(count)]

    def contend(self, calls):
        return race.contend(self.db_url, calls)

    def test_removing_both_copies_at_once_leaves_one(self):
        images = self.create_images(STORE_COPY_ROUNDS)
        for image_id in images:
            for store in ('a', 'b'):
                db_api.image_location_add(self.context, image_id, store,
                                          'file:///%s' % store)
        calls = [[('image_location_remove_unless_last', (image_id, store))
                  for image_id in images] for store in ('a', 'b')]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            won = winners(outcomes, r)
            self.assertEqual(1, len(won), outcomes)
            loser = 1 - won[0]
            self.assertEqual('LastCopy', outcomes[loser][r][1], outcomes)
            self.assertEqual(['ab'[loser]], [
                loc['store'] for loc in
                db_api.image_get(self.context, image_id)['locations']])

    def test_member_create_has_one_winner(self):
        images = self.create_images()
        calls = [[('image_member_create', (image_id, 'p2'))
                  for image_id in images] for _ in range(CONTENDERS)]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            won = winners(outcomes, r)
            self.assertEqual(1, len(won), outcomes)
            self.assertEqual(
                {'Duplicate'}, {outcomes[i][r][1] for i in range(CONTENDERS)
                                if i != won[0]})
            self.assertEqual(['p2'], [
                m['member'] for m in db_api.image_member_list(
                    self.context, image_id)])

    def test_tag_add_has_one_winner(self):
        images = self.create_images()
        calls = [[('image_tag_add', (image_id, 'web'))
                  for image_id in images] for _ in range(CONTENDERS)]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            self.assertEqual(1, len(returned_true(outcomes, r)), outcomes)
            self.assertEqual(len(winners(outcomes, r)), CONTENDERS)
            self.assertEqual(
                ['web'], db_api.image_get(self.context, image_id)['tags'])

    def test_tag_set_updates_and_adds_of_the_same_tag_all_succeed(self):
        # image_update inserts the tags it found missing; it holds the
        # image row, so a concurrent add cannot slip in between and make
        # that INSERT a duplicate.
        images = self.create_images()
        calls = [[('image_update', (image_id, {}, None, (), ['web']))
                  if i % 2 else ('image_tag_add', (image_id, 'web'))
                  for image_id in images] for i in range(CONTENDERS)]
        outcomes = self.contend(calls)

        for r, image_id in enumerate(images):
            self.assertEqual(CONTENDERS, len(winners(outcomes, r)), outcomes)
            self.assertEqual(
                ['web'], db_api.image_get(self.context, image_id)['tags'])


class ImageApiRaceTestsMySQL(ImageApiRaceTests):
    FIXTURE = base.MySQLFixture


class ImageApiRaceTestsPostgreSQL(ImageApiRaceTests):
    FIXTURE = base.PostgreSQLFixture
