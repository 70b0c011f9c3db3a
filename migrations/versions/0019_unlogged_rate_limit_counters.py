"""Rate-limit counters in an UNLOGGED table on PostgreSQL.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 03:00:00.000000

A transaction that writes only unlogged tables commits without waiting for the WAL to reach
the disk, so a counter's upsert can run on its own in autocommit mode: one round trip, where
BEGIN, SET LOCAL synchronous_commit TO OFF, the upsert and COMMIT were four. A crash of the
database empties the table (every window starts again), and standbys do not have it: nothing
but the rate limit reads it. The previous release runs on this schema unchanged. SQLite has
no such tables: nothing to do there.
"""

from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rate_limit_counters SET UNLOGGED")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rate_limit_counters SET LOGGED")
