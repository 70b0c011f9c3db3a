"""Running the same work in parallel transactions (PostgreSQL tests)."""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa
import sqlalchemy.orm

from voucher.db import make_engine


def run_in_parallel(database_url: str, work: Callable, n: int, app=None) -> Counter:
    """Run ``work(session, i)`` in ``n`` threads at once, each in its own transaction that
    commits when ``work`` returns. Returns a Counter of outcomes: "ok" or the exception's class
    name."""
    engine = make_engine(database_url, pool_size=n + 2, max_overflow=0)
    start = threading.Barrier(n)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def runner(i: int) -> None:
        context = app.app_context() if app is not None else None
        if context is not None:
            context.push()
        try:
            with sa.orm.Session(engine) as session:
                start.wait()
                try:
                    work(session, i)
                    session.commit()
                    outcome = "ok"
                except Exception as exc:  # counted, and asserted by the caller
                    session.rollback()
                    outcome = type(exc).__name__
                    if os.environ.get("VOUCHER_DEBUG_PARALLEL"):
                        traceback.print_exc()
            with lock:
                outcomes[outcome] += 1
        finally:
            if context is not None:
                context.pop()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    engine.dispose()
    return outcomes


def run_commands_at_once(app, args: list[str], *, n: int = 2,
                         release: threading.Event | None = None) -> list:
    """Start the CLI command ``args`` in ``n`` threads at once, each in an app context of its
    own, as cron does on ``n`` servers. ``release`` (an event the command's work waits for, to
    hold the first runner inside its work) is set once one runner has ended, or after 20 s.
    Returns the exit codes (None for a command that just returned); the output goes to
    ``sys.stdout`` (read it with ``capsys``)."""
    start = threading.Barrier(n)
    codes: list = []

    def runner():
        with app.app_context():
            start.wait()
            try:
                app.cli.main(args=args, prog_name="flask", standalone_mode=False)
                codes.append(None)
            except SystemExit as exit_:
                codes.append(exit_.code)

    threads = [threading.Thread(target=runner) for _ in range(n)]
    for thread in threads:
        thread.start()
    if release is not None:
        deadline = time.monotonic() + 20
        while all(t.is_alive() for t in threads) and time.monotonic() < deadline:
            time.sleep(0.05)
        release.set()
    for thread in threads:
        thread.join(timeout=120)
    return codes


def terminate_backend(database_url: str, pid: int) -> None:
    """End the server process of another connection, as a restart or an administrator would."""
    killer = make_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with killer.connect() as connection:
            assert connection.execute(sa.select(sa.func.pg_terminate_backend(pid))).scalar()
    finally:
        killer.dispose()
