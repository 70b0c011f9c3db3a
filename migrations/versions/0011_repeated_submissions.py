"""A service event's form key (a form sent twice records once) and the recorded CSV files.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:10:00
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('csv_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('imported_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['imported_by_user_id'], ['users.id'], name=op.f('fk_csv_imports_imported_by_user_id_users')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_csv_imports_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csv_imports'))
    )
    with op.batch_alter_table('csv_imports', schema=None) as batch_op:
        batch_op.create_index('ix_csv_imports_provider_sha256', ['provider_id', 'sha256'], unique=False)
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_redemptions_provider_id_submission_key'), ['provider_id', 'submission_key'])


def downgrade() -> None:
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_redemptions_provider_id_submission_key'), type_='unique')
        batch_op.drop_column('submission_key')
    with op.batch_alter_table('csv_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_csv_imports_provider_sha256')
    op.drop_table('csv_imports')
