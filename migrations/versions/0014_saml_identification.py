"""Strong identification (SAML 2.0): the requests sent to the identity provider and the ids of
the messages it answered with (replay check), in the database so that every server shares them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:00:00.000000

Only new tables: the previous release runs unchanged on this schema.
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saml_requests',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('login', 'logout', name='kind', native_enum=False, create_constraint=True, length=14), nullable=False),
    sa.Column('next_path', sa.String(length=500), nullable=True),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saml_requests'))
    )
    with op.batch_alter_table('saml_requests', schema=None) as batch_op:
        batch_op.create_index('ix_saml_requests_expires_at', ['expires_at'], unique=False)

    op.create_table('saml_seen_messages',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('seen_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saml_seen_messages'))
    )
    with op.batch_alter_table('saml_seen_messages', schema=None) as batch_op:
        batch_op.create_index('ix_saml_seen_messages_expires_at', ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('saml_seen_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_saml_seen_messages_expires_at')
    op.drop_table('saml_seen_messages')
    with op.batch_alter_table('saml_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_saml_requests_expires_at')
    op.drop_table('saml_requests')
