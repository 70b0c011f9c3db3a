"""Settlement: the batch's execution date and held invoices; signed spend entries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 06:56:49.017063
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing batches (if any) get their creation date and an empty list; then NOT NULL.
    with op.batch_alter_table('payment_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('execution_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('held_invoices', sa.JSON(), nullable=True))
    op.execute("UPDATE payment_batches SET execution_on = CAST(created_at AS DATE), "
               "held_invoices = '[]'")
    with op.batch_alter_table('payment_batches', schema=None) as batch_op:
        batch_op.alter_column('execution_on', existing_type=sa.Date(), nullable=False)
        batch_op.alter_column('held_invoices', existing_type=sa.JSON(), nullable=False)

    # A batch whose corrections outweigh its events for a budget gives money back: a negative
    # spend entry. Every other entry stays positive.
    with op.batch_alter_table('budget_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_budget_entries_amount_positive'), type_='check')
        batch_op.create_check_constraint(
            'amount_sign', "amount_cents > 0 OR (kind = 'spend' AND amount_cents < 0)")


def downgrade() -> None:
    with op.batch_alter_table('budget_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_budget_entries_amount_sign'), type_='check')
        batch_op.create_check_constraint('amount_positive', 'amount_cents > 0')
    with op.batch_alter_table('payment_batches', schema=None) as batch_op:
        batch_op.drop_column('held_invoices')
        batch_op.drop_column('execution_on')
