"""Server-side login sessions, attempt kinds, and the address that asked for a link.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:34:51.733476

user_sessions: every login session (and every login waiting for its second step) has a row,
so that logout, a password or two-factor change and an administrator's lock end it on every
server. Sessions that exist before this upgrade have no row: their users log in again.
login_attempts.kind tells a wrong password from a wrong second-step code; user_tokens'
requested_ip counts the reset and invitation e-mails per address.
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('awaiting_code', sa.Boolean(), nullable=False),
    sa.Column('failed_codes', sa.Integer(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.CheckConstraint('failed_codes >= 0', name=op.f('ck_user_sessions_failed_codes_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('password', 'code', name='kind', native_enum=False, create_constraint=True, length=16), server_default='password', nullable=False))
        batch_op.create_index('ix_login_attempts_email_ip_at', ['email', 'ip', 'at'], unique=False)

    with op.batch_alter_table('user_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_ip', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_tokens_requested_ip'), ['requested_ip'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('user_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_tokens_requested_ip'))
        batch_op.drop_column('requested_ip')

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_email_ip_at')
        batch_op.drop_column('kind')

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))

    op.drop_table('user_sessions')
