"""Record who holds each import lock, how far it got, and who wrote a copy.

An import lock names its owner task; recovery also needs the process
behind it (the host and pid a reaper or an operator names when the
owner is found dead) and how far its data had moved (``bytes_done`` of
``bytes_total``, refreshed with the heartbeat). A location records the
import task that wrote it, so undoing a dead task's work removes
exactly its own locations and never another's.

Revision ID: 0004_import_lock_owners
Revises: 0003_image_tags_and_members
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa

revision = '0004_import_lock_owners'
down_revision = '0003_image_tags_and_members'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_locks') as batch:
        batch.add_column(sa.Column('owner_host', sa.String(255)))
        batch.add_column(sa.Column('owner_pid', sa.Integer))
        batch.add_column(sa.Column('bytes_done', sa.BigInteger))
        batch.add_column(sa.Column('bytes_total', sa.BigInteger))
    op.add_column('image_locations', sa.Column('task_id', sa.String(36)))
