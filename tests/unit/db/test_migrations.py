"""The alembic migrations build exactly the schema the models describe."""

from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa

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

    def filter_metadata_diff(self, diff):
        """Drop unique constraints on a primary key the database folds in.

        TaskFlow's tables declare their primary key unique as well;
        PostgreSQL creates the primary key alone, which is as unique.
        """
        return [entry for entry in diff
                if not self._is_primary_key_twin(entry)]

    def _is_primary_key_twin(self, entry):
        if entry[0] != 'add_constraint' or not isinstance(
                entry[1], sa.UniqueConstraint):
            return False
        table = self.get_metadata().tables[entry[1].table.name]
        return (set(entry[1].columns.keys())
                == set(table.primary_key.columns.keys()))

    def test_upgrade_reaches_head_and_is_repeatable(self):
        self.assertIsNone(migration.current_revision(self.engine))
        migration.upgrade(self.engine)
        self.assertEqual('0008_import_flow_persistence',
                         migration.current_revision(self.engine))
        migration.upgrade(self.engine)
        self.assertEqual('0008_import_flow_persistence',
                         migration.current_revision(self.engine))


class ModelsMigrationsSyncTestsMySQL(ModelsMigrationsSyncTests):
    FIXTURE = base.EmptyMySQLFixture


class ModelsMigrationsSyncTestsPostgreSQL(ModelsMigrationsSyncTests):
    FIXTURE = base.EmptyPostgreSQLFixture
