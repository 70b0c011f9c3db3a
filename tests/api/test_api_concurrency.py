"""Parallel API requests against a real HTTP server on PostgreSQL."""

import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from collections import Counter

import pytest
import sqlalchemy as sa

from tests import factories
from voucher import clock
from voucher.redemptions.models import Redemption
from voucher.vouchers.models import Recurrence, Voucher, VoucherPeriod

pytestmark = pytest.mark.postgres_only


def _post_all(url: str, token: str, bodies_and_keys: list[tuple[dict, str]]) -> list:
    """POST every request at the same moment from its own thread; (status, body) each."""
    start = threading.Barrier(len(bodies_and_keys))
    results: list = [None] * len(bodies_and_keys)

    def send(i: int, body: dict, key: str) -> None:
        request = urllib.request.Request(  # noqa: S310 (our own loopback server)
            url, data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key,
                     "Content-Type": "application/json"})
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                results[i] = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as error:
            results[i] = (error.code, json.loads(error.read()))

    threads = [threading.Thread(target=send, args=(i, body, key))
               for i, (body, key) in enumerate(bodies_and_keys)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _setup(db, units: int = 1000):
    seller = factories.provider(db, services={factories.service_type(db): 3900})
    voucher = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                                units=units)
    token = factories.api_token(db, seller)
    db.commit()
    return voucher, token


def test_fifty_parallel_redemptions_of_one_unit_from_ten(db, live_url):
    voucher, token = _setup(db)
    url = f"{live_url}/api/v1/vouchers/{voucher.code}/redemptions"
    body = {"service_date": "2026-11-20", "units": 1}
    results = _post_all(url, token, [(body, f"key-{i}") for i in range(50)])
    statuses = Counter(status for status, _body in results)
    assert statuses == {201: 10, 409: 40}, results
    assert {body["code"] for status, body in results if status == 409} == {"insufficient_units"}
    db.rollback()
    assert db.get(Voucher, voucher.id).units_used == 1000
    assert db.execute(sa.select(sa.func.count()).select_from(Redemption)).scalar() == 10


def test_parallel_duplicates_with_one_key_record_once(db, live_url):
    voucher, token = _setup(db)
    url = f"{live_url}/api/v1/vouchers/{voucher.code}/redemptions"
    body = {"service_date": "2026-11-20", "units": 1.5}
    results = _post_all(url, token, [(body, "the-same-key")] * 12)
    assert {status for status, _body in results} == {201}, results
    assert len({json.dumps(body, sort_keys=True) for _status, body in results}) == 1
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(Redemption)).scalar() == 1
    assert db.get(Voucher, voucher.id).units_used == 150
    assert dt.date.fromisoformat(results[0][1]["service_date"]) == dt.date(2026, 11, 20)


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 (our own loopback server)
        url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.loads(response.read())


def test_parallel_redemptions_take_exactly_units_available(db, live_url):
    """A monthly voucher with 4 of November's 10 units left (and 114 in all): of 12 parallel
    one-unit events dated today, exactly the 4 that units_available promised are recorded."""
    seller = factories.provider(db, services={factories.service_type(db): 3900})
    voucher = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                                recurrence=Recurrence.MONTHLY, units=1000,
                                valid_from=dt.date(2026, 1, 1),
                                valid_until=dt.date(2026, 12, 31))
    factories.service_event(db, voucher, service_date=dt.date(2026, 11, 2), units=600)
    token = factories.api_token(db, seller)
    db.commit()
    today = clock.today().isoformat()
    voucher_url = f"{live_url}/api/v1/vouchers/{voucher.code}"
    before = _get(voucher_url, token)
    assert (before["units_remaining"], before["units_available"]) == (114, 4)

    body = {"service_date": today, "units": 1}
    results = _post_all(f"{voucher_url}/redemptions", token,
                        [(body, f"key-{i}") for i in range(12)])
    statuses = Counter(status for status, _body in results)
    assert statuses == {201: 4, 409: 8}, results
    assert {body["code"] for status, body in results if status == 409} == {"insufficient_units"}

    after = _get(voucher_url, token)
    assert (after["units_remaining"], after["units_available"]) == (110, 0)
    db.rollback()
    november = db.execute(sa.select(VoucherPeriod).where(
        VoucherPeriod.voucher_id == voucher.id,
        VoucherPeriod.starts_on == dt.date(2026, 11, 1))).scalar_one()
    assert november.units_used == november.units_granted == 1000
    recorded_today = db.execute(sa.select(sa.func.count(), sa.func.sum(Redemption.units)).where(
        Redemption.voucher_period_id == november.id, Redemption.source == "api")).one()
    assert tuple(recorded_today) == (4, 400)
    assert db.get(Voucher, voucher.id).units_used == 1000
