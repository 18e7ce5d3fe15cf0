"""Running the alembic migrations that own the schema.

The migrations run on a connection we hand to alembic, so the engine,
its URL and its oslo.db settings come from one place: the enginefacade
of ``glance_lite.db.api``.
"""

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration

from glance_lite.db import api as db_api


def _alembic_config(connection):
    config = alembic_config.Config()
    config.set_main_option('script_location', 'glance_lite.db:migrations')
    config.attributes['connection'] = connection
    return config


def upgrade(engine, revision='head'):
    """Migrate the database behind ``engine`` up to ``revision``."""
    with db_api.translate_errors('schema upgrade'):
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), revision)


def current_revision(engine):
    """The revision the database is at, or None for an empty database."""
    with db_api.translate_errors('reading the schema revision'):
        with engine.connect() as connection:
            context = alembic_migration.MigrationContext.configure(
                connection)
            return context.get_current_revision()
