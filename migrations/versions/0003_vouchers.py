"""Vouchers: one accepted and one proposed assignment per voucher (the current provider serves
until a new one accepts), and an index for the case managers' lists by municipality.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 06:54:51.654032
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('voucher_assignments', schema=None) as batch_op:
        batch_op.drop_index('uq_voucher_assignments_open', sqlite_where=sa.text("status IN ('proposed', 'accepted')"), postgresql_where=sa.text("status IN ('proposed', 'accepted')"))
        batch_op.create_index('uq_voucher_assignments_accepted', ['voucher_id'], unique=True, sqlite_where=sa.text("status = 'accepted'"), postgresql_where=sa.text("status = 'accepted'"))
        batch_op.create_index('uq_voucher_assignments_proposed', ['voucher_id'], unique=True, sqlite_where=sa.text("status = 'proposed'"), postgresql_where=sa.text("status = 'proposed'"))

    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index('ix_vouchers_municipality_status', ['municipality_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index('ix_vouchers_municipality_status')

    with op.batch_alter_table('voucher_assignments', schema=None) as batch_op:
        batch_op.drop_index('uq_voucher_assignments_proposed', sqlite_where=sa.text("status = 'proposed'"), postgresql_where=sa.text("status = 'proposed'"))
        batch_op.drop_index('uq_voucher_assignments_accepted', sqlite_where=sa.text("status = 'accepted'"), postgresql_where=sa.text("status = 'accepted'"))
        batch_op.create_index('uq_voucher_assignments_open', ['voucher_id'], unique=True, sqlite_where=sa.text("status IN ('proposed', 'accepted')"), postgresql_where=sa.text("status IN ('proposed', 'accepted')"))
