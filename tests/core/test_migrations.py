"""Migrations are the only way the schema is made: they must match the models exactly."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import voucher.models  # noqa: F401
from voucher.db import Base
from voucher.migrations import current_revision, head_revision


def test_migrated_schema_matches_the_models(app):
    engine = app.extensions["voucher.engine"]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models and migrations differ: {differences}"


def test_database_is_at_the_newest_revision(app):
    assert current_revision(app.extensions["voucher.engine"]) == head_revision()


def test_single_row_tables_are_seeded(app, db):
    assert db.execute(sa.text("SELECT last_number FROM invoice_number_sequence")).scalar() == 0
    assert db.execute(sa.text("SELECT count(*) FROM voucher_policy")).scalar() == 1
