"""Too many requests: 429 rate_limited as problem+json with Retry-After."""

import pytest


@pytest.fixture
def app_config(app_config):
    return {**app_config, "API_RATE_LIMIT": "3 per minute"}


def test_the_limit_answers_429_rate_limited_with_retry_after(api, voucher):
    for _i in range(3):
        assert api.get("/vouchers").status_code == 200
    response = api.get("/vouchers")
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["code"], body["status"]) == ("rate_limited", 429)
    assert 0 < int(response.headers["Retry-After"]) <= 60
    refused = api.redeem(voucher.code, {"service_date": "2026-11-20", "units": 1})
    assert refused.status_code == 429 and refused.get_json()["code"] == "rate_limited"


def test_the_limit_is_per_token(api, client, db, seller, voucher):
    from tests import factories

    second = factories.api_token(db, seller, name="Second system")
    db.commit()
    for _i in range(4):
        api.get("/vouchers")
    assert api.get("/vouchers").status_code == 429
    response = client.get("/api/v1/vouchers", headers={"Authorization": f"Bearer {second}"})
    assert response.status_code == 200
