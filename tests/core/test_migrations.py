"""Migrations are the only way the schema is made: they must match the models exactly."""

import datetime as dt

import pytest
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


@pytest.mark.postgres_only
def test_two_upgrades_at_once_migrate_once_and_both_succeed():
    """Every server runs ``db upgrade`` when it deploys: the second waits, then has nothing
    to do."""
    import threading
    import uuid

    from tests.conftest import _admin_execute, _server_url
    from voucher.db import make_engine
    from voucher.migrations import upgrade

    name = f"voucher_upgrade_{uuid.uuid4().hex[:8]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    url = _server_url(name)
    start = threading.Barrier(2)
    outcomes = []
    waited = []

    def deploy():
        start.wait()
        try:
            upgrade(url, on_wait=lambda: waited.append(True))
            outcomes.append("ok")
        except Exception as exc:  # counted below
            outcomes.append(f"{type(exc).__name__}: {exc}")

    try:
        threads = [threading.Thread(target=deploy) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert outcomes == ["ok", "ok"]
        assert waited == [True]
        engine = make_engine(url, poolclass=sa.pool.NullPool)
        try:
            assert current_revision(engine) == head_revision()
        finally:
            engine.dispose()
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _set_revision(engine, revision):
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :r"),
                           {"r": revision})


@pytest.mark.parametrize(("revision", "status"), [
    ("0099_from_a_newer_release", 200),  # a newer release migrated first: still ready
    ("0006", 503),                       # older than this code needs
])
def test_readyz_is_ready_on_this_codes_schema_or_a_newer_one(app, client, revision, status):
    engine = app.extensions["voucher.engine"]
    try:
        _set_revision(engine, revision)
        response = client.get("/readyz")
    finally:
        _set_revision(engine, head_revision())
    assert response.status_code == status, response.json
    assert response.json["migration"] == revision
    assert client.get("/readyz").json == {"status": "ok", "database": "ok",
                                          "migration": head_revision()}


def _aware(moment) -> dt.datetime:
    """A timestamp read with plain SQL (SQLite gives its text) as an aware UTC datetime."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def test_decisions_issued_before_numbering_are_numbered_in_order(app, demo, database_url):
    """Migration 0015 numbers the decisions already issued, per year in the order they were
    issued, and the yearly counters go on from there."""
    from voucher import clock
    from voucher.migrations import downgrade, upgrade

    demo.close()
    app.extensions["voucher.engine"].dispose()
    downgrade(database_url, "0014")
    upgrade(database_url)
    rows = demo.execute(sa.text(
        "SELECT decision_number, issued_at FROM vouchers WHERE issued_at IS NOT NULL "
        "ORDER BY issued_at, id")).all()
    assert rows
    by_year: dict[int, list[str]] = {}
    for number, issued_at in rows:
        by_year.setdefault(clock.local(_aware(issued_at)).year, []).append(number)
    for year, numbers in by_year.items():
        assert numbers == [f"PS-{year}-{n:06d}" for n in range(1, len(numbers) + 1)]
    counters = dict(demo.execute(sa.text(
        "SELECT year, last_number FROM decision_number_sequence")).all())
    assert counters == {year: len(numbers) for year, numbers in by_year.items()}
    assert demo.execute(sa.text(
        "SELECT count(*) FROM vouchers WHERE issued_at IS NULL AND decision_number IS NOT NULL"
    )).scalar() == 0
