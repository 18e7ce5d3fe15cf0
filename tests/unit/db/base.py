"""Database test cases on SQLite, MySQL/MariaDB and PostgreSQL.

Built on oslo.db's opportunistic fixtures: each test gets a freshly
provisioned database of its class's backend, and ``glance_lite.db.api``
is pointed at it. A subclass picks the backend with ``FIXTURE``.

A backend that is not reachable skips its tests, unless the backend is
listed in ``GLANCE_LITE_TEST_REQUIRE_BACKENDS`` (comma separated, e.g.
``mysql,postgresql``): then its tests fail, which is what CI wants.
"""

import unittest

import fixtures
from oslo_db.sqlalchemy import test_fixtures

from glance_lite.common import context
from glance_lite.db import api as db_api
from glance_lite.db import models
from tests import backends

# Shared with the other backends' tests (tests/backends.py); kept here
# too for the database test modules that call db_base.required_backends.
required_backends = backends.required_backends


# Appended to the reason a backend's tests are skipped for.
HOW_TO_ENABLE_BACKENDS = (
    'To run them, create user openstack_citest with password '
    'openstack_citest and database openstack_citest on the local MariaDB '
    'and PostgreSQL servers, with the right to create databases ("bash '
    '.ci/run" does it; see README.rst, Testing against MariaDB and '
    'PostgreSQL).')


class EmptySQLiteFixture(test_fixtures.OpportunisticDbFixture):
    """A fresh database with no tables, for migration tests."""

    DRIVER = 'sqlite'

    def get_enginefacade(self):
        return db_api.main_context_manager

    def _get_db_resource_not_available_reason(self):
        # oslo.db's own reason ("Backend 'mysql+pymysql' is unavailable")
        # does not tell a newcomer what to do about it.
        return '%s. %s' % (super()._get_db_resource_not_available_reason(),
                           HOW_TO_ENABLE_BACKENDS)


class EmptyMySQLFixture(EmptySQLiteFixture):
    DRIVER = 'mysql'


class EmptyPostgreSQLFixture(EmptySQLiteFixture):
    DRIVER = 'postgresql'


class _CreatesSchema(test_fixtures.GeneratesSchema):
    def generate_schema_create_all(self, engine):
        models.Base.metadata.create_all(engine)


class SQLiteFixture(_CreatesSchema, EmptySQLiteFixture):
    """A fresh database with glance-lite's tables."""


class MySQLFixture(_CreatesSchema, EmptyMySQLFixture):
    pass


class PostgreSQLFixture(_CreatesSchema, EmptyPostgreSQLFixture):
    pass


class DbTestCase(test_fixtures.OpportunisticDBTestMixin,
                 fixtures.TestWithFixtures, unittest.TestCase):
    FIXTURE = SQLiteFixture

    @property
    def SKIP_ON_UNAVAILABLE_DB(self):
        return self.FIXTURE.DRIVER not in required_backends()

    def setUp(self):
        super().setUp()
        self.context = context.RequestContext()

    @property
    def engine(self):
        return self._db_default.engine

    @property
    def db_url(self):
        """URL of this test's database, for other processes to connect."""
        return self.engine.url.render_as_string(hide_password=False)

    def create_image(self, **values):
        return db_api.image_create(self.context, values)

    def create_deleted_image(self):
        image = self.create_image()
        db_api.image_destroy(self.context, image['id'])
        return image
