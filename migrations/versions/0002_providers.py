"""Providers: the review queue's order (providers.review_requested_at) and the expiry watch's
notices (provider_expiry_notices, one per item, expiry date and kind).

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('provider_expiry_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=40), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('reminder', 'expired', name='kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('sent_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_provider_expiry_notices_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_expiry_notices')),
    sa.UniqueConstraint('provider_id', 'item', 'valid_until', 'kind', name=op.f('uq_provider_expiry_notices_provider_id_item_valid_until_kind'))
    )
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_requested_at', voucher.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_providers_review_requested_at'), ['review_requested_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_providers_review_requested_at'))
        batch_op.drop_column('review_requested_at')

    op.drop_table('provider_expiry_notices')
