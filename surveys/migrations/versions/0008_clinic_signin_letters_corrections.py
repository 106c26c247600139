"""clinic sign-in links, facility corrections, letter invitations, station and romaji name

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 16:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import surveys.models.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signinlink',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', surveys.models.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', surveys.models.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', surveys.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_signinlink_facility_id'), 'signinlink', ['facility_id'], unique=False)
    op.create_table('facilitycorrection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('old_value', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('new_value', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('proposed_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', surveys.models.types.UTCDateTime(), nullable=False),
    sa.Column('decided_at', surveys.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_facilitycorrection_facility_id'), 'facilitycorrection', ['facility_id'], unique=False)
    op.create_index(op.f('ix_facilitycorrection_status'), 'facilitycorrection', ['status'], unique=False)
    op.add_column('facility', sa.Column('station', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
    op.add_column('facility', sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
    op.add_column('invitation', sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default='link'))
    # Invitations that went out by campaign mail were e-mailed.
    op.execute(
        "UPDATE invitation SET channel = 'email' WHERE id IN "
        "(SELECT invitation_id FROM mailmessage WHERE invitation_id IS NOT NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table('invitation') as batch:
        batch.drop_column('channel')
    with op.batch_alter_table('facility') as batch:
        batch.drop_column('name_en')
        batch.drop_column('station')
    op.drop_index(op.f('ix_facilitycorrection_status'), table_name='facilitycorrection')
    op.drop_index(op.f('ix_facilitycorrection_facility_id'), table_name='facilitycorrection')
    op.drop_table('facilitycorrection')
    op.drop_index(op.f('ix_signinlink_facility_id'), table_name='signinlink')
    op.drop_table('signinlink')
