"""Stripe calls as jobs made after the commit, pending refunds, operator alerts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 20:12:57.770051
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('operator_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('raised_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_user_id', sa.Integer(), nullable=True),
    sa.Column('resolution_note', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['resolved_by_user_id'], ['users.id'], name=op.f('fk_operator_alerts_resolved_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator_alerts')),
    sa.UniqueConstraint('key', name=op.f('uq_operator_alerts_key'))
    )
    with op.batch_alter_table('operator_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operator_alerts_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_operator_alerts_raised_at'), ['raised_at'], unique=False)

    op.create_table('stripe_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('create_intent', 'confirm_intent', 'cancel_intent', 'refund', name='kind', native_enum=False, create_constraint=True, length=22), nullable=False),
    sa.Column('status', sa.Enum('queued', 'done', 'failed', name='status', native_enum=False, create_constraint=True, length=14), nullable=False),
    sa.Column('online_payment_id', sa.Integer(), nullable=False),
    sa.Column('online_refund_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_stripe_jobs_attempts_not_negative')),
    sa.ForeignKeyConstraint(['online_payment_id'], ['online_payments.id'], name=op.f('fk_stripe_jobs_online_payment_id_online_payments')),
    sa.ForeignKeyConstraint(['online_refund_id'], ['online_refunds.id'], name=op.f('fk_stripe_jobs_online_refund_id_online_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_jobs')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_stripe_jobs_idempotency_key'))
    )
    with op.batch_alter_table('stripe_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_stripe_jobs_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_stripe_jobs_online_payment_id'), ['online_payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stripe_jobs_online_refund_id'), ['online_refund_id'], unique=False)

    with op.batch_alter_table('online_payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failure_code', sa.String(length=20), nullable=True))

    # Refunds made before this revision were made at Stripe in the same request: succeeded.
    with op.batch_alter_table('online_refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('pending', 'succeeded', name='status', native_enum=False, create_constraint=True, length=17), nullable=False, server_default='succeeded'))
        batch_op.add_column(sa.Column('succeeded_at', voucher.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE online_refunds SET succeeded_at = created_at")
    with op.batch_alter_table('online_refunds', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)



def downgrade() -> None:
    with op.batch_alter_table('online_refunds', schema=None) as batch_op:
        batch_op.drop_column('succeeded_at')
        batch_op.drop_column('status')

    with op.batch_alter_table('online_payments', schema=None) as batch_op:
        batch_op.drop_column('failure_code')

    with op.batch_alter_table('stripe_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stripe_jobs_online_refund_id'))
        batch_op.drop_index(batch_op.f('ix_stripe_jobs_online_payment_id'))
        batch_op.drop_index('ix_stripe_jobs_due')

    op.drop_table('stripe_jobs')
    with op.batch_alter_table('operator_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operator_alerts_raised_at'))
        batch_op.drop_index(batch_op.f('ix_operator_alerts_kind'))

    op.drop_table('operator_alerts')
