"""facility categories: psychiatric, obstetric, municipal contact points; wider kind

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every facility so far came from the psychiatric selection of the master import.
    op.add_column('facility', sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False, server_default='psychiatric'))
    op.create_index(op.f('ix_facility_category'), 'facility', ['category'], unique=False)
    with op.batch_alter_table('facility') as batch:
        batch.alter_column('kind', existing_type=sqlmodel.sql.sqltypes.AutoString(length=10), type_=sqlmodel.sql.sqltypes.AutoString(length=20), existing_nullable=False)


def downgrade() -> None:
    # Obstetric units and contact points carry answers, invitations and audit rows that an older
    # schema cannot hold: refuse rather than delete them or leave orphans.
    others = op.get_bind().execute(
        sa.text("SELECT COUNT(*) FROM facility WHERE category <> 'psychiatric'")
    ).scalar()
    if others:
        raise RuntimeError(
            f"{others} obstetric units or contact points exist; back up and remove them before "
            "downgrading below 0009 (older versions know psychiatric facilities only)."
        )
    op.drop_index(op.f('ix_facility_category'), table_name='facility')
    with op.batch_alter_table('facility') as batch:
        batch.alter_column('kind', existing_type=sqlmodel.sql.sqltypes.AutoString(length=20), type_=sqlmodel.sql.sqltypes.AutoString(length=10), existing_nullable=False)
        batch.drop_column('category')
