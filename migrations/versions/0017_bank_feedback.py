"""The bank's word on payments: payments.bank_status (awaiting, accepted, rejected, returned)
with the bank's reason, payments.repays_payment_id (a rejected or returned payment paid again)
and the administrator's permission to pay one again to the same account; bank_feedback_files
(each imported pain.002 or camt.054 file, unique by SHA-256) and payment_bank_status_reports
(each status a file gave, and what it did); payment_batches.file_format (pain.001.001.09, or
.03 for batches made before).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 13:30:00.000000

Expand only, plain ALTERs (no batch copy of payments, which SQLite's foreign keys would
refuse). The payments made before wait for the bank's word (``awaiting``); the batches the
administrator already marked confirmed stay confirmed, and their payments count as accepted.
SQLite gets the new columns' CHECK and foreign keys inline in its ALTERs (it cannot add a
constraint afterwards).
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BANK_STATES = "('awaiting', 'accepted', 'rejected', 'returned')"


def upgrade() -> None:
    op.create_table('bank_feedback_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('message_type', sa.String(length=40), nullable=False),
    sa.Column('message_id', sa.String(length=35), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('imported_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_by_user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_bank_feedback_files_size_not_negative')),
    sa.ForeignKeyConstraint(['imported_by_user_id'], ['users.id'], name=op.f('fk_bank_feedback_files_imported_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_feedback_files')),
    sa.UniqueConstraint('sha256', name=op.f('uq_bank_feedback_files_sha256'))
    )
    op.create_table('payment_bank_status_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('end_to_end_id', sa.String(length=35), nullable=False),
    sa.Column('status', sa.Enum('awaiting', 'accepted', 'rejected', 'returned', name='status', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('bank_code', sa.String(length=10), nullable=False),
    sa.Column('reason_code', sa.String(length=35), nullable=True),
    sa.Column('reason_text', sa.String(length=500), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('effect', sa.String(length=20), nullable=False),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['bank_feedback_files.id'], name=op.f('fk_payment_bank_status_reports_file_id_bank_feedback_files')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_bank_status_reports_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_bank_status_reports'))
    )
    op.create_index(op.f('ix_payment_bank_status_reports_file_id'), 'payment_bank_status_reports', ['file_id'], unique=False)
    op.create_index(op.f('ix_payment_bank_status_reports_payment_id'), 'payment_bank_status_reports', ['payment_id'], unique=False)

    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column('payment_batches', sa.Column('file_format', sa.String(length=20), server_default='pain.001.001.03', nullable=False))
    op.add_column('payments', sa.Column('bank_status_at', voucher.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('payments', sa.Column('bank_reason_code', sa.String(length=35), nullable=True))
    op.add_column('payments', sa.Column('bank_reason_text', sa.String(length=500), nullable=True))
    op.add_column('payments', sa.Column('retry_approved_at', voucher.db.UTCDateTime(timezone=True), nullable=True))
    if postgresql:
        op.add_column('payments', sa.Column('bank_status', sa.String(length=16), server_default='awaiting', nullable=False))
        op.add_column('payments', sa.Column('repays_payment_id', sa.Integer(), nullable=True))
        op.add_column('payments', sa.Column('retry_approved_by_user_id', sa.Integer(), nullable=True))
        op.create_check_constraint(op.f('ck_payments_bank_status'), 'payments', f"bank_status IN {BANK_STATES}")
        op.create_foreign_key(op.f('fk_payments_repays_payment_id_payments'), 'payments', 'payments', ['repays_payment_id'], ['id'])
        op.create_foreign_key(op.f('fk_payments_retry_approved_by_user_id_users'), 'payments', 'users', ['retry_approved_by_user_id'], ['id'])
    else:
        # SQLite adds a column with its CHECK and REFERENCES in one ALTER (not a constraint
        # afterwards).
        op.execute("ALTER TABLE payments ADD COLUMN bank_status VARCHAR(16) DEFAULT 'awaiting' "
                   f"NOT NULL CONSTRAINT ck_payments_bank_status CHECK (bank_status IN {BANK_STATES})")
        op.execute("ALTER TABLE payments ADD COLUMN repays_payment_id INTEGER "
                   "CONSTRAINT fk_payments_repays_payment_id_payments REFERENCES payments (id)")
        op.execute("ALTER TABLE payments ADD COLUMN retry_approved_by_user_id INTEGER "
                   "CONSTRAINT fk_payments_retry_approved_by_user_id_users REFERENCES users (id)")
    op.create_index('uq_payments_repays_payment_id', 'payments', ['repays_payment_id'], unique=True)
    # Batches confirmed by a click before the bank's files were read: their payments count as
    # accepted (the administrator saw the bank's confirmation).
    op.execute("UPDATE payments SET bank_status = 'accepted' WHERE batch_id IN "
               "(SELECT id FROM payment_batches WHERE status = 'confirmed')")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_index('uq_payments_repays_payment_id', table_name='payments')
    if postgresql:
        op.drop_constraint(op.f('fk_payments_retry_approved_by_user_id_users'), 'payments', type_='foreignkey')
        op.drop_constraint(op.f('fk_payments_repays_payment_id_payments'), 'payments', type_='foreignkey')
        op.drop_constraint(op.f('ck_payments_bank_status'), 'payments', type_='check')
    for column in ('retry_approved_by_user_id', 'retry_approved_at', 'repays_payment_id',
                   'bank_reason_text', 'bank_reason_code', 'bank_status_at', 'bank_status'):
        op.drop_column('payments', column)
    op.drop_column('payment_batches', 'file_format')
    op.drop_index(op.f('ix_payment_bank_status_reports_payment_id'), table_name='payment_bank_status_reports')
    op.drop_index(op.f('ix_payment_bank_status_reports_file_id'), table_name='payment_bank_status_reports')
    op.drop_table('payment_bank_status_reports')
    op.drop_table('bank_feedback_files')
