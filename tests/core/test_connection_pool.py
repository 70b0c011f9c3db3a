"""PostgreSQL connections are pinged when they leave the pool only after being idle a while
(``voucher.db.PING_AFTER_IDLE_SECONDS``): a ping on every checkout was a round trip of every
request, counter and job. A connection the server closed while it sat idle is replaced
without the caller seeing it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import voucher.db
from tests.concurrency import terminate_backend
from voucher.db import make_engine

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def engine(database_url):
    made = make_engine(database_url, pool_size=1, max_overflow=0)  # a pool of its own
    yield made
    made.dispose()


@pytest.fixture
def pings(engine, monkeypatch):
    counted = []
    ping = engine.dialect.do_ping

    def counting_ping(dbapi_connection):
        counted.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting_ping)
    return counted


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.pg_backend_pid())).scalar()


def test_a_connection_back_moments_ago_is_handed_out_without_a_ping(engine, pings):
    first = _backend_pid(engine)
    for _i in range(3):
        assert _backend_pid(engine) == first
    assert pings == []


def test_a_connection_idle_long_enough_is_pinged(engine, pings, monkeypatch):
    first = _backend_pid(engine)
    monkeypatch.setattr(voucher.db, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend_pid(engine) == first
    assert len(pings) == 1


def test_an_idle_connection_the_server_closed_is_replaced_unseen(engine, pings, monkeypatch,
                                                                 database_url):
    first = _backend_pid(engine)
    terminate_backend(database_url, first)
    monkeypatch.setattr(voucher.db, "PING_AFTER_IDLE_SECONDS", 0.0)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT 1")).scalar() == 1
        assert connection.execute(sa.select(sa.func.pg_backend_pid())).scalar() != first
    assert pings[0].closed  # found closed by the ping, then a new one made


def test_a_connection_closed_moments_after_use_fails_once_and_the_pool_recovers(
        engine, database_url):
    """The price of not pinging: a statement on a connection the server closed since it was
    returned fails, as it would have on a connection in use at that moment; the pool then
    replaces its connections, and the next checkout works."""
    first = _backend_pid(engine)
    terminate_backend(database_url, first)
    with pytest.raises(sa.exc.OperationalError) as failed, engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    assert failed.value.connection_invalidated
    assert _backend_pid(engine) != first
