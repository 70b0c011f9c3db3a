"""Payments: online payments of self-shares, their events, refunds and webhook events.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:11:41.864768
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stripe_webhook_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('received_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_webhook_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_stripe_webhook_events_event_id'))
    )
    op.create_table('online_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('refunded_cents', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'succeeded', 'failed', name='status', native_enum=False, create_constraint=True, length=17), nullable=False),
    sa.Column('stripe_payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('failure_message', sa.String(length=500), nullable=True),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('succeeded_at', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_online_payments_amount_positive')),
    sa.CheckConstraint('refunded_cents >= 0 AND refunded_cents <= amount_cents', name=op.f('ck_online_payments_refunds_within_amount')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_online_payments_client_id_clients')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_online_payments_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_online_payments_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_online_payments')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_online_payments_idempotency_key')),
    sa.UniqueConstraint('stripe_payment_intent_id', name=op.f('uq_online_payments_stripe_payment_intent_id'))
    )
    with op.batch_alter_table('online_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_online_payments_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_online_payments_provider_id'), ['provider_id'], unique=False)

    op.create_table('online_payment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('online_payment_id', sa.Integer(), nullable=False),
    sa.Column('redemption_id', sa.Integer(), nullable=False),
    sa.Column('live_redemption_id', sa.Integer(), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('payout_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_online_payment_events_amount_positive')),
    sa.CheckConstraint('live_redemption_id IS NULL OR live_redemption_id = redemption_id', name=op.f('ck_online_payment_events_live_is_the_event')),
    sa.ForeignKeyConstraint(['live_redemption_id'], ['redemptions.id'], name=op.f('fk_online_payment_events_live_redemption_id_redemptions')),
    sa.ForeignKeyConstraint(['online_payment_id'], ['online_payments.id'], name=op.f('fk_online_payment_events_online_payment_id_online_payments')),
    sa.ForeignKeyConstraint(['payout_id'], ['payments.id'], name=op.f('fk_online_payment_events_payout_id_payments')),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_online_payment_events_redemption_id_redemptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_online_payment_events')),
    sa.UniqueConstraint('live_redemption_id', name=op.f('uq_online_payment_events_live_redemption_id')),
    sa.UniqueConstraint('online_payment_id', 'redemption_id', name=op.f('uq_online_payment_events_online_payment_id_redemption_id'))
    )
    with op.batch_alter_table('online_payment_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_online_payment_events_payout_id'), ['payout_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_online_payment_events_redemption_id'), ['redemption_id'], unique=False)

    op.create_table('online_refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('online_payment_id', sa.Integer(), nullable=False),
    sa.Column('redemption_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('stripe_refund_id', sa.String(length=255), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('payout_id', sa.Integer(), nullable=True),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_online_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['online_payment_id'], ['online_payments.id'], name=op.f('fk_online_refunds_online_payment_id_online_payments')),
    sa.ForeignKeyConstraint(['payout_id'], ['payments.id'], name=op.f('fk_online_refunds_payout_id_payments')),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_online_refunds_redemption_id_redemptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_online_refunds')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_online_refunds_idempotency_key')),
    sa.UniqueConstraint('redemption_id', name=op.f('uq_online_refunds_redemption_id')),
    sa.UniqueConstraint('stripe_refund_id', name=op.f('uq_online_refunds_stripe_refund_id'))
    )
    with op.batch_alter_table('online_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_online_refunds_online_payment_id'), ['online_payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_online_refunds_payout_id'), ['payout_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('online_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_online_refunds_payout_id'))
        batch_op.drop_index(batch_op.f('ix_online_refunds_online_payment_id'))

    op.drop_table('online_refunds')
    with op.batch_alter_table('online_payment_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_online_payment_events_redemption_id'))
        batch_op.drop_index(batch_op.f('ix_online_payment_events_payout_id'))

    op.drop_table('online_payment_events')
    with op.batch_alter_table('online_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_online_payments_provider_id'))
        batch_op.drop_index(batch_op.f('ix_online_payments_client_id'))

    op.drop_table('online_payments')
    op.drop_table('stripe_webhook_events')
