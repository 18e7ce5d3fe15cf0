"""Tags, members, image_update's new parts and store-copy removal.

One caller at a time, on each backend; test_races_image_api.py has the
same functions under contention.
"""

from glance_lite.common import exception
from glance_lite.db import api as db_api
from tests.unit.db import base


class TagTests(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image()['id']

    def tags(self):
        return db_api.image_get(self.context, self.image_id)['tags']

    def test_create_with_tags_sorted_and_once_each(self):
        image = db_api.image_create(self.context, {},
                                    tags=['web', 'db', 'web'])
        self.assertEqual(['db', 'web'], image['tags'])
        self.assertEqual([], self.tags())

    def test_add_and_remove(self):
        self.assertTrue(db_api.image_tag_add(self.context, self.image_id,
                                             'web'))
        self.assertFalse(db_api.image_tag_add(self.context, self.image_id,
                                              'web'))
        db_api.image_tag_add(self.context, self.image_id, 'db')
        self.assertEqual(['db', 'web'], self.tags())
        self.assertTrue(db_api.image_tag_remove(self.context,
                                                self.image_id, 'web'))
        self.assertFalse(db_api.image_tag_remove(self.context,
                                                 self.image_id, 'web'))
        self.assertEqual(['db'], self.tags())

    def test_add_to_missing_or_deleted_image(self):
        deleted = self.create_deleted_image()
        for image_id in ('no-such-image', deleted['id']):
            with self.assertRaises(exception.ImageNotFound) as caught:
                db_api.image_tag_add(self.context, image_id, 'web')
            self.assertIn(image_id, str(caught.exception))

    def test_update_makes_the_tag_set_exactly_the_given_one(self):
        for tag in ('keep', 'drop-1', 'drop-2'):
            db_api.image_tag_add(self.context, self.image_id, tag)
        image = db_api.image_update(self.context, self.image_id, {},
                                    tags=['new', 'keep', 'new'])
        self.assertEqual(['keep', 'new'], image['tags'])
        # Without tags, the tags stay; an empty list removes them all.
        db_api.image_update(self.context, self.image_id, {'name': 'x'})
        self.assertEqual(['keep', 'new'], self.tags())
        db_api.image_update(self.context, self.image_id, {}, tags=[])
        self.assertEqual([], self.tags())

    def test_update_with_tags_of_missing_image_changes_nothing(self):
        deleted = self.create_deleted_image()
        self.assertRaises(exception.ImageNotFound, db_api.image_update,
                          self.context, deleted['id'], {}, tags=['a'])


class RemovePropertyTests(base.DbTestCase):

    def test_named_properties_go_absent_ones_are_no_matter(self):
        image = db_api.image_create(self.context, {}, properties={
            'a': '1', 'b': '2', 'c': '3'})
        updated = db_api.image_update(
            self.context, image['id'], {}, properties={'a': 'one'},
            remove_properties=['b', 'not-there'])
        self.assertEqual({'a': 'one', 'c': '3'}, updated['properties'])


class MemberTests(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image(visibility='shared')['id']

    def create(self, member, image_id=None):
        return db_api.image_member_create(
            self.context, image_id or self.image_id, member)

    def test_create_is_pending_and_get_returns_it(self):
        created = self.create('p2')
        self.assertEqual(
            {'image_id': self.image_id, 'member': 'p2', 'status': 'pending'},
            {k: created[k] for k in ('image_id', 'member', 'status')})
        self.assertEqual(created, db_api.image_member_get(
            self.context, self.image_id, 'p2'))

    def test_second_membership_of_a_project_is_a_duplicate(self):
        self.create('p2')
        with self.assertRaises(exception.Duplicate) as caught:
            self.create('p2')
        self.assertIn('p2', str(caught.exception))
        # Another image may have the same member.
        self.create('p2', self.create_image()['id'])

    def test_list_oldest_first(self):
        for member in ('p3', 'p2', 'p4'):
            self.create(member)
        self.assertEqual(['p3', 'p2', 'p4'], [
            m['member'] for m in db_api.image_member_list(
                self.context, self.image_id)])
        self.assertEqual([], db_api.image_member_list(
            self.context, self.create_image()['id']))

    def test_update_status(self):
        created = self.create('p2')
        updated = db_api.image_member_update(self.context, self.image_id,
                                             'p2', 'accepted')
        self.assertEqual('accepted', updated['status'])
        self.assertEqual(created['created_at'], updated['created_at'])
        self.assertEqual(updated, db_api.image_member_get(
            self.context, self.image_id, 'p2'))
        # The same status again is still a successful update.
        db_api.image_member_update(self.context, self.image_id, 'p2',
                                   'accepted')
        with self.assertRaises(exception.BadRequest) as caught:
            db_api.image_member_update(self.context, self.image_id, 'p2',
                                       'maybe')
        self.assertIn('maybe', str(caught.exception))

    def test_delete(self):
        self.create('p2')
        self.create('p3')
        db_api.image_member_delete(self.context, self.image_id, 'p2')
        self.assertEqual(['p3'], [m['member'] for m in
                                  db_api.image_member_list(
                                      self.context, self.image_id)])
        self.assertRaises(exception.MemberNotFound,
                          db_api.image_member_delete, self.context,
                          self.image_id, 'p2')
        # Deleted rows leave nothing behind: the project can be added
        # again.
        self.assertEqual('pending', self.create('p2')['status'])

    def test_missing_member(self):
        for call, args in [
                (db_api.image_member_get, ()),
                (db_api.image_member_update, ('accepted',)),
                (db_api.image_member_delete, ())]:
            with self.assertRaises(exception.MemberNotFound) as caught:
                call(self.context, self.image_id, 'p9', *args)
            self.assertIn('p9', str(caught.exception))

    def test_members_of_missing_or_deleted_images_are_not_found(self):
        self.create('p2')
        db_api.image_destroy(self.context, self.image_id)
        for image_id in ('no-such-image', self.image_id):
            for call, args in [
                    (db_api.image_member_create, ('p3',)),
                    (db_api.image_member_get, ('p2',)),
                    (db_api.image_member_list, ()),
                    (db_api.image_member_update, ('p2', 'accepted')),
                    (db_api.image_member_delete, ('p2',))]:
                with self.assertRaises(exception.ImageNotFound,
                                       msg=call.__name__):
                    call(self.context, image_id, *args)


class StoreCopyRemovalTests(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image()['id']
        for store in ('fast', 'slow'):
            db_api.image_location_add(self.context, self.image_id, store,
                                      'file:///%s/x' % store, size=3)

    def stores(self):
        return [loc['store'] for loc in
                db_api.image_get(self.context, self.image_id)['locations']]

    def remove(self, store, image_id=None):
        return db_api.image_location_remove_unless_last(
            self.context, image_id or self.image_id, store)

    def test_removes_a_copy_but_never_the_last(self):
        before = db_api.image_get(self.context, self.image_id)
        removed = self.remove('fast')
        self.assertEqual(('fast', 'file:///fast/x', 3),
                         (removed['store'], removed['url'], removed['size']))
        self.assertEqual(['slow'], self.stores())
        self.assertGreater(
            db_api.image_get(self.context, self.image_id)['updated_at'],
            before['updated_at'])
        with self.assertRaises(exception.LastCopy) as caught:
            self.remove('slow')
        self.assertIn('slow', str(caught.exception))
        self.assertEqual(['slow'], self.stores())

    def test_store_without_a_copy(self):
        with self.assertRaises(exception.StoreCopyNotFound) as caught:
            self.remove('other')
        self.assertIn('other', str(caught.exception))
        self.assertEqual(['fast', 'slow'], self.stores())

    def test_missing_or_deleted_image(self):
        deleted = self.create_deleted_image()
        for image_id in ('no-such-image', deleted['id']):
            self.assertRaises(exception.ImageNotFound, self.remove, 'fast',
                              image_id)


class TagTestsMySQL(TagTests):
    FIXTURE = base.MySQLFixture


class TagTestsPostgreSQL(TagTests):
    FIXTURE = base.PostgreSQLFixture


class RemovePropertyTestsMySQL(RemovePropertyTests):
    FIXTURE = base.MySQLFixture


class RemovePropertyTestsPostgreSQL(RemovePropertyTests):
    FIXTURE = base.PostgreSQLFixture


class MemberTestsMySQL(MemberTests):
    FIXTURE = base.MySQLFixture


class MemberTestsPostgreSQL(MemberTests):
    FIXTURE = base.PostgreSQLFixture


class StoreCopyRemovalTestsMySQL(StoreCopyRemovalTests):
    FIXTURE = base.MySQLFixture


class StoreCopyRemovalTestsPostgreSQL(StoreCopyRemovalTests):
    FIXTURE = base.PostgreSQLFixture
