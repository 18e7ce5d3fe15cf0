"""Record which request and user started a task.

An image's tasks (``GET /v2/images/{id}/tasks``, API v2.12) tell a user
which of their calls each import came from: the request id the import
call was answered with, and the user who made it.

Revision ID: 0007_task_request
Revises: 0006_metadefs
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa

revision = '0007_task_request'
down_revision = '0006_metadefs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('request_id', sa.String(64)))
        batch.add_column(sa.Column('user_id', sa.String(255)))
