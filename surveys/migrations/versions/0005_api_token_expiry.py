"""api token expiry and last use, key fingerprints

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 15:40:00
"""

from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa
import sqlmodel
import surveys.models.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('keymark',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('recorded_at', surveys.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    # Tokens made before expiry existed keep working for one year from the upgrade.
    expires = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    with op.batch_alter_table('apitoken', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', surveys.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', surveys.models.types.UTCDateTime(timezone=True), nullable=True))
    table = sa.table('apitoken', sa.column('expires_at', surveys.models.types.UTCDateTime(timezone=True)))
    op.execute(table.update().values(expires_at=datetime.fromisoformat(expires)))
    with op.batch_alter_table('apitoken', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=surveys.models.types.UTCDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('apitoken', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
    op.drop_table('keymark')
