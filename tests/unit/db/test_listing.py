"""image_list and task_list: who sees what, filters, sorting and pages.

Run on each backend: NULL ordering and keyset pagination are where
SQLite, MySQL and PostgreSQL differ.
"""

import datetime
import itertools

import sqlalchemy as sa

from glance_lite.common import context
from glance_lite.common import exception
from glance_lite.db import api as db_api
from tests.unit.db import base

T0 = datetime.datetime(2026, 1, 1, 12, 0, 0)


def at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


def image_id(n):
    # Fixed ids, so that the id tie-breaker's order is known.
    return '00000000-0000-0000-0000-%012d' % n


class ListingTestCase(base.DbTestCase):
    """Contexts of projects p1 and p2 and of an admin."""

    def setUp(self):
        super().setUp()
        self.p1 = context.RequestContext(project_id='p1')
        self.p2 = context.RequestContext(project_id='p2')
        self.admin = context.RequestContext(is_admin=True)
        self.serial = itertools.count()

    def image(self, name, properties=None, tags=None, **values):
        """An image with a fixed id, created ``serial`` minutes after T0."""
        n = next(self.serial)
        values.setdefault('id', image_id(n))
        values.setdefault('created_at', at(n))
        return db_api.image_create(self.context, dict(values, name=name),
                                   properties=properties, tags=tags)

    def names(self, ctx, **kwargs):
        return [image['name'] for image in db_api.image_list(ctx, **kwargs)]


class VisibilityTests(ListingTestCase):

    def setUp(self):
        super().setUp()
        self.ids = {}
        for name, owner, visibility in [
                ('p1-private', 'p1', 'private'),
                ('p1-shared', 'p1', 'shared'),
                ('p1-community', 'p1', 'community'),
                ('p2-private', 'p2', 'private'),
                ('p2-private-p1-member', 'p2', 'private'),
                ('p2-public', 'p2', 'public'),
                ('p2-community', 'p2', 'community'),
                ('p2-shared-accepted', 'p2', 'shared'),
                ('p2-shared-pending', 'p2', 'shared'),
                ('p2-shared-rejected', 'p2', 'shared'),
                ('p2-shared-p3', 'p2', 'shared'),
                ('p1-deleted', 'p1', 'public')]:
            self.ids[name] = self.image(name, owner=owner,
                                        visibility=visibility)['id']
        for name, member, status in [
                ('p2-private-p1-member', 'p1', 'accepted'),
                ('p2-shared-accepted', 'p1', 'accepted'),
                ('p2-shared-pending', 'p1', 'pending'),
                ('p2-shared-rejected', 'p1', 'rejected'),
                ('p2-shared-p3', 'p3', 'accepted')]:
            db_api.image_member_create(self.context, self.ids[name],
                                       member)
            if status != 'pending':
                db_api.image_member_update(
                    self.context, self.ids[name], member, status)
        db_api.image_destroy(self.context, self.ids['p1-deleted'])

    def listed(self, ctx, visibility=None, member_status='accepted'):
        filters = {} if visibility is None else {'visibility': visibility}
        return set(self.names(ctx, filters=filters,
                              member_status=member_status))

    def test_project_sees_own_public_and_accepted_shared(self):
        self.assertEqual(
            {'p1-private', 'p1-shared', 'p1-community', 'p2-public',
             'p2-shared-accepted'}, self.listed(self.p1))

    def test_member_status_picks_which_shared_images_count(self):
        own = {'p1-private', 'p1-shared', 'p1-community', 'p2-public'}
        self.assertEqual(own | {'p2-shared-pending'},
                         self.listed(self.p1, member_status='pending'))
        self.assertEqual(own | {'p2-shared-rejected'},
                         self.listed(self.p1, member_status='rejected'))
        self.assertEqual(
            own | {'p2-shared-accepted', 'p2-shared-pending',
                   'p2-shared-rejected'},
            self.listed(self.p1, member_status='all'))

    def test_each_visibility_filter_for_a_project(self):
        self.assertEqual({'p2-public'}, self.listed(self.p1, 'public'))
        self.assertEqual({'p1-private'}, self.listed(self.p1, 'private'))
        self.assertEqual({'p1-shared', 'p2-shared-accepted'},
                         self.listed(self.p1, 'shared'))
        self.assertEqual(
            {'p1-shared', 'p2-shared-accepted', 'p2-shared-pending',
             'p2-shared-rejected'},
            self.listed(self.p1, 'shared', member_status='all'))
        self.assertEqual({'p1-community', 'p2-community'},
                         self.listed(self.p1, 'community'))
        self.assertEqual(
            {'p1-private', 'p1-shared', 'p1-community', 'p2-public',
             'p2-shared-accepted', 'p2-community'},
            self.listed(self.p1, 'all'))

    def test_owner_sees_all_its_images(self):
        p2_images = {'p2-private', 'p2-private-p1-member', 'p2-public',
                     'p2-shared-accepted', 'p2-shared-pending',
                     'p2-shared-rejected', 'p2-shared-p3', 'p2-community'}
        self.assertEqual(p2_images, self.listed(self.p2))
        self.assertEqual(p2_images | {'p1-community'},
                         self.listed(self.p2, 'all'))

    def test_admin_sees_every_live_image(self):
        everything = {'p1-private', 'p1-shared', 'p1-community',
                      'p2-private', 'p2-private-p1-member', 'p2-public',
                      'p2-community', 'p2-shared-accepted',
                      'p2-shared-pending', 'p2-shared-rejected',
                      'p2-shared-p3'}
        self.assertEqual(everything, self.listed(self.admin))
        self.assertEqual(everything, self.listed(self.admin, 'all'))
        self.assertEqual({'p1-private', 'p2-private',
                          'p2-private-p1-member'},
                         self.listed(self.admin, 'private'))
        self.assertEqual({'p1-community', 'p2-community'},
                         self.listed(self.admin, 'community'))

    def test_caller_without_project_sees_only_public_and_community(self):
        anonymous = context.RequestContext()
        self.assertEqual({'p2-public'}, self.listed(anonymous))
        self.assertEqual({'p1-community', 'p2-community'},
                         self.listed(anonymous, 'community'))
        self.assertEqual(set(), self.listed(anonymous, 'private'))

    def test_marker_must_be_visible_to_the_caller(self):
        for marker in ('no-such-image', self.ids['p2-private'],
                       self.ids['p1-deleted']):
            with self.assertRaises(exception.ImageNotFound) as caught:
                db_api.image_list(self.p1, marker=marker)
            self.assertIn(marker, str(caught.exception))
        # A shared image the caller has not accepted can still be a
        # marker: the caller may see it.
        db_api.image_list(self.p1,
                          marker=self.ids['p2-shared-pending'])

    def test_bad_visibility_or_member_status(self):
        self.assertRaises(exception.BadRequest, db_api.image_list,
                          self.p1, filters={'visibility': 'secret'})
        self.assertRaises(exception.BadRequest, db_api.image_list,
                          self.p1, member_status='maybe')


class FilterTests(ListingTestCase):

    def setUp(self):
        super().setUp()
        self.image('small', size=10, disk_format='raw',
                   container_format='bare', status='active',
                   checksum='c' * 32, os_hash_value='h' * 128,
                   tags=['linux', 'small'], properties={'os_distro': 'a'})
        self.image('large', size=1000, disk_format='qcow2',
                   container_format='bare', status='active',
                   protected=True, tags=['linux', 'large'],
                   properties={'os_distro': 'b', 'arch': 'x86_64'})
        self.image('unsized', status='queued', tags=['small'])
        self.image('hidden', size=500, os_hidden=True, status='active')

    def filtered(self, **filters):
        return set(self.names(self.admin, filters=filters))

    def test_equality_filters_take_a_value_or_a_list(self):
        self.assertEqual({'small'}, self.filtered(name='small'))
        self.assertEqual({'small', 'hidden'},
                         self.filtered(name=['small', 'hidden', 'nope']))
        self.assertEqual({'unsized'}, self.filtered(status='queued'))
        self.assertEqual({'large'}, self.filtered(disk_format='qcow2'))
        self.assertEqual({'small', 'large'},
                         self.filtered(container_format='bare'))
        self.assertEqual({'small'}, self.filtered(checksum='c' * 32))
        self.assertEqual({'small'},
                         self.filtered(os_hash_value='h' * 128))
        self.assertEqual({'large'}, self.filtered(id=image_id(1)))
        self.assertEqual(set(), self.filtered(owner='p1'))

    def test_size_range(self):
        self.assertEqual({'large', 'hidden'}, self.filtered(size_min=500))
        self.assertEqual({'small', 'hidden'}, self.filtered(size_max=500))
        self.assertEqual({'hidden'},
                         self.filtered(size_min=11, size_max=999))

    def test_exact_size(self):
        self.assertEqual({'hidden'}, self.filtered(size=500))
        self.assertEqual({'small', 'large'}, self.filtered(size=[10, 1000]))
        self.assertEqual(set(), self.filtered(size=11))

    def test_flags(self):
        self.assertEqual({'large'}, self.filtered(protected=True))
        self.assertEqual({'small', 'large', 'unsized'},
                         self.filtered(os_hidden=False))
        self.assertEqual({'hidden'}, self.filtered(os_hidden=True))

    def test_tags_must_all_be_present(self):
        self.assertEqual({'small', 'large'}, self.filtered(tags=['linux']))
        self.assertEqual({'small'}, self.filtered(tags=['linux', 'small']))
        self.assertEqual(set(), self.filtered(tags=['linux', 'unknown']))

    def test_properties_must_all_match(self):
        self.assertEqual({'small'},
                         self.filtered(properties={'os_distro': 'a'}))
        self.assertEqual({'large'}, self.filtered(
            properties={'os_distro': 'b', 'arch': 'x86_64'}))
        self.assertEqual(set(), self.filtered(
            properties={'os_distro': 'a', 'arch': 'x86_64'}))

    def test_time_comparisons(self):
        # The images were created at minutes 0, 1, 2 and 3.
        for op, minute, expected in [
                ('gt', 1, {'unsized', 'hidden'}),
                ('gte', 1, {'large', 'unsized', 'hidden'}),
                ('lt', 1, {'small'}),
                ('lte', 1, {'small', 'large'}),
                ('eq', 2, {'unsized'}),
                ('neq', 2, {'small', 'large', 'hidden'})]:
            self.assertEqual(expected, self.filtered(
                created_at=[(op, at(minute))]), op)
        self.assertEqual({'large', 'unsized'}, self.filtered(
            created_at=[('gt', at(0)), ('lt', at(3))]))
        self.assertEqual(set(), self.filtered(
            updated_at=[('lt', at(0))]))

    def test_filters_combine(self):
        self.assertEqual({'small'}, self.filtered(
            tags=['linux'], size_max=100, status=['active']))

    def test_unknown_filter_or_comparison_is_a_bad_request(self):
        with self.assertRaises(exception.BadRequest) as caught:
            self.filtered(colour='blue')
        self.assertIn('colour', str(caught.exception))
        with self.assertRaises(exception.BadRequest) as caught:
            self.filtered(created_at=[('about', at(0))])
        self.assertIn('about', str(caught.exception))


def expected_order(images, keys, dirs):
    """Python's version of the database order: NULL lowest, then id."""
    if len(dirs) == 1:
        dirs = dirs * len(keys)
    if 'id' not in keys:
        keys, dirs = keys + ['id'], dirs + [dirs[-1]]
    ordered = list(images)
    for key, direction in reversed(list(zip(keys, dirs, strict=True))):
        ordered.sort(key=lambda image, key=key: (
            image[key] is not None, image[key]),
            reverse=direction == 'desc')
    return [image['id'] for image in ordered]


class SortAndPageTests(ListingTestCase):

    # Names and sizes with NULLs and ties, so the id tie-breaker and the
    # NULL handling of the keyset are both exercised.
    ROWS = [('b', 10), (None, None), ('a', 30), ('b', None), (None, 20),
            ('c', 10), ('a', None), (None, None), ('b', 20)]

    SORTS = [
        (['name'], ['asc']),
        (['name'], ['desc']),
        (['size'], ['asc']),
        (['size'], ['desc']),
        (['name', 'size'], ['asc', 'desc']),
        (['size', 'name'], ['desc', 'asc']),
        (['name', 'size'], ['desc']),
        (['created_at'], ['asc']),
        (['id'], ['desc']),
        (['min_ram', 'name'], ['asc', 'desc']),
    ]

    def setUp(self):
        super().setUp()
        self.images = [self.image(name, size=size, owner='p1')
                       for name, size in self.ROWS]
        # Out of creation order: created_at is not the id order.
        self.images.append(self.image('z', id=image_id(99),
                                      created_at=at(-1)))

    def listed_ids(self, ctx=None, **kwargs):
        return [image['id'] for image in
                db_api.image_list(ctx or self.admin, **kwargs)]

    def walk(self, limit, ctx=None, **kwargs):
        """Every page of a listing; the ids in the order they came."""
        ids, marker = [], None
        while True:
            page = self.listed_ids(ctx, marker=marker, limit=limit, **kwargs)
            ids.extend(page)
            if len(page) < limit:
                return ids
            marker = page[-1]

    def test_default_is_newest_first(self):
        self.assertEqual(expected_order(self.images, ['created_at'],
                                        ['desc']),
                         self.listed_ids())
        self.assertEqual(image_id(99), self.listed_ids()[-1])

    def test_every_sort_in_the_expected_order(self):
        for keys, dirs in self.SORTS:
            self.assertEqual(
                expected_order(self.images, keys, dirs),
                self.listed_ids(sort_keys=keys, sort_dirs=dirs),
                (keys, dirs))

    def test_pages_hold_every_row_once_in_order(self):
        for keys, dirs in self.SORTS + [(None, None)]:
            whole = self.listed_ids(sort_keys=keys, sort_dirs=dirs)
            for limit in (1, 2, 3, 4):
                self.assertEqual(whole, self.walk(
                    limit, sort_keys=keys, sort_dirs=dirs),
                    (keys, dirs, limit))

    def test_pages_of_a_filtered_listing(self):
        # Image "z" has no owner: p1 does not see it, and the size
        # filter leaves out the NULL sizes.
        kwargs = {'sort_keys': ['name'], 'sort_dirs': ['asc'],
                  'filters': {'size_min': 10}}
        whole = self.listed_ids(self.p1, **kwargs)
        self.assertEqual(expected_order(
            [i for i in self.images if i['size'] is not None], ['name'],
            ['asc']), whole)
        self.assertEqual(whole, self.walk(2, self.p1, **kwargs))

    def test_limit(self):
        self.assertEqual(3, len(self.listed_ids(limit=3)))
        self.assertEqual([], self.listed_ids(limit=0))

    def test_bad_sort_key_or_direction_is_a_bad_request(self):
        for kwargs, named in [
                ({'sort_keys': ['name', 'checksum']}, 'checksum'),
                ({'sort_keys': ['deleted']}, 'deleted'),
                ({'sort_dirs': ['up']}, 'up'),
                ({'sort_keys': ['name', 'size', 'id'],
                  'sort_dirs': ['asc', 'desc']}, '2 sort directions')]:
            with self.assertRaises(exception.BadRequest) as caught:
                db_api.image_list(self.admin, **kwargs)
            self.assertIn(named, str(caught.exception))


class ImageDictTests(ListingTestCase):

    def test_listed_images_are_shaped_like_image_get(self):
        first = self.image('first', properties={'k': 'v'},
                           tags=['b', 'a'])
        second = self.image('second')
        db_api.image_marker_add(self.context, first['id'], 'm', 'e')
        db_api.image_location_add(self.context, first['id'], 'fast',
                                  'file:///first')
        db_api.import_lock_acquire(self.context, second['id'], 'slow',
                                   'task-1')
        listed = db_api.image_list(self.admin, sort_keys=['name'],
                                   sort_dirs=['asc'])
        self.assertEqual(
            [db_api.image_get(self.context, first['id']),
             db_api.image_get(self.context, second['id'])], listed)
        self.assertEqual(['a', 'b'], listed[0]['tags'])
        self.assertEqual(['slow'], listed[1]['importing_to_stores'])

    def count_selects(self, **kwargs):
        statements = []

        def record(conn, cursor, statement, *args):
            if statement.lstrip().upper().startswith('SELECT'):
                statements.append(statement)

        sa.event.listen(self.engine, 'before_cursor_execute', record)
        try:
            images = db_api.image_list(self.admin, **kwargs)
        finally:
            sa.event.remove(self.engine, 'before_cursor_execute', record)
        return len(images), len(statements)

    def test_queries_do_not_grow_with_the_page(self):
        for n in range(12):
            image = self.image('image-%d' % n, tags=['t'],
                               properties={'p': str(n)})
            db_api.image_location_add(self.context, image['id'], 'fast',
                                      'file:///%d' % n)
        marker = db_api.image_list(self.admin, limit=1)[0]['id']
        one = self.count_selects(marker=marker, limit=1)
        many = self.count_selects(marker=marker, limit=10)
        self.assertEqual((1, 10), (one[0], many[0]))
        self.assertEqual(one[1], many[1])
        # The marker, the page, and one query per kind of detail.
        self.assertEqual(7, many[1])


class TaskListTests(ListingTestCase):

    def setUp(self):
        super().setUp()
        self.tasks = {}
        for n, (name, owner, status, type_) in enumerate([
                ('p1-old', 'p1', 'success', 'import'),
                ('p2-task', 'p2', 'pending', 'import'),
                ('p1-failed', 'p1', 'failure', 'api_image_import'),
                ('p1-deleted', 'p1', 'pending', 'import'),
                ('p1-new', 'p1', 'pending', 'api_image_import')]):
            self.tasks[name] = db_api.task_create(self.context, {
                'type': type_, 'owner': owner, 'status': status,
                'input': {}, 'created_at': at(n)})['id']
        self.names = {v: k for k, v in self.tasks.items()}
        db_api.task_update(self.context, self.tasks['p1-deleted'],
                           {'deleted': True})

    def listed(self, ctx, **kwargs):
        return [self.names[task['id']]
                for task in db_api.task_list(ctx, **kwargs)]

    def test_newest_first_own_tasks_only(self):
        self.assertEqual(['p1-new', 'p1-failed', 'p1-old'],
                         self.listed(self.p1))
        self.assertEqual(['p2-task'], self.listed(self.p2))
        self.assertEqual([], self.listed(context.RequestContext()))
        self.assertEqual(['p1-new', 'p1-failed', 'p2-task', 'p1-old'],
                         self.listed(self.admin))
        self.assertEqual(['p1-old', 'p2-task', 'p1-failed', 'p1-new'],
                         self.listed(self.admin, sort_dir='asc'))

    def test_filters(self):
        self.assertEqual(['p1-new', 'p2-task'], self.listed(
            self.admin, filters={'status': 'pending'}))
        self.assertEqual(['p1-new', 'p1-failed'], self.listed(
            self.p1, filters={'type': 'api_image_import'}))
        self.assertEqual(['p1-failed', 'p1-old'], self.listed(
            self.p1, filters={'status': ['success', 'failure']}))
        self.assertRaises(exception.BadRequest, db_api.task_list,
                          self.p1, filters={'owner': 'p2'})
        self.assertRaises(exception.BadRequest, db_api.task_list,
                          self.p1, sort_dir='sideways')

    def test_pages(self):
        for sort_dir in ('desc', 'asc'):
            whole = self.listed(self.admin, sort_dir=sort_dir)
            walked, marker = [], None
            while True:
                page = db_api.task_list(self.admin, marker=marker, limit=1,
                                        sort_dir=sort_dir)
                walked.extend(self.names[task['id']] for task in page)
                if not page:
                    break
                marker = page[-1]['id']
            self.assertEqual(whole, walked)

    def test_marker_must_be_visible(self):
        self.assertEqual(['p1-old'], self.listed(
            self.p1, marker=self.tasks['p1-failed']))
        for marker in ('no-such-task', self.tasks['p2-task'],
                       self.tasks['p1-deleted']):
            with self.assertRaises(exception.TaskNotFound) as caught:
                db_api.task_list(self.p1, marker=marker)
            self.assertIn(marker, str(caught.exception))


class VisibilityTestsMySQL(VisibilityTests):
    FIXTURE = base.MySQLFixture


class VisibilityTestsPostgreSQL(VisibilityTests):
    FIXTURE = base.PostgreSQLFixture


class FilterTestsMySQL(FilterTests):
    FIXTURE = base.MySQLFixture


class FilterTestsPostgreSQL(FilterTests):
    FIXTURE = base.PostgreSQLFixture


class SortAndPageTestsMySQL(SortAndPageTests):
    FIXTURE = base.MySQLFixture


class SortAndPageTestsPostgreSQL(SortAndPageTests):
    FIXTURE = base.PostgreSQLFixture


class ImageDictTestsMySQL(ImageDictTests):
    FIXTURE = base.MySQLFixture


class ImageDictTestsPostgreSQL(ImageDictTests):
    FIXTURE = base.PostgreSQLFixture


class TaskListTestsMySQL(TaskListTests):
    FIXTURE = base.MySQLFixture


class TaskListTestsPostgreSQL(TaskListTests):
    FIXTURE = base.PostgreSQLFixture
