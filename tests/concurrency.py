"""Running the same work in parallel transactions (PostgreSQL tests)."""

from __future__ import annotations

import os
import threading
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
