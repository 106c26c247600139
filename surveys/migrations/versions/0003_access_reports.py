"""access reports: "could not get an appointment" reports from referrers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:54:13.032463
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import surveys.models.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'accessreport',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('facility_id', sa.Integer(), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('reporter_user_id', sa.Integer(), nullable=False),
        sa.Column('reported_on', sa.Date(), nullable=False),
        sa.Column('created_at', surveys.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', surveys.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            'resolved_by_label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.ForeignKeyConstraint(['facility_id'], ['facility.id']),
        sa.ForeignKeyConstraint(['reporter_user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        # One report per staff user, facility and Japanese calendar day.
        sa.UniqueConstraint(
            'facility_id', 'reporter_user_id', 'reported_on', name='uq_accessreport_one_a_day'
        ),
    )
    with op.batch_alter_table('accessreport', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_accessreport_facility_id'), ['facility_id'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_accessreport_reporter_user_id'), ['reporter_user_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('accessreport', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accessreport_reporter_user_id'))
        batch_op.drop_index(batch_op.f('ix_accessreport_facility_id'))
    op.drop_table('accessreport')
