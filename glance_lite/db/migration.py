"""Running the alembic migrations that own the schema.

The migrations run on a connection we hand to alembic, so the engine,
its URL and its oslo.db settings come from one place: the enginefacade
of ``glance_lite.db.api``.
"""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
import sqlalchemy as sa

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


def sqlite_file(connection):
    """The file an SQLite ``connection`` URL names, or None.

    None for any other database and for an in-memory SQLite one. SQLite
    creates a missing file on first connection, so whoever must not
    create a database (``db version``) looks here first.
    """
    url = sa.engine.make_url(connection)
    if url.get_backend_name() != 'sqlite' or url.database in (
            None, '', ':memory:'):
        return None
    return os.path.abspath(url.database)


def prepare_sqlite_directory(connection):
    """Create the directory of an SQLite database file, if it is one.

    SQLite creates the file itself but not a missing directory, such as
    the ``state_path`` of a fresh installation.
    """
    path = sqlite_file(connection)
    if path is not None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
