"""Rate-limit counters that every app server shares, and the keys they are counted under.

Flask-Limiter (through the ``limits`` library) keeps its counters in a storage named by
``VOUCHER_RATELIMIT_STORAGE_URI``: ``database://`` (the default) is the app's own database,
``redis://…`` a Redis server (optional; the app never needs one), ``memory://`` one process
only (tests; refused in production, where several workers and hosts each would count apart).

A counter is one row per key and window, incremented by one atomic upsert in a short
transaction of its own: a refused request, whose unit of work is rolled back, is still
counted. Keys are what a caller cannot choose: the provider of a valid API token (all its
tokens share one budget), otherwise the client address; a made-up token counts against the
address it came from.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request
from limits.storage import Storage
from sqlalchemy.orm import Mapped, mapped_column

from voucher import db

#: One in this many increments also deletes the expired counters (a table that never grows
#: beyond the keys seen within a window, without a cron job of its own).
PRUNE_ONE_IN = 200


class RateLimitCounter(db.Base):
    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer)
    #: Seconds since the epoch (the ``limits`` library's clock) when the window ends.
    expires_at: Mapped[float] = mapped_column(sa.Float, index=True)


class DatabaseStorage(Storage):
    """``database://``: the counters in the app's database, shared by every server."""

    STORAGE_SCHEME = ["database"]  # the limits library registers the scheme

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 engine: sa.Engine | None = None, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._own_engine = engine

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    @property
    def _engine(self) -> sa.Engine:
        """The engine given, else the current app's (one process may serve several apps)."""
        return self._own_engine or current_app.extensions["voucher.engine"]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """One upsert in a transaction of its own; inside a served request the count and the
        window's end it returns answer the same request's later reads of that key (the
        X-RateLimit-* headers read the window twice: four queries saved per API request)."""
        now = time.time()
        values = {"the_key": key, "amount": amount, "now": now, "window_end": now + expiry}
        with self._writing() as connection:
            row = connection.execute(_upsert(connection.dialect.name), values).one()
            if random.randrange(PRUNE_ONE_IN) == 0:  # noqa: S311 (not a secret)
                table = RateLimitCounter.__table__
                connection.execute(table.delete().where(table.c.expires_at <= now))
        counted = _counted_in_request()
        if counted is not None:
            counted[key] = row
        return row.count

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        """A connection whose statements commit as they run. On PostgreSQL it is in autocommit
        mode: one round trip a statement, without BEGIN and COMMIT; the table is UNLOGGED
        (migration 0019), so those commits do not wait for the disk either (a counter need not
        survive a crash of the database: its window would only start again). On SQLite, a
        transaction of its own (BEGIN IMMEDIATE)."""
        if self._engine.dialect.name == "postgresql":
            with self._engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as connection:
                yield connection
        else:
            with self._engine.begin() as connection:
                yield connection

    def _row(self, key: str):
        counted = _counted_in_request()
        if counted is not None and key in counted:
            return counted[key]
        table = RateLimitCounter.__table__
        with self._engine.connect() as connection:
            return connection.execute(sa.select(table.c.count, table.c.expires_at).where(
                table.c.key == key, table.c.expires_at > time.time())).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return row.count if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row.expires_at if row else time.time()

    def check(self) -> bool:
        try:
            with self._engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        counted = _counted_in_request()
        if counted is not None:
            counted.clear()
        with self._writing() as connection:
            return connection.execute(RateLimitCounter.__table__.delete()).rowcount

    def clear(self, key: str) -> None:
        counted = _counted_in_request()
        if counted is not None:
            counted.pop(key, None)
        with self._writing() as connection:
            connection.execute(RateLimitCounter.__table__.delete().where(
                RateLimitCounter.key == key))


@functools.cache
def _upsert(dialect: str) -> sa.Insert:
    """The counter's upsert, built once per dialect (building it for every request took a
    tenth of an API request's time in the app): a new window when the old one has ended."""
    table = RateLimitCounter.__table__
    insert = (sa.dialects.postgresql.insert if dialect == "postgresql"
              else sa.dialects.sqlite.insert)(table)
    amount, window_end = sa.bindparam("amount", type_=sa.Integer), \
        sa.bindparam("window_end", type_=sa.Float)
    expired = table.c.expires_at <= sa.bindparam("now", type_=sa.Float)
    return insert.values(key=sa.bindparam("the_key"), count=amount, expires_at=window_end) \
        .on_conflict_do_update(index_elements=[table.c.key], set_={
            "count": sa.case((expired, amount), else_=table.c.count + amount),
            "expires_at": sa.case((expired, window_end), else_=table.c.expires_at),
        }).returning(table.c.count, table.c.expires_at)


def _counted_in_request() -> dict | None:
    """The counters this served request has incremented (key → count and window end), or None
    outside one: set up by a before_request hook, so code that uses the storage directly (a
    command, a test) always reads the database."""
    return g.get("rate_limit_counted") if has_request_context() else None


def client_address() -> str:
    """The caller's address as the reverse proxies in front say (see voucher.security)."""
    return request.remote_addr or "unknown"


def init_app(app: Flask) -> None:
    """Call before Flask-Limiter's init_app: before_request hooks run in the order they were
    added, so this one's comes before the limiter counts; after_request hooks in reverse
    order, so this one sees the answer after the limiter has added its headers."""

    @app.before_request
    def _count_in_this_request():
        g.rate_limit_counted = {}

    @app.after_request
    def _retry_after_only_when_refused(response):
        # Flask-Limiter puts Retry-After on every answer; it means "wait" only on a 429 or a
        # 503, so the others lose it (the X-RateLimit-* headers stay).
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response
