"""Changing a decision: voucher_changes (a proposed change and, approved, the change decision),
voucher_values (the unit value a decision set from a day on), vouchers.value_from,
redemptions.replaces_id and .voucher_change_id (the corrections a retroactive change makes),
decision_deliveries.voucher_change_id (a change decision's delivery: one per voucher's own
decision and one per change), review_requests.decision_number_reviewed.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 14:00:00.000000

Expand only: new tables and nullable columns; the previous release runs on this schema (it
never writes a change, and its one delivery per voucher is still unique by the partial
index). The requests for review already filed name the decision their voucher had.
"""

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('voucher_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'approved', 'rejected', 'withdrawn', name='status', native_enum=False, create_constraint=True, length=17), nullable=False),
    sa.Column('decision_number', sa.String(length=32), nullable=True),
    sa.Column('changes_decision_number', sa.String(length=32), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('review_request_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('commitment', sa.JSON(), nullable=False),
    sa.Column('corrections', sa.JSON(), nullable=False),
    sa.Column('proposed_by_user_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_user_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("(status = 'approved') = (decision_number IS NOT NULL)", name=op.f('ck_voucher_changes_approved_numbered')),
    sa.CheckConstraint("(status = 'proposed') = (decided_at IS NULL)", name=op.f('ck_voucher_changes_decided_whole')),
    sa.CheckConstraint("status NOT IN ('approved', 'rejected') OR decided_by_user_id <> proposed_by_user_id", name=op.f('ck_voucher_changes_four_eyes')),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'], name=op.f('fk_voucher_changes_decided_by_user_id_users')),
    sa.ForeignKeyConstraint(['proposed_by_user_id'], ['users.id'], name=op.f('fk_voucher_changes_proposed_by_user_id_users')),
    sa.ForeignKeyConstraint(['review_request_id'], ['review_requests.id'], name=op.f('fk_voucher_changes_review_request_id_review_requests')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_changes_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_changes')),
    sa.UniqueConstraint('decision_number', name=op.f('uq_voucher_changes_decision_number'))
    )
    with op.batch_alter_table('voucher_changes', schema=None) as batch_op:
        batch_op.create_index('ix_voucher_changes_voucher_status', ['voucher_id', 'status'], unique=False)
        batch_op.create_index('uq_voucher_changes_one_proposed', ['voucher_id'], unique=True, sqlite_where=sa.text("status = 'proposed'"), postgresql_where=sa.text("status = 'proposed'"))

    op.create_table('voucher_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('unit_value_cents', sa.BigInteger(), nullable=False),
    sa.Column('decision_number', sa.String(length=32), nullable=True),
    sa.Column('created_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('unit_value_cents >= 0', name=op.f('ck_voucher_values_value_not_negative')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_values_voucher_id_vouchers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_values'))
    )
    with op.batch_alter_table('voucher_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_values_voucher_id'), ['voucher_id'], unique=False)

    op.add_column('vouchers', sa.Column('value_from', sa.Date(), nullable=True))
    op.add_column('review_requests', sa.Column('decision_number_reviewed', sa.String(length=32), nullable=True))
    op.execute("UPDATE review_requests SET decision_number_reviewed = (SELECT decision_number "
               "FROM vouchers WHERE vouchers.id = review_requests.voucher_id)")

    # Plain ALTERs on redemptions: a batch copy of the table would drop it, which SQLite's
    # foreign keys (invoice lines, payments) refuse; SQLite takes the references inline.
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # A downgrade on SQLite leaves these two columns (see there): added once.
        have = {row[1] for row in bind.execute(sa.text("PRAGMA table_info(redemptions)"))}
        if "replaces_id" not in have:
            op.execute("ALTER TABLE redemptions ADD COLUMN replaces_id INTEGER CONSTRAINT "
                       "fk_redemptions_replaces_id_redemptions REFERENCES redemptions (id)")
            op.execute("ALTER TABLE redemptions ADD COLUMN voucher_change_id INTEGER "
                       "CONSTRAINT fk_redemptions_voucher_change_id_voucher_changes "
                       "REFERENCES voucher_changes (id)")
    else:
        op.add_column('redemptions', sa.Column('replaces_id', sa.Integer(), nullable=True))
        op.add_column('redemptions', sa.Column('voucher_change_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_redemptions_replaces_id_redemptions'), 'redemptions', 'redemptions', ['replaces_id'], ['id'])
        op.create_foreign_key(op.f('fk_redemptions_voucher_change_id_voucher_changes'), 'redemptions', 'voucher_changes', ['voucher_change_id'], ['id'])
    op.create_index(op.f('ix_redemptions_voucher_change_id'), 'redemptions', ['voucher_change_id'], unique=False)
    op.create_index('uq_redemptions_replaces_id', 'redemptions', ['replaces_id'], unique=True)

    with op.batch_alter_table('decision_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voucher_change_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint('uq_decision_deliveries_voucher_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_decision_deliveries_voucher_change_id'), ['voucher_change_id'])
        batch_op.create_foreign_key(batch_op.f('fk_decision_deliveries_voucher_change_id_voucher_changes'), 'voucher_changes', ['voucher_change_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('uq_decision_deliveries_voucher_decision', ['voucher_id'], unique=True, sqlite_where=sa.text('voucher_change_id IS NULL'), postgresql_where=sa.text('voucher_change_id IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('decision_deliveries', schema=None) as batch_op:
        batch_op.drop_index('uq_decision_deliveries_voucher_decision', sqlite_where=sa.text('voucher_change_id IS NULL'), postgresql_where=sa.text('voucher_change_id IS NULL'))
        batch_op.drop_constraint(batch_op.f('fk_decision_deliveries_voucher_change_id_voucher_changes'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_decision_deliveries_voucher_change_id'), type_='unique')
        batch_op.create_unique_constraint('uq_decision_deliveries_voucher_id', ['voucher_id'])
        batch_op.drop_column('voucher_change_id')
    op.drop_index('uq_redemptions_replaces_id', table_name='redemptions')
    op.drop_index(op.f('ix_redemptions_voucher_change_id'), table_name='redemptions')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops neither a column with a reference nor (its foreign keys refuse) the
        # table for a copy without them: the two columns stay, empty, and the upgrade keeps
        # them. They are nulled so that nothing refers to voucher_changes.
        op.execute("UPDATE redemptions SET replaces_id = NULL, voucher_change_id = NULL")
    else:
        op.drop_constraint(op.f('fk_redemptions_voucher_change_id_voucher_changes'), 'redemptions', type_='foreignkey')
        op.drop_constraint(op.f('fk_redemptions_replaces_id_redemptions'), 'redemptions', type_='foreignkey')
        op.drop_column('redemptions', 'voucher_change_id')
        op.drop_column('redemptions', 'replaces_id')
    op.drop_column('review_requests', 'decision_number_reviewed')
    op.drop_column('vouchers', 'value_from')
    with op.batch_alter_table('voucher_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_values_voucher_id'))
    op.drop_table('voucher_values')
    with op.batch_alter_table('voucher_changes', schema=None) as batch_op:
        batch_op.drop_index('uq_voucher_changes_one_proposed', sqlite_where=sa.text("status = 'proposed'"), postgresql_where=sa.text("status = 'proposed'"))
        batch_op.drop_index('ix_voucher_changes_voucher_status')
    op.drop_table('voucher_changes')
