"""Query counting: the SQL statements the app's engine runs during a block of test code."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

#: Transaction control is left out: SQLite's BEGIN IMMEDIATE is a statement, PostgreSQL's
#: BEGIN is implicit in the driver, and neither is a query a page asks for.
_TRANSACTION_CONTROL = re.compile(
    r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b",
    re.IGNORECASE)


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def describe(self) -> str:
        return "\n".join(f"{n:3d}. {' '.join(s.split())[:220]}"
                         for n, s in enumerate(self.statements, 1))


_RATE_LIMIT_PRUNE = "DELETE FROM rate_limit_counters WHERE rate_limit_counters.expires_at"


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counted: client.get(...)``; then ``counted.count`` is the
    number of SQL statements the app ran on its engine (every connection: the request's unit
    of work, the rate-limit counters, the lasting writes), ``counted.describe()`` lists them."""
    engine = app.extensions["voucher.engine"]

    @contextlib.contextmanager
    def counting():
        counted = Counted()

        def before_cursor_execute(_conn, _cursor, statement, _parameters, _context, _many):
            # The rate-limit counters' housekeeping runs by chance (one increment in
            # PRUNE_ONE_IN), not per request: not counted, or a pinned count flickers.
            if not _TRANSACTION_CONTROL.match(statement) and \
                    not statement.startswith(_RATE_LIMIT_PRUNE):
                counted.statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", before_cursor_execute)
        try:
            yield counted
        finally:
            sa.event.remove(engine, "before_cursor_execute", before_cursor_execute)

    return counting
