"""Persist import flows for conductors, and fence their lock owners.

With a jobboard ([taskflow] jobboard_backend), an import's flow runs on
a conductor, possibly a different one after the first dies, and is
resumed from what TaskFlow recorded: a logbook per import, holding one
flow detail, holding an atom detail per step (its state and result).
The tables are TaskFlow's SQLAlchemy persistence schema, as its own
models define it (``taskflow.persistence.backends.sqlalchemy.tables``),
kept in the service database so that they share its backups and its
connection settings.

``import_locks.lease`` names the run that holds a lock. An import run
in the API process holds its locks under its task's id; a conductor
that claims a job takes the task's locks over under a lease of its own,
so a conductor that lost its claim (a partition, a long stall) and
wakes up finds every write it tries refused.

Revision ID: 0008_import_flow_persistence
Revises: 0007_task_request
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0008_import_flow_persistence'
down_revision = '0007_task_request'
branch_labels = None
depends_on = None

# TaskFlow stores JSON as JSON on PostgreSQL and as text elsewhere.
_JSON = sa.UnicodeText().with_variant(postgresql.JSON(), 'postgresql')
_ATOM_TYPES = ('RETRY_DETAIL', 'TASK_DETAIL')
_INTENTIONS = ('EXECUTE', 'IGNORE', 'REVERT', 'RETRY')


def _common_columns():
    return [sa.Column('created_at', sa.DateTime),
            sa.Column('updated_at', sa.DateTime),
            sa.Column('meta', _JSON),
            sa.Column('name', sa.String(255))]


def upgrade():
    op.create_table(
        'logbooks', *_common_columns(),
        sa.Column('uuid', sa.String(64), primary_key=True, nullable=False),
        sa.UniqueConstraint('uuid'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    op.create_table(
        'flowdetails', *_common_columns(),
        sa.Column('parent_uuid', sa.String(64),
                  sa.ForeignKey('logbooks.uuid', ondelete='CASCADE')),
        sa.Column('state', sa.String(255)),
        sa.Column('uuid', sa.String(64), primary_key=True, nullable=False),
        sa.UniqueConstraint('uuid'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    op.create_table(
        'atomdetails', *_common_columns(),
        sa.Column('parent_uuid', sa.String(64),
                  sa.ForeignKey('flowdetails.uuid', ondelete='CASCADE')),
        sa.Column('version', sa.String(64)),
        sa.Column('state', sa.String(255)),
        sa.Column('uuid', sa.String(64), primary_key=True, nullable=False),
        sa.UniqueConstraint('uuid'),
        sa.Column('failure', _JSON),
        sa.Column('results', _JSON),
        sa.Column('revert_results', _JSON),
        sa.Column('revert_failure', _JSON),
        sa.Column('atom_type', sa.Enum(*_ATOM_TYPES, name='atom_types')),
        sa.Column('intention', sa.Enum(*_INTENTIONS, name='intentions')),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    with op.batch_alter_table('import_locks') as batch:
        batch.add_column(sa.Column('lease', sa.String(64)))
    op.execute('UPDATE import_locks SET lease = task_id')
    with op.batch_alter_table('import_locks') as batch:
        batch.alter_column('lease', existing_type=sa.String(64),
                           nullable=False)
