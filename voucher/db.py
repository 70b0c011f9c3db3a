"""Engine, per-request session and the declarative base.

One session per request (or CLI command). The request commits once at its end when the
response is a success (status < 400) and rolls back otherwise, so a view that re-renders a
form with errors (status 422) can never leave half-done work behind. Services only add and
flush; they never commit.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

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
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _configure_sqlite(engine, immediate=sqlite_immediate)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    kwargs.setdefault("pool_pre_ping", True)
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
    return sa.create_engine(url, **kwargs)


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


def init_app(app: Flask) -> None:
    """Attach an engine and session factory to the app and own the request transaction."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["voucher.db"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["voucher.engine"] = engine

    @app.after_request
    def _commit_or_rollback(response):
        db_session = g.pop("db_session", None)
        if db_session is None:
            return response
        try:
            if response.status_code < 400:
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

    @app.teardown_appcontext
    def _close(_exc):
        db_session = g.pop("db_session", None)
        if db_session is not None:
            db_session.rollback()
            db_session.close()


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["voucher.engine"]


def session() -> Session:
    """The session of the current request or CLI command, created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["voucher.db"]()
    return g.db_session


def commit() -> None:
    """Commit now, for the few places that must keep work even when the response fails
    (a failed login attempt is recorded although the login is refused)."""
    session().commit()


@contextmanager
def command_session() -> Iterator[Session]:
    """A session for a CLI command or background job: commit on success, roll back on error."""
    db_session = current_app.extensions["voucher.db"]()
    try:
        yield db_session
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise
    finally:
        db_session.close()
