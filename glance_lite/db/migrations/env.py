"""alembic environment: migrate on the connection glance-lite passes in."""

from alembic import context

connection = context.config.attributes.get('connection')
if connection is None:
    raise RuntimeError(
        'glance-lite migrations run through "glance-lite-manage db sync", '
        'which supplies the database connection.')

context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
