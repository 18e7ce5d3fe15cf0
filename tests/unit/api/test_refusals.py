"""A copy-image that must be refused costs one SQL statement.

Under contention nearly every request is refused (409): the store is
being imported to, or already has the image. Such a refusal reads the
image's visibility, its copies and its import locks with one SELECT
(db_api.image_import_state) and stops there. The statements are
counted as the database driver receives them, through SQLAlchemy's
``before_cursor_execute`` event on the real engine; SQLite's explicit
``BEGIN`` (glance-lite opens its transactions itself there) is
transaction control, not a query, and is not counted.
"""

import sqlalchemy as sa
from oslo_utils import uuidutils

from glance_lite.common import context
from glance_lite.db import api as db_api
from tests.unit.api import base
from tests.unit.db import base as db_base

DATA = b'refused' * 100


class RefusalTests(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.statements = []

    def count_statements(self):
        """Record from now on every statement sent to the database."""
        def record(connection, cursor, statement, *args):
            if statement != 'BEGIN':
                self.statements.append(statement)
        engine = db_api.get_engine()
        sa.event.listen(engine, 'before_cursor_execute', record)
        self.addCleanup(sa.event.remove, engine, 'before_cursor_execute',
                        record)

    def hold_lock(self, image_id, store):
        """A live task's lock on (image, store); the task's id."""
        task_id = uuidutils.generate_uuid()
        db_api.import_lock_acquire(context.get_admin_context(), image_id,
                                   store, task_id)
        return task_id

    def refuse(self, image_id, store, headers=base.ADMIN):
        """The 409 of a copy to ``store``, counting its statements."""
        self.statements.clear()
        response = self.import_(image_id, 'copy-image', headers,
                                stores=[store])
        self.assertEqual(409, response.status_int, response.text)
        self.assertEqual(1, len(self.statements), self.statements)
        return response.json['error']['message']

    def test_copy_to_a_store_being_imported_to(self):
        image = self.active_image(DATA)
        task_id = self.hold_lock(image['id'], 'slow')
        self.count_statements()
        message = self.refuse(image['id'], 'slow')
        self.assertIn('being imported to store slow by task %s' % task_id,
                      message)

    def test_copy_to_a_store_that_has_the_image(self):
        image = self.active_image(DATA)
        self.count_statements()
        self.assertIn('already in store(s) fast',
                      self.refuse(image['id'], 'fast'))

    def test_a_member_sees_the_image_in_the_same_statement(self):
        image = self.active_image(DATA)
        task_id = self.hold_lock(image['id'], 'slow')
        self.assertEqual(200, self.request(
            'PATCH', '/v2/images/%s' % image['id'], json=[
                {'op': 'replace', 'path': '/visibility',
                 'value': 'shared'}],
            content_type=base.PATCH_TYPE).status_int)
        # Not a member yet: the image is not there for bob.
        self.assertEqual(404, self.import_(
            image['id'], 'copy-image', base.BOB, stores=['slow']).status_int)
        self.assertEqual(200, self.request(
            'POST', '/v2/images/%s/members' % image['id'],
            json={'member': base.BOB['X-Project-Id']}).status_int)
        self.count_statements()
        # A member sees it, in the same one statement, and is refused
        # by policy: copy_image is the admin's by default.
        response = self.import_(image['id'], 'copy-image', base.BOB,
                                stores=['slow'])
        self.assertEqual(403, response.status_int, response.text)
        self.assertEqual(1, len(self.statements), self.statements)
        self.assertIn(task_id, self.refuse(image['id'], 'slow'))


class RefusalTestsMySQL(RefusalTests):
    FIXTURE = db_base.MySQLFixture


class RefusalTestsPostgreSQL(RefusalTests):
    FIXTURE = db_base.PostgreSQLFixture

    def last_queries(self):
        """The last statement each of the other sessions sent."""
        with self.engine.connect() as connection:
            return [row[0] for row in connection.execute(sa.text(
                'SELECT query FROM pg_stat_activity '
                'WHERE datname = current_database() '
                'AND pid <> pg_backend_pid()'))]

    def test_the_refusal_is_the_last_thing_its_session_sent(self):
        # psycopg2 sends some statements itself, which
        # before_cursor_execute does not see: switching a pooled
        # connection back from autocommit through SQLAlchemy's
        # isolation_level sent a SET default_transaction_isolation,
        # a second round trip for every refusal.
        image = self.active_image(DATA)
        self.hold_lock(image['id'], 'slow')
        self.count_statements()
        self.refuse(image['id'], 'slow')
        last = self.last_queries()
        self.assertTrue(any('FROM images' in query and 'import_locks'
                            in query for query in last), last)
        self.assertEqual([], [query for query in last
                              if query.startswith('SET ')])
