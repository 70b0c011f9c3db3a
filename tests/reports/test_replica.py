"""Reports and their exports read from the read replica when VOUCHER_REPORTS_DATABASE_URL
names one, never write to it, and everything else stays on the primary."""

import uuid

import pytest
import sqlalchemy as sa
import sqlalchemy.orm

from tests import factories
from tests.conftest import BACKEND, _admin_execute, _server_url, dispose_engines
from tests.reports.test_reports import _login, _text
from voucher import db as voucher_db
from voucher.accounts.models import Role
from voucher.db import make_engine
from voucher.migrations import upgrade


@pytest.fixture
def replica_url(tmp_path):
    """A database of its own standing in for the replica (a streaming replica is what
    scripts/bench cluster starts): migrated, with contents that differ from the primary's."""
    if BACKEND == "sqlite":
        url = f"sqlite:///{tmp_path / 'replica.sqlite3'}"
        upgrade(url)
        yield url
        return
    name = f"voucher_replica_{uuid.uuid4().hex[:10]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    url = _server_url(name)
    upgrade(url)
    yield url
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app_config(app_config, replica_url):
    return {**app_config, "REPORTS_DATABASE_URL": replica_url}


@pytest.fixture
def replica(replica_url):
    """A writable session on the replica's database, for the test to give it contents (the
    app's own connections to it are read-only)."""
    engine = make_engine(replica_url, sqlite_immediate=False, poolclass=sa.pool.NullPool)
    session = sa.orm.Session(engine)
    yield session
    session.close()
    engine.dispose()


def test_the_reports_read_the_replica_and_the_rest_the_primary(client, auth, db, replica):
    factories.budget(db, home=factories.municipality(db, "977", "Ylivieska"))
    db.commit()
    factories.budget(replica, home=factories.municipality(replica, "535", "Nivala"))
    replica.commit()
    _login(client, auth, db, Role.ADMIN)  # the login and the session: the primary

    page = _text(client.get("/reports/"))
    assert "Nivala" in page and "Ylivieska" not in page
    export = client.get("/reports/budget-use.csv").get_data(as_text=True)
    assert "Nivala" in export and "Ylivieska" not in export
    assert "Ylivieska" in _text(client.get("/admin/budgets/"))  # not a report: the primary


def test_the_replica_connections_are_read_only(app):
    session = voucher_db.reports_session()
    assert session is not voucher_db.session()
    with pytest.raises(sa.exc.DBAPIError):
        session.execute(sa.text("CREATE TABLE written_by_a_report (id integer)"))
    session.rollback()


def test_without_a_replica_the_reports_use_the_request_session(app_config):
    from voucher import create_app

    application = create_app({**app_config, "REPORTS_DATABASE_URL": None})
    try:
        with application.test_request_context():
            assert voucher_db.reports_session() is voucher_db.session()
    finally:
        dispose_engines(application)
