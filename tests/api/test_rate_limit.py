"""Too many requests: 429 rate_limited as problem+json with Retry-After; the budget belongs to
what a caller cannot choose (the provider of a valid token, else the address) and its counters
live in the database, where every app server sees them."""

import os
import re
import secrets
import time

import pytest
import sqlalchemy as sa

from tests import factories
from voucher import clock, create_app
from voucher.api import tokens
from voucher.api.models import ApiToken
from voucher.db import make_engine
from voucher.rate_limits import DatabaseStorage, RateLimitCounter


@pytest.fixture
def app_config(app_config):
    return {**app_config, "API_RATE_LIMIT": "3 per minute",
            "RATELIMIT_STORAGE_URI": "database://"}  # production's default


def test_the_limit_answers_429_rate_limited_with_retry_after(api, voucher):
    for _i in range(3):
        answered = api.get("/vouchers")
        assert answered.status_code == 200
        assert "Retry-After" not in answered.headers  # "wait" is said only with a 429
        assert int(answered.headers["X-RateLimit-Remaining"]) < 3
    response = api.get("/vouchers")
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["code"], body["status"]) == ("rate_limited", 429)
    assert 0 < int(response.headers["Retry-After"]) <= 60
    refused = api.redeem(voucher.code, {"service_date": "2026-11-20", "units": 1})
    assert refused.status_code == 429 and refused.get_json()["code"] == "rate_limited"


def test_a_providers_tokens_share_one_budget_and_other_providers_have_their_own(
        api, client, db, seller, voucher):
    second = factories.api_token(db, seller, name="Second system")
    other = factories.api_token(db, factories.provider(db, name="Toinen Oy"), name="Other")
    db.commit()
    for _i in range(3):
        assert api.get("/vouchers").status_code == 200
    assert api.get("/vouchers").status_code == 429
    response = client.get("/api/v1/vouchers", headers={"Authorization": f"Bearer {second}"})
    assert response.status_code == 429  # a new token does not buy a new budget
    response = client.get("/api/v1/vouchers", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 200


def test_made_up_tokens_count_against_the_address_they_come_from(client):
    statuses = [client.get("/api/v1/vouchers", headers={
        "Authorization": f"Bearer vch_{secrets.token_urlsafe(24)}"}).status_code
        for _i in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_a_refused_request_still_counts(api, voucher):
    for _i in range(3):  # each refused (no such voucher), each rolled back, each counted
        assert api.redeem("NOPE-NOPE-NOPE-NOPE", {"service_date": "2026-11-20", "units": 1},
                          key=f"k{_i}").status_code == 404
    assert api.get("/vouchers").status_code == 429


def test_counts_made_by_another_server_are_honoured(app, api, voucher, database_url):
    """Another server (its own engine, its own process's storage) over the same database
    sees this server's count and spends the provider's budget; this server then refuses."""
    engine = make_engine(database_url, poolclass=sa.pool.NullPool)
    other_server = DatabaseStorage("database://", engine=engine)
    try:
        assert api.get("/vouchers").status_code == 200
        key = storage_key_of(app)
        assert other_server.get(key) == 1
        assert other_server.incr(key, 60, amount=2) == 3
    finally:
        engine.dispose()
    assert api.get("/vouchers").status_code == 429


def storage_key_of(app) -> str:
    with app.extensions["voucher.engine"].connect() as connection:
        keys = connection.execute(sa.select(RateLimitCounter.key)).scalars().all()
    assert len(keys) == 1 and "provider" in keys[0], keys
    return keys[0]


def test_an_expired_window_starts_again_at_the_amount(app):
    storage = DatabaseStorage("database://", engine=app.extensions["voucher.engine"])
    assert storage.incr("k", 60) == 1
    assert storage.incr("k", 60) == 2
    assert storage.get_expiry("k") > time.time()
    with app.extensions["voucher.engine"].begin() as connection:
        connection.execute(sa.update(RateLimitCounter).values(expires_at=time.time() - 1))
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    storage.clear("k")
    assert storage.get("k") == 0
    assert storage.check() is True


REDIS_URL = os.environ.get("VOUCHER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_reachable() -> bool:
    try:
        import redis
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception:  # any failure: not reachable
        return False
    return True


@pytest.mark.skipif(not _redis_reachable(), reason=f"Redis at {REDIS_URL} is unreachable "
                    "(the optional Redis rate-limit backend)")
def test_the_optional_redis_backend_counts_the_same_budget(app_config, db, seller):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    application = create_app({**app_config, "RATELIMIT_STORAGE_URI": REDIS_URL})
    try:
        token = factories.api_token(db, seller)
        db.commit()
        client = application.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        statuses = [client.get("/api/v1/vouchers", headers=headers).status_code
                    for _i in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert any(b"provider:" in key for key in redis.Redis.from_url(REDIS_URL).scan_iter())
        with application.extensions["voucher.engine"].connect() as connection:
            assert connection.execute(sa.select(sa.func.count()).select_from(
                RateLimitCounter)).scalar() == 0
    finally:
        redis.Redis.from_url(REDIS_URL).flushdb()
        application.extensions["voucher.engine"].dispose()


def _counters(app) -> dict[str, int]:
    with app.extensions["voucher.engine"].connect() as connection:
        rows = connection.execute(sa.select(RateLimitCounter.key, RateLimitCounter.count)).all()
    return {re.search(r"(provider|ip):", key).group(1): count for key, count in rows}


def test_a_token_revoked_by_another_server_counts_against_the_address_after_one_request(
        app, api, db, token):
    """This server remembers a token's provider for the key (no query per request); a token
    revoked elsewhere is forgotten here at the first request it fails, so at most that one
    request is counted against its provider's budget."""
    assert api.get("/vouchers").status_code == 200
    db.execute(sa.update(ApiToken).values(revoked_at=clock.now()))  # another server's work
    db.commit()
    assert [api.get("/vouchers").status_code for _i in range(3)] == [401, 401, 401]
    assert _counters(app) == {"provider": 2, "ip": 2}


def test_the_remembered_providers_of_tokens_are_bounded(app, client, db, seller, monkeypatch):
    monkeypatch.setattr(tokens, "_PROVIDERS_KEPT", 2)
    monkeypatch.setattr(tokens, "_providers_of_tokens", {})
    made = [factories.api_token(db, seller, name=f"System {n}") for n in range(5)]
    db.commit()
    for token in made:
        response = client.get("/api/v1/vouchers", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (200, 429)
        assert 1 <= len(tokens._providers_of_tokens) <= 2


@pytest.mark.postgres_only
def test_the_counters_are_an_unlogged_table_written_in_autocommit(app):
    """Their commits need not wait for the disk (a crash only starts the windows again), so
    an increment is one statement, without BEGIN and COMMIT round trips."""
    engine = app.extensions["voucher.engine"]
    with engine.connect() as connection:
        assert connection.execute(sa.text(
            "SELECT relpersistence FROM pg_class WHERE relname = 'rate_limit_counters'")
        ).scalar() == "u"
    storage = DatabaseStorage("database://", engine=engine)
    sent = []

    def record(_conn, cursor, statement, *_args):
        sent.append((statement.split()[0], cursor.connection.autocommit))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert storage.incr("k", 60) == 1
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert sent == [("INSERT", True)]
