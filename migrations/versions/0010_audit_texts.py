"""Free texts of audit events kept beside them (removable at retention; the chain hashes a
salted digest). Events recorded before this revision keep their reasons in the hashed data.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:30:00
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('salt', sa.String(length=32), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('removed_at', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_audit_texts_client_id_clients')),
    sa.ForeignKeyConstraint(['event_id'], ['audit_events.id'], name=op.f('fk_audit_texts_event_id_audit_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_texts')),
    sa.UniqueConstraint('event_id', 'key', name=op.f('uq_audit_texts_event_id_key'))
    )
    with op.batch_alter_table('audit_texts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_texts_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_texts_event_id'), ['event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_texts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_texts_event_id'))
        batch_op.drop_index(batch_op.f('ix_audit_texts_client_id'))
    op.drop_table('audit_texts')
