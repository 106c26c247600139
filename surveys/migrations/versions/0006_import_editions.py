"""import editions: the newest 医療情報ネット edition applied per facility kind

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 16:20:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import surveys.models.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'importedition',
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('edition', sa.Date(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('applied_at', surveys.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('kind'),
    )


def downgrade() -> None:
    op.drop_table('importedition')
