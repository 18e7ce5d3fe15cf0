"""The refusal's read: one statement, outside a transaction on PostgreSQL.

db_api.image_import_state reads in autocommit on PostgreSQL, to save
psycopg2's BEGIN and ROLLBACK round trips. The connection goes back to
the pool afterwards: it must come out of it again with transactions,
or a later writer's failed transaction would leave half its changes.
"""

import sqlalchemy as sa

from glance_lite.db import api as db_api
from glance_lite.db import models
from tests.unit.db import base

_images = models.Image.__table__


class SingleReadTests(base.DbTestCase):

    def test_a_later_transaction_still_rolls_back(self):
        image = self.create_image()
        # More reads than the pool holds: every connection it keeps has
        # served one.
        for _ in range(8):
            db_api.image_import_state(self.context, image['id'])

        class Abort(Exception):
            pass

        try:
            with db_api.main_context_manager.writer.connection.using(
                    self.context) as connection:
                connection.execute(_images.update().where(
                    _images.c.id == image['id']).values(name='half done'))
                raise Abort()
        except Abort:
            pass
        self.assertNotEqual('half done',
                            db_api.image_get(self.context,
                                             image['id'])['name'])


class SingleReadTestsMySQL(SingleReadTests):
    FIXTURE = base.MySQLFixture


class SingleReadTestsPostgreSQL(SingleReadTests):
    FIXTURE = base.PostgreSQLFixture

    def test_reads_outside_a_transaction(self):
        image = self.create_image()
        autocommit = []

        def record(connection, cursor, statement, *args):
            autocommit.append(connection.connection.dbapi_connection
                              .autocommit)
        sa.event.listen(self.engine, 'before_cursor_execute', record)
        self.addCleanup(sa.event.remove, self.engine,
                        'before_cursor_execute', record)
        state = db_api.image_import_state(self.context, image['id'])
        self.assertEqual(image['id'], state['id'])
        self.assertEqual([True], autocommit)
        autocommit.clear()
        db_api.image_get(self.context, image['id'])
        self.assertEqual({False}, set(autocommit))
