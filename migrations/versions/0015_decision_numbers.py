"""Decision numbers: vouchers.decision_number (a unique index) and the yearly counter
decision_number_sequence; vouchers.refused_on, the day the client refused the voucher; and
voucher_reminders, the reminders sent (each once); decision_deliveries, how each decision
reaches its client and when it counts as received; review_requests, requests for review and
the decisions on them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 10:30:00.000000

Decisions already issued are numbered in the order they were issued, per year (Finnish time),
and the counters continue from there. Expand only: the previous release, still issuing while
this runs, does not number its decisions, so "an issued decision has a number" becomes a CHECK
in a later migration, after numbering those too. Plain ALTERs (no batch copy of the table, which
SQLite's foreign keys would refuse).
"""

from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
import voucher.db


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

HELSINKI = ZoneInfo("Europe/Helsinki")


def _year(issued_at) -> int:
    if isinstance(issued_at, str):  # SQLite keeps the text
        from datetime import datetime
        issued_at = datetime.fromisoformat(issued_at)
    if issued_at.tzinfo is None:
        from datetime import timezone
        issued_at = issued_at.replace(tzinfo=timezone.utc)
    return issued_at.astimezone(HELSINKI).year


def upgrade() -> None:
    op.create_table('review_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('online', 'paper', name='channel', native_enum=False, create_constraint=True, length=14), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('request_text', sa.Text(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('filed_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('filed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('upheld', 'changed', 'dismissed', name='outcome', native_enum=False, create_constraint=True, length=17), nullable=True),
    sa.Column('reasoning', sa.Text(), nullable=True),
    sa.Column('decision_number', sa.String(length=32), nullable=True),
    sa.Column('decided_at', voucher.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(outcome IS NULL) = (decided_at IS NULL)', name=op.f('ck_review_requests_decided_whole')),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'], name=op.f('fk_review_requests_decided_by_user_id_users')),
    sa.ForeignKeyConstraint(['filed_by_user_id'], ['users.id'], name=op.f('fk_review_requests_filed_by_user_id_users')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_review_requests_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_requests')),
    sa.UniqueConstraint('decision_number', name=op.f('uq_review_requests_decision_number'))
    )
    op.create_index('ix_review_requests_one_open', 'review_requests', ['voucher_id'], unique=True, sqlite_where=sa.text('decided_at IS NULL'), postgresql_where=sa.text('decided_at IS NULL'))
    op.create_table('decision_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.Enum('electronic', 'post', name='method', native_enum=False, create_constraint=True, length=18), nullable=False),
    sa.Column('queued_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('posted_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['posted_by_user_id'], ['users.id'], name=op.f('fk_decision_deliveries_posted_by_user_id_users')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_decision_deliveries_voucher_id_vouchers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_deliveries')),
    sa.UniqueConstraint('voucher_id', name=op.f('uq_decision_deliveries_voucher_id'))
    )
    op.create_table('voucher_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('about', sa.Date(), nullable=False),
    sa.Column('sent_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_reminders_voucher_id_vouchers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_reminders')),
    sa.UniqueConstraint('voucher_id', 'kind', 'about', name=op.f('uq_voucher_reminders_voucher_id_kind_about'))
    )
    op.create_table('decision_number_sequence',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_decision_number_sequence'))
    )
    op.add_column('vouchers', sa.Column('decision_number', sa.String(length=32), nullable=True))
    op.add_column('vouchers', sa.Column('refused_on', sa.Date(), nullable=True))
    bind = op.get_bind()
    counters: dict[int, int] = {}
    issued = bind.execute(sa.text(
        "SELECT id, issued_at FROM vouchers WHERE issued_at IS NOT NULL "
        "ORDER BY issued_at, id")).all()
    for voucher_id, issued_at in issued:
        year = _year(issued_at)
        counters[year] = counters.get(year, 0) + 1
        bind.execute(sa.text("UPDATE vouchers SET decision_number = :number WHERE id = :id"),
                     {"number": f"PS-{year}-{counters[year]:06d}", "id": voucher_id})
    for year, last in counters.items():
        bind.execute(sa.text("INSERT INTO decision_number_sequence (year, last_number) "
                             "VALUES (:year, :last)"), {"year": year, "last": last})
    op.create_index(op.f('ix_vouchers_decision_number'), 'vouchers', ['decision_number'],
                    unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_vouchers_decision_number'), table_name='vouchers')
    op.drop_column('vouchers', 'refused_on')
    op.drop_column('vouchers', 'decision_number')
    op.drop_table('decision_number_sequence')
    op.drop_table('voucher_reminders')
    op.drop_table('decision_deliveries')
    op.drop_index('ix_review_requests_one_open', table_name='review_requests', sqlite_where=sa.text('decided_at IS NULL'), postgresql_where=sa.text('decided_at IS NULL'))
    op.drop_table('review_requests')
