"""Record what the inspection of staged data found.

Staged data is inspected as it is written (glance_lite.imports.
inspection); a glance-direct import may adopt that very file without
reading it again, so the format found and the virtual size are kept on
the staging location row and reach the image when it is activated.
Data that failed the inspection is never staged, so a row whose
``inspected_format`` is set passed it; NULL means not inspected.

Revision ID: 0005_staged_data_inspection
Revises: 0004_import_lock_owners
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa

revision = '0005_staged_data_inspection'
down_revision = '0004_import_lock_owners'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('image_locations') as batch:
        batch.add_column(sa.Column('inspected_format', sa.String(20)))
        batch.add_column(sa.Column('virtual_size', sa.BigInteger))
