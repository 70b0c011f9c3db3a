"""Service events: clients' feedback on them, and the audit chain head that lets PostgreSQL
append audit events in one statement.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 07:38:22.159986
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_chain_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    # The head starts at the newest existing event (or the genesis hash of an empty trail).
    op.execute(
        "INSERT INTO audit_chain_head (id, prev_hash, last_hash) SELECT 1, "
        "COALESCE((SELECT prev_hash FROM audit_events ORDER BY id DESC LIMIT 1), '" + "0" * 64
        + "'), COALESCE((SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), '" + "0" * 64
        + "')"
    )
    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('redemption_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score BETWEEN 0 AND 10', name=op.f('ck_feedback_score_0_to_10')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_feedback_client_id_clients')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_feedback_provider_id_providers')),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_feedback_redemption_id_redemptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
    sa.UniqueConstraint('redemption_id', name=op.f('uq_feedback_redemption_id'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_provider_id'), ['provider_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_provider_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_client_id'))

    op.drop_table('feedback')
    op.drop_table('audit_chain_head')
