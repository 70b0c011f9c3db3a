"""Engine, units of work and the declarative base.

One unit of work (a session and its transaction) per request, CLI command or job; services only
add and flush, they never commit. The request's unit commits once, after the view, unless it
was doomed: any ``DomainError`` created while the request runs dooms it (a refused action
changes nothing, whatever the view then answers: a redirect with a message, a form with
errors), and so does an error status (>= 400). The few writes that must outlive a refusal
(failed login attempts) are given to ``keep_despite_refusal``: they run in a unit of their own
once the request's unit has ended.

External work (Stripe calls, files) never runs inside a transaction: it is recorded as rows in
the unit and handed to ``after_commit``, which runs it once the unit has committed, and never
if it rolls back (a savepoint that rolls back drops the work queued inside it).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware timestamp stored as UTC; SQLite's naive values come back as UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use voucher.clock.now()")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with fixed constraint names and aware timestamps."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


def enum_type(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint of the enum's values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


def make_engine(url: str, *, sqlite_immediate: bool = True, **kwargs) -> Engine:
    """Create the engine with the options each backend needs to be safe under concurrency.

    ``sqlite_immediate=False`` gives plain deferred transactions, for a reader (a test looking
    at results) that must not hold SQLite's write lock while the app works.
    """
    # An error's message never carries the statement's values (personal data, tokens).
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _configure_sqlite(engine, immediate=sqlite_immediate)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
    engine = sa.create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


#: A pooled connection that has been back in the pool this long is pinged before it is
#: handed out again (the server may have closed it: a restart, a failover, an idle timeout).
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for a connection idle ``PING_AFTER_IDLE_SECONDS``
    or more. Pinging every checkout cost a round trip each time a request, its rate-limit
    counter or a job took a connection: 3 of the 21 round trips of an API redemption. A
    connection returned moments ago was working then; when the server went away since, the
    first statement on it fails as it would have on any connection in use at that moment, and
    SQLAlchemy then discards every connection of the pool made before (a new one for each)."""

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection, record):
        record.info["voucher.returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        if record is not None:
            record.info["voucher.returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        returned_at = record.info.get("voucher.returned_at")
        if returned_at is not None and time.monotonic() - returned_at < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if not engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise
            alive = False
        if not alive:  # the pool discards it and connects again (up to three times)
            raise sa.exc.DisconnectionError("the pooled connection was closed by the server")


def _configure_sqlite(engine: Engine, *, immediate: bool) -> None:
    # pysqlite's own transaction handling is replaced by ours: BEGIN IMMEDIATE takes the write
    # lock up front, so two read-then-write transactions queue instead of failing with
    # "database is locked" half-way. Foreign keys are off by default in SQLite.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# -- Queues that follow the transaction ------------------------------------------------------

def queue_for_commit(session: Session, queue: str, item) -> None:
    """Put ``item`` on one of the session's queues, tagged with the transaction (or savepoint)
    it was queued in: a rollback of that transaction, or of a savepoint around it, drops it."""
    if not session.in_transaction():
        session.begin()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(queue, []).append((transaction, item))


def take_queued(session: Session, queue: str) -> list:
    """Empty one of the session's queues and return its items, oldest first."""
    return [item for _transaction, item in session.info.pop(queue, ())]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_items(session: Session, rolled_back: SessionTransaction) -> None:
    for queue in _QUEUES:
        items = session.info.get(queue)
        if items:
            session.info[queue] = [(transaction, item) for transaction, item in items
                                   if not _within(transaction, rolled_back)]


#: Every queue name in use (the audit trail registers its own).
_QUEUES: set[str] = set()
AFTER_COMMIT = "after_commit_work"


def register_queue(name: str) -> str:
    _QUEUES.add(name)
    return name


register_queue(AFTER_COMMIT)


def after_commit(session: Session, work: Callable[[], None]) -> None:
    """Run ``work`` (a call outside the database, e.g. to Stripe) once ``session``'s unit of
    work has committed, outside any transaction; never when it rolls back. ``work`` takes no
    arguments, opens its own unit for what it records, and handles its own errors."""
    queue_for_commit(session, AFTER_COMMIT, work)


@event.listens_for(Session, "after_commit")
def _run_after_commit_work(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: the work waits for the real commit
    for work in take_queued(session, AFTER_COMMIT):
        try:
            work()
        except Exception:  # the committed rows say what is left to do; a job retries it
            log.exception("work after commit failed")


# -- The request's unit of work ---------------------------------------------------------------

def doom() -> None:
    """Refuse the current request's unit of work: it rolls back whatever the response. Called
    by every ``DomainError`` created while a request runs."""
    if has_request_context():
        g.unit_doomed = True


def is_doomed() -> bool:
    return bool(has_request_context() and g.get("unit_doomed"))


def keep_despite_refusal(work: Callable[[Session], None]) -> None:
    """Run ``work(session)`` in a unit of its own, committed once the request's unit has ended
    (committed or rolled back): for what must count although the request is refused, such as
    a failed login attempt. Outside a request it runs at once, in its own unit."""
    if has_request_context():
        g.setdefault("lasting_work", []).append(work)
        return
    with command_session() as session:
        work(session)


def _run_lasting_work() -> None:
    for work in g.pop("lasting_work", ()):
        with command_session() as session:
            work(session)


def init_app(app: Flask) -> None:
    """Attach an engine and session factory to the app and own the request transaction."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["voucher.db"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["voucher.engine"] = engine
    if app.config.get("REPORTS_DATABASE_URL"):
        reports_engine = make_reports_engine(app.config["REPORTS_DATABASE_URL"])
        app.extensions["voucher.reports_engine"] = reports_engine
        app.extensions["voucher.reports_db"] = sessionmaker(reports_engine)

    @app.after_request
    def _commit_or_rollback(response):
        db_session = g.pop("db_session", None)
        try:
            if db_session is None:
                return response
            try:
                if response.status_code < 400 and not is_doomed():
                    db_session.commit()
                else:
                    db_session.rollback()
            except sa.exc.DBAPIError as exc:
                db_session.rollback()
                from voucher.errors import commit_failed_response

                return commit_failed_response(exc)
            finally:
                db_session.close()
            return response
        finally:
            _run_lasting_work()

    @app.teardown_appcontext
    def _close(_exc):
        reports = g.pop("reports_db_session", None)
        if reports is not None:
            reports.close()
        db_session = g.pop("db_session", None)
        if db_session is not None:
            db_session.rollback()
            db_session.close()
        if g.get("lasting_work"):  # the request failed before after_request ran
            _run_lasting_work()


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["voucher.engine"]


def session() -> Session:
    """The session of the current request or CLI command, created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["voucher.db"]()
    return g.db_session


def make_reports_engine(url: str) -> Engine:
    """The engine of the reports' read replica: every transaction read-only, whatever the
    server is (a replica refuses writes anyway; a primary named here by mistake does too)."""
    engine = make_engine(url, sqlite_immediate=False)

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only = ON" if url.startswith("sqlite")
                       else "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cursor.close()
        if not url.startswith("sqlite"):
            dbapi_connection.commit()

    return engine


def reports_session() -> Session:
    """The session for reports and their exports: on the read replica when
    VOUCHER_REPORTS_DATABASE_URL names one (read-only; its figures may lag the primary by the
    replication delay), otherwise the request's own session."""
    factory = current_app.extensions.get("voucher.reports_db")
    if factory is None:
        return session()
    if "reports_db_session" not in g:
        g.reports_db_session = factory()
    return g.reports_db_session


@contextmanager
def command_session() -> Iterator[Session]:
    """A unit of work of its own (a CLI command, a job, a write that outlives a refusal):
    commit when the block ends, roll back on any error."""
    db_session = current_app.extensions["voucher.db"]()
    try:
        yield db_session
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise
    finally:
        db_session.close()
