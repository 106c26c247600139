"""mail outbox, campaign scope, account security, audit chain, rate limits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 17:27:27.570821
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import surveys.models.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ratelimitcounter',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('window_start', sa.Integer(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start')
    )
    op.create_table('mailmessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('to_address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', surveys.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', surveys.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], ),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'facility_id', 'kind', 'round', name='uq_mail_once')
    )
    with op.batch_alter_table('mailmessage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailmessage_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailmessage_facility_id'), ['facility_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailmessage_status'), ['status'], unique=False)

    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('row_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
    _chain_audit_events()

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('closed_at', surveys.models.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False, server_default=''))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('municipality_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('totp_secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_login_at', surveys.models.types.UTCDateTime(timezone=True), nullable=True))



def _chain_audit_events() -> None:
    """Chain the existing audit rows in id order; on PostgreSQL refuse UPDATE/DELETE/TRUNCATE."""
    from surveys.audit import chain_existing

    bind = op.get_bind()
    chain_existing(bind)
    if bind.dialect.name == "postgresql":
        op.execute(AUDIT_APPEND_ONLY)
        for when in ("UPDATE OR DELETE ON auditevent FOR EACH ROW", "TRUNCATE ON auditevent"):
            op.execute(
                f"CREATE TRIGGER auditevent_append_only_{when.split()[0].lower()} BEFORE {when} "
                "EXECUTE FUNCTION auditevent_append_only()"
            )


# Audit rows are only ever added. Restoring a backup sets pmh.audit_maintenance for its
# transaction; anyone else who changes rows must also defeat the hash chain to go unnoticed.
AUDIT_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('pmh.audit_maintenance', true), '') = 'on' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'auditevent is append-only';
END
$$ LANGUAGE plpgsql
"""


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
        batch_op.drop_column('session_epoch')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('municipality_code')

    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.drop_column('email')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
        batch_op.drop_column('scope')

    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS auditevent_append_only_update ON auditevent")
        op.execute("DROP TRIGGER IF EXISTS auditevent_append_only_truncate ON auditevent")
        op.execute("DROP FUNCTION IF EXISTS auditevent_append_only()")
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')

    with op.batch_alter_table('mailmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailmessage_status'))
        batch_op.drop_index(batch_op.f('ix_mailmessage_facility_id'))
        batch_op.drop_index(batch_op.f('ix_mailmessage_campaign_id'))

    op.drop_table('mailmessage')
    op.drop_table('ratelimitcounter')
