"""The alembic migrations build exactly the schema the models describe."""

from oslo_db.sqlalchemy import test_migrations

from glance_lite.db import migration
from glance_lite.db import models
from tests.unit.db import base


class ModelsMigrationsSyncTests(test_migrations.ModelsMigrationsSync,
                                base.DbTestCase):
    FIXTURE = base.EmptySQLiteFixture

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        migration.upgrade(engine)

    def test_upgrade_reaches_head_and_is_repeatable(self):
        self.assertIsNone(migration.current_revision(self.engine))
        migration.upgrade(self.engine)
        self.assertEqual('0007_task_request',
                         migration.current_revision(self.engine))
        migration.upgrade(self.engine)
        self.assertEqual('0007_task_request',
                         migration.current_revision(self.engine))


class ModelsMigrationsSyncTestsMySQL(ModelsMigrationsSyncTests):
    FIXTURE = base.EmptyMySQLFixture


class ModelsMigrationsSyncTestsPostgreSQL(ModelsMigrationsSyncTests):
    FIXTURE = base.EmptyPostgreSQLFixture
