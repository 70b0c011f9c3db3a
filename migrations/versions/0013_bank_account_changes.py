"""Changes of an approved provider's bank account wait for an administrator's approval
(provider_bank_account_changes).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:00:00.000000

The accounts already on the providers stay as they are and count as verified. At most one
change per provider waits for a decision (a partial unique index).
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('provider_bank_account_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('old_iban', sa.String(length=34), nullable=True),
    sa.Column('old_bic', sa.String(length=11), nullable=True),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', 'withdrawn', name='status', native_enum=False, create_constraint=True, length=17), nullable=False),
    sa.Column('requested_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('requested_by_user_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_user_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'], name=op.f('fk_provider_bank_account_changes_decided_by_user_id_users')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_provider_bank_account_changes_provider_id_providers')),
    sa.ForeignKeyConstraint(['requested_by_user_id'], ['users.id'], name=op.f('fk_provider_bank_account_changes_requested_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_bank_account_changes'))
    )
    with op.batch_alter_table('provider_bank_account_changes', schema=None) as batch_op:
        batch_op.create_index('ix_provider_bank_account_changes_one_pending', ['provider_id'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_provider_bank_account_changes_status', ['status', 'requested_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('provider_bank_account_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_provider_bank_account_changes_status')
        batch_op.drop_index('ix_provider_bank_account_changes_one_pending', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('provider_bank_account_changes')
