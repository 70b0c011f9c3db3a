"""Provider API fixtures: a provider with a token, an assigned voucher, an API client."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.browser.conftest import live_url  # noqa: F401  (a real server, for concurrency)


@pytest.fixture
def seller(db):
    """An approved provider whose home-care price is 39 € (voucher value 32 €)."""
    return factories.provider(db, services={factories.service_type(db): 3900})


@pytest.fixture
def voucher(db, seller):
    """10 units of home care for Oct–Dec 2026, assigned to ``seller``."""
    row = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                            valid_from=dt.date(2026, 10, 1), units=1000)
    db.commit()
    return row


@pytest.fixture
def token(db, seller):
    secret = factories.api_token(db, seller)
    db.commit()
    return secret


class ApiClient:
    """The test client with the bearer token and JSON."""

    def __init__(self, client, token):
        self.client = client
        self.token = token

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path, headers=None, **kwargs):
        return self.client.get("/api/v1" + path, headers=self._headers(headers), **kwargs)

    def post(self, path, json=None, headers=None, **kwargs):
        return self.client.post("/api/v1" + path, json=json, headers=self._headers(headers),
                                **kwargs)

    def redeem(self, code, body, key="key-1", headers=None):
        return self.post(f"/vouchers/{code}/redemptions", json=body,
                         headers={"Idempotency-Key": key, **(headers or {})})


@pytest.fixture
def api(client, token):
    return ApiClient(client, token)
