"""Strong identification (SAML 2.0): the requests sent to the identity provider and the ids of
the messages it answered with (replay check), in the database so that every server shares them;
and mandates: who may act for which client.

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


    op.create_table('mandates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('representative_code_index', sa.String(length=64), nullable=False),
    sa.Column('representative_code_encrypted', sa.Text(), nullable=False),
    sa.Column('representative_code_masked', sa.String(length=11), nullable=False),
    sa.Column('representative_name', sa.String(length=200), nullable=False),
    sa.Column('basis', sa.Enum('guardian', 'consent', name='basis', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('may_choose_provider', sa.Boolean(), nullable=False),
    sa.Column('may_pay', sa.Boolean(), nullable=False),
    sa.Column('may_give_feedback', sa.Boolean(), nullable=False),
    sa.Column('representative_email', sa.String(length=254), nullable=True),
    sa.Column('notices_to_representative', sa.Boolean(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('NOT notices_to_representative OR representative_email IS NOT NULL', name=op.f('ck_mandates_notices_need_an_address')),
    sa.CheckConstraint('valid_until >= valid_from', name=op.f('ck_mandates_valid_period')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_mandates_client_id_clients')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_mandates_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['revoked_by_user_id'], ['users.id'], name=op.f('fk_mandates_revoked_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mandates'))
    )
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.create_index('ix_mandates_representative', ['representative_code_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_mandates_client_id'), ['client_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mandates_client_id'))
        batch_op.drop_index('ix_mandates_representative')
    op.drop_table('mandates')
    with op.batch_alter_table('saml_seen_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_saml_seen_messages_expires_at')
    op.drop_table('saml_seen_messages')
    with op.batch_alter_table('saml_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_saml_requests_expires_at')
    op.drop_table('saml_requests')
