"""Scheduled work that is safe on every host: one run at a time, the others skip.

Every cron line runs on every server at the same minute. Each command takes a PostgreSQL
advisory lock named after it (``single_run``); the run that gets it does the work, the others
print that they skipped and exit 0. The lock is a session-level lock on a connection of its
own, held for the whole command and released when it ends, also on error (and by PostgreSQL
when the process dies, since the connection goes with it). That connection stays outside any
transaction (autocommit), so ``idle_in_transaction_session_timeout`` never cuts it while the
command works in its own units.

The lock is not the only guard: the queues claim their rows themselves (the outbox and the
Stripe jobs with a lease, the expiry with a row lock), so work stays single even when two runs
overlap without it. SQLite (development, one process) has no advisory locks: there every run
gets the lock.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from voucher import db


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for an advisory lock named ``name``."""
    return int.from_bytes(hashlib.sha256(f"voucher:{name}".encode()).digest()[:8], "big",
                          signed=True)


def _engine(bind: Engine | Session) -> Engine:
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return bind.engine if isinstance(bind, sa.engine.Connection) else bind


@contextmanager
def single_run(bind: Engine | Session, name: str, *, wait: bool = False,
               on_wait: Callable[[], None] | None = None) -> Iterator[bool]:
    """Hold the advisory lock ``name`` for the block; yields whether this run got it.

    Without ``wait`` another holder means False at once (the caller skips its work); with
    ``wait`` the block waits until the other holder is done (``db upgrade``), then gets it,
    calling ``on_wait`` once when it has to wait.
    """
    engine = _engine(bind)
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    got = False
    try:
        got = _try_lock(connection, key)
        if wait and not got and on_wait is not None:
            on_wait()
        while wait and not got:
            time.sleep(0.5)
            got = _try_lock(connection, key)
        yield got
    finally:
        _release(connection, key, got)


def _release(connection: sa.engine.Connection, key: int, got: bool) -> None:
    try:
        if got:
            connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    except sa.exc.DBAPIError:
        # The connection broke: it must not go back to the pool. Closing it for good ends its
        # database session, and the lock with it.
        connection.invalidate()
    finally:
        connection.close()


def _try_lock(connection: sa.engine.Connection, key: int) -> bool:
    return bool(connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"),
                                   {"key": key}).scalar_one())


def skipped_message(name: str) -> str:
    return f"{name}: skipped, another run holds the lock"


def one_run_at_a_time(name: str) -> Callable:
    """Decorate a cron CLI command (the decorator next to the function, below its click
    options): it runs only while it holds the lock ``name`` (the command's own words, e.g.
    "outbox send"); a run started while another holds it prints ``<name>: skipped, another
    run holds the lock`` and exits 0."""

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def run(*args, **kwargs):
            with single_run(db.engine(), name) as got:
                if not got:
                    click.echo(skipped_message(name))
                    return None
                return command(*args, **kwargs)

        return run

    return decorate
