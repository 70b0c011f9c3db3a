"""Shared fixtures: the app on a clean, migrated database (SQLite or PostgreSQL), a frozen
clock, a session for test code, and login helpers.

The backend is chosen by VOUCHER_TEST_DATABASE (sqlite, the default, or postgresql); PostgreSQL
runs use a database of their own on VOUCHER_TEST_POSTGRES_URL's server, so several runs can
share one server.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import os
import re
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from voucher import clock, create_app
from voucher.db import make_engine
from voucher.migrations import upgrade

#: The run's counts for scripts/test's summary line (when VOUCHER_TEST_COUNTS names a file).
pytest_plugins = ["tests._counts", "tests._fast_apps"]

# Without VOUCHER_ENV the app applies production's rules; the tests, and whatever they start,
# are the test environment (tests of production's rules set their own environment).
os.environ["VOUCHER_ENV"] = "test"
BACKEND = os.environ.get("VOUCHER_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get(
    "VOUCHER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
#: The default "now" of every test: a Tuesday in late November 2026, noon in Helsinki.
FROZEN_NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=clock.HELSINKI)
DEMO_PASSWORD = "demo-password"

# Four test workers share two cores in scripts/test: drawing an example can take a second
# there, which says nothing about the strategy; the number of examples is each test's own.
settings.register_profile("voucher", suppress_health_check=[HealthCheck.too_slow],
                          deadline=None)
settings.load_profile("voucher")

#: Rows the migrations seed; restored after each PostgreSQL test.
_SEEDED = {"invoice_number_sequence": {"last_number": 0},
           "voucher_policy": {"four_eyes_threshold_cents": 300_000},
           "audit_chain_head": {"prev_hash": "'" + "0" * 64 + "'",
                                "last_hash": "'" + "0" * 64 + "'"}}


def pytest_report_header(config):
    return f"voucher test database: {BACKEND}"


def pytest_collection_modifyitems(config, items):
    # The longest tests first: xdist hands out the first quarter of the tests in turn and the
    # rest to whichever worker is free, so no worker is left running a minute-long test alone
    # at the end (the order is the same in every worker, as xdist requires).
    items.sort(key=lambda item: 0 if "slow" in item.keywords else 1 if "browser" in item.keywords
               else 2)
    if BACKEND == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks, parallel transactions); "
                                   "scripts/test runs it again on PostgreSQL")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def _server_url(database: str) -> str:
    return re.sub(r"/[^/]*$", f"/{database}", POSTGRES_URL)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """A database migrated to head once per test run (per xdist worker)."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("db") / "template.sqlite3"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield {"backend": "sqlite", "path": path}
        return
    name = f"voucher_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        if not connection.execute(sa.text(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            pytest.exit("VOUCHER_TEST_POSTGRES_URL must name a superuser: the tests clean and "
                        "restore their database with triggers off (session_replication_role).",
                        returncode=4)
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        # A throwaway database: commits need not wait for the disk.
        connection.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = _server_url(name)
    upgrade(url)
    engine = make_engine(url, pool_size=1, max_overflow=2)  # cleans and restores it
    yield {"backend": "postgresql", "url": url, "engine": engine}
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _clean_postgres(engine) -> None:
    """Empty what the test wrote and put every sequence back, so that each test sees ids from
    1 as on a new database.

    DELETE rather than TRUNCATE: truncating a dozen tables costs PostgreSQL about a second (new
    files for each table), deleting their few rows a few milliseconds. One query finds the
    tables with rows; triggers (the foreign keys' and the audit trail's append-only one) are
    off for the transaction (``session_replication_role``), so the order does not matter."""
    probe = " UNION ALL ".join(
        f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")"  # noqa: S608
        for t in _table_order() if t not in _SEEDED)
    deleted = {}
    with engine.begin() as connection:
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for table in connection.execute(sa.text(probe)).scalars().all():
            deleted[table] = connection.execute(
                sa.text(f'DELETE FROM "{table}"')).rowcount  # noqa: S608
        connection.execute(sa.text(
            "SELECT setval(format('%I', sequencename), start_value, false) FROM pg_sequences "
            "WHERE schemaname = 'public' AND last_value IS NOT NULL"))
        for table, values in _SEEDED.items():
            sets = ", ".join(f"{column} = {value}" for column, value in values.items())
            connection.execute(sa.text(f"UPDATE {table} SET {sets}"))  # noqa: S608 (constants)
    _vacuum_now_and_then(engine, deleted)


_dead_rows: dict[str, int] = {}


def _vacuum_now_and_then(engine, deleted: dict[str, int]) -> None:
    """VACUUM the tables that have collected many deleted rows. A server with autovacuum off
    (as CI's is) would otherwise keep every deleted demo row, and after a few hundred tests each
    query over those tables reads pages of dead rows (teardowns took 7 s instead of 0.3 s)."""
    for table, rows in deleted.items():
        _dead_rows[table] = _dead_rows.get(table, 0) + max(rows, 0)
    due = [table for table, rows in _dead_rows.items() if rows > 5_000]
    if not due:
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        # Without giving the emptied pages back to the file system: that needs a moment when no
        # one has the table open, and VACUUM waits up to five seconds per table for it.
        connection.execute(sa.text("VACUUM (TRUNCATE false) " + ", ".join(
            f'"{t}"' for t in due)))
        # VACUUM has counted the tables empty: the planner would take the next test's demo
        # rows for one per table and join them in nested loops (a reconciliation check ran
        # for minutes). Unknown (-1) makes it estimate from each table's size, as when new.
        connection.execute(sa.text(
            "UPDATE pg_class SET reltuples = -1 WHERE relnamespace = 'public'::regnamespace "
            "AND relname = ANY(:tables)"), {"tables": due})
    for table in due:
        _dead_rows[table] = 0


def _table_order() -> list[str]:
    import voucher.models  # noqa: F401
    from voucher.db import Base

    return [t.name for t in Base.metadata.sorted_tables]


class DemoSnapshot:
    """The demo data of a PostgreSQL database as COPY's binary rows per table and the values
    of its sequences: written back into the run's clean database before each test that asks
    for ``demo`` (a tenth of a second, where copying a database took over one)."""

    def __init__(self, engine) -> None:
        self.rows: dict[str, bytes] = {}
        self.sequences: dict[str, int] = {}
        with engine.connect() as connection:
            cursor = connection.connection.driver_connection.cursor()
            for table in _table_order():
                with cursor.copy(f'COPY "{table}" TO STDOUT (FORMAT BINARY)') as copy:
                    data = b"".join(bytes(block) for block in copy)
                if table in _SEEDED or connection.execute(sa.text(
                        f'SELECT EXISTS (SELECT 1 FROM "{table}")')).scalar():  # noqa: S608
                    self.rows[table] = data
            self.sequences = dict(connection.execute(sa.text(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL")).all())

    def restore(self, engine) -> None:
        """Into a clean database (as ``_clean_postgres`` leaves it)."""
        with engine.begin() as connection:
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            cursor = connection.connection.driver_connection.cursor()
            for table in _SEEDED:
                connection.execute(sa.text(f'DELETE FROM "{table}"'))  # noqa: S608
            for table, data in self.rows.items():
                with cursor.copy(f'COPY "{table}" FROM STDIN (FORMAT BINARY)') as copy:
                    copy.write(data)
            for sequence, value in self.sequences.items():
                connection.execute(sa.text(
                    "SELECT setval(format('%I', CAST(:s AS text)), CAST(:v AS bigint), true)"),
                    {"s": sequence, "v": value})


#: The settings every test app shares (``app_config`` adds the per-test paths).
#: Rate limits count in memory here: a counter committed by every API request would make the
#: tests' own SQLite sessions' snapshots stale; tests/api/test_rate_limit.py uses the database.
BASE_CONFIG = {"VOUCHER_ENV": "test", "BASE_URL": "http://voucher.test",
               "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.fixture(scope="session")
def demo_template(template_database, tmp_path_factory):
    """The demo data, loaded once per run into a database of its own (the documents are in it
    too); the ``demo`` fixture gives each test a fresh copy instead of loading it again
    (seconds each): a copy of the SQLite file, or on PostgreSQL a ``DemoSnapshot`` of it
    written into the run's clean database."""
    from voucher.demo import load_demo

    directory = tmp_path_factory.mktemp("demo")
    if template_database["backend"] == "sqlite":
        path = directory / "demo.sqlite3"
        shutil.copyfile(template_database["path"], path)
        url = f"sqlite:///{path}"
    else:
        name = f"{_database_name(template_database['url'])}_demo"
        # A database is copied only while no one is connected to it.
        from tests._fast_apps import close_shared_pools

        close_shared_pools()
        close_reader_engines()
        template_database["engine"].dispose()
        _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "'
                       f'{_database_name(template_database["url"])}"')
        url = _server_url(name)
    application = create_app({**BASE_CONFIG, "DATABASE_URL": url,
                              "INSTANCE_PATH": str(directory / "instance")})
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    clock.freeze(FROZEN_NOW)  # session-scoped: set up before the autouse frozen clock
    try:
        with application.test_request_context(), sa.orm.Session(engine) as session:
            load_demo(session)
            session.commit()
    finally:
        clock.unfreeze()
    engine.dispose()
    dispose_engines(application)
    if template_database["backend"] == "sqlite":
        with sqlite3.connect(path) as connection:  # everything into the file itself
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if template_database["backend"] == "sqlite":
        yield {"path": path}
        return
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        snapshot = DemoSnapshot(engine)
    finally:
        engine.dispose()
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    yield {"snapshot": snapshot}


def _database_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _admin_execute(statement: str) -> None:
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(statement))
    finally:
        admin.dispose()


@pytest.fixture
def database_url(request, template_database, tmp_path):
    """A clean database for one test; with the demo data when the test asks for ``demo``."""
    wants_demo = "demo" in request.fixturenames
    if template_database["backend"] == "sqlite":
        path = tmp_path / "test.sqlite3"
        source = request.getfixturevalue("demo_template")["path"] if wants_demo \
            else template_database["path"]
        shutil.copyfile(source, path)
        yield f"sqlite:///{path}"
        return
    if wants_demo:
        request.getfixturevalue("demo_template")["snapshot"].restore(template_database["engine"])
    yield template_database["url"]
    _clean_postgres(template_database["engine"])


@pytest.fixture(autouse=True)
def frozen_clock():
    """Every test starts at FROZEN_NOW; tests move the clock with clock.freeze()."""
    clock.freeze(FROZEN_NOW)
    yield
    clock.unfreeze()


@pytest.fixture(autouse=True)
def reconciliation_check(request):
    """After every test that used the app, the money must reconcile: the test fails naming each
    difference. Tests that corrupt money on purpose are marked ``unreconciled``."""
    if "app" not in request.fixturenames or request.node.get_closest_marker("unreconciled"):
        yield
        return
    url = request.getfixturevalue("database_url")  # set up now, so it is still there after
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.passed:
        return
    from voucher.settlement.reconciliation import find_differences

    with sa.orm.Session(reader_engine(url)) as session:
        differences = find_differences(session)
    if differences:
        pytest.fail("the money does not reconcile after this test:\n" + "\n".join(
            d.describe() for d in differences), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """Settings for the test app; tests may change them before ``app`` is created."""
    return {**BASE_CONFIG, "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(tmp_path / "uploads"), "INSTANCE_PATH": str(tmp_path / "instance")}


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as in production. pytest-flask keeps a request
    context pushed during the test; without this, requests would share its ``g`` (the logged-in
    user, the CSRF token, the database session) with each other and with the test."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(app_config):
    """The app on a clean database. pytest-flask pushes a request context around each test, so
    test code can call services, url_for and render_template directly."""
    application = create_app(app_config)
    application.test_client_class = IsolatedClient
    yield application
    dispose_engines(application)


def dispose_engines(application) -> None:
    """Close the app's database connections (its engine's, and the reports replica's), but
    for the pool that the PostgreSQL test apps share (tests/_fast_apps.py)."""
    from tests._fast_apps import shares_its_pool

    for name in ("voucher.engine", "voucher.reports_engine"):
        if name in application.extensions and not shares_its_pool(application.extensions[name]):
            application.extensions[name].dispose()


@pytest.fixture
def client(app):
    """A test client (not in a ``with`` block: contexts are not preserved between requests)."""
    return app.test_client()


@pytest.fixture
def db(app, database_url):
    """A session for test code. Commit to make data visible to requests, and commit (or roll
    back) before reading what requests did: on SQLite a transaction keeps reading its snapshot.
    On SQLite it takes the write lock only when it writes, so it never blocks the app."""
    session = sa.orm.Session(reader_engine(database_url))
    yield session
    session.rollback()
    session.close()


_reader_engines: dict[str, sa.Engine] = {}


def reader_engine(url: str) -> sa.Engine:
    """An engine for test code's own reads and writes (plain deferred transactions on SQLite),
    kept while the tests use the same database URL: the PostgreSQL tests share one for the run,
    with a small pool (a new server process for each session cost more than the test's own
    queries); a SQLite test's file is its own, without a pool."""
    if url not in _reader_engines:
        close_reader_engines()
        _reader_engines[url] = make_engine(url, sqlite_immediate=False, **(
            {"poolclass": sa.pool.NullPool} if url.startswith("sqlite")
            else {"pool_size": 2, "max_overflow": 8}))
    return _reader_engines[url]


def close_reader_engines() -> None:
    for engine in _reader_engines.values():
        engine.dispose()
    _reader_engines.clear()


@pytest.fixture
def demo(app, db):
    """The demo data, loaded and committed: a copy of ``demo_template`` (``database_url``
    copies its database, documents included)."""
    return db


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = DEMO_PASSWORD, follow_redirects=False):
        page = self._client.get("/login")
        return self._client.post(
            "/login", data={"email": email, "password": password,
                            "csrf_token": csrf_token_from(page)},
            follow_redirects=follow_redirects)

    def logout(self):
        page = self._client.get("/")
        return self._client.post("/logout", data={"csrf_token": csrf_token_from(page)})


@pytest.fixture
def auth(client):
    return AuthActions(client)


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token_from(response) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def post_form(client, url: str, data: dict, *, form_page: str | None = None, **kwargs):
    """GET the form page for a CSRF token, then POST the data."""
    page = client.get(form_page or url)
    return client.post(url, data={**data, "csrf_token": csrf_token_from(page)}, **kwargs)


@pytest.fixture
def outbox(db):
    """Read the outbox: ``outbox()`` returns the messages, newest last."""
    from voucher.mail.models import OutboxMessage

    def read(to: str | None = None):
        db.commit()
        query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            query = query.where(OutboxMessage.to_address == to)
        return db.execute(query).scalars().all()

    return read


def link_in(body: str) -> str:
    """The first URL in an e-mail body, as a path."""
    match = re.search(r"https?://[^/\s]+(/\S+)", body)
    assert match, f"no link in: {body}"
    return match.group(1)


def pytest_configure(config):
    Path(os.environ.get("VOUCHER_TEST_ARTIFACTS", "/tmp/voucher-test-artifacts")).mkdir(
        parents=True, exist_ok=True)
