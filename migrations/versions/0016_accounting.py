"""Accounting dimensions (accounting_dimensions: per municipality × service type, and the
authority's own accounts), supplier numbers (supplier_numbers), both dated; the payment
batches' posting files (posting_files).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:08:01.536521

Expand only: new tables. Batches made before this revision have no posting file (the
reconciliation checks every batch from the first one that has). Settlement refuses to run until
the administrator has entered the dimensions it needs (voucher/accounting/).
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounting_dimensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('service_type_id', sa.Integer(), nullable=True),
    sa.Column('authority_account', sa.Enum('bank', 'self_shares', name='authority_account', native_enum=False, create_constraint=True, length=19), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('account', sa.String(length=20), nullable=False),
    sa.Column('cost_centre', sa.String(length=20), nullable=True),
    sa.Column('project', sa.String(length=20), nullable=True),
    sa.Column('internal_order', sa.String(length=20), nullable=True),
    sa.Column('vat_code', sa.String(length=20), nullable=True),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(municipality_id IS NOT NULL AND service_type_id IS NOT NULL AND authority_account IS NULL) OR (municipality_id IS NULL AND service_type_id IS NULL AND authority_account IS NOT NULL)', name=op.f('ck_accounting_dimensions_one_key')),
    sa.CheckConstraint('municipality_id IS NULL OR cost_centre IS NOT NULL', name=op.f('ck_accounting_dimensions_cost_centre_for_services')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_accounting_dimensions_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_accounting_dimensions_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['service_type_id'], ['service_types.id'], name=op.f('fk_accounting_dimensions_service_type_id_service_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_dimensions')),
    sa.UniqueConstraint('authority_account', 'valid_from', name=op.f('uq_accounting_dimensions_authority_account_valid_from')),
    sa.UniqueConstraint('municipality_id', 'service_type_id', 'valid_from', name=op.f('uq_accounting_dimensions_municipality_id_service_type_id_valid_from'))
    )
    op.create_table('supplier_numbers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('supplier_number', sa.String(length=20), nullable=False),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_supplier_numbers_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_supplier_numbers_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_numbers')),
    sa.UniqueConstraint('provider_id', 'valid_from', name=op.f('uq_supplier_numbers_provider_id_valid_from'))
    )
    with op.batch_alter_table('supplier_numbers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplier_numbers_provider_id'), ['provider_id'], unique=False)

    op.create_table('posting_files',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('csv_content', sa.LargeBinary(), nullable=False),
    sa.Column('json_content', sa.LargeBinary(), nullable=False),
    sa.Column('csv_sha256', sa.String(length=64), nullable=False),
    sa.Column('json_sha256', sa.String(length=64), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('total_cents', sa.BigInteger(), nullable=False),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['payment_batches.id'], name=op.f('fk_posting_files_batch_id_payment_batches')),
    sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_posting_files'))
    )


def downgrade() -> None:
    op.drop_table('posting_files')
    with op.batch_alter_table('supplier_numbers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_numbers_provider_id'))

    op.drop_table('supplier_numbers')
    op.drop_table('accounting_dimensions')
