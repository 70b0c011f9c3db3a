"""The number of SQL statements of the busiest requests, on the demo data, pinned: a query per
row (an N+1) added to any of them fails here. The counts include everything the app's engine
runs for the request (the rate-limit counters, the audit chain, the login's lasting writes),
transaction control excepted; some differ by backend (the audit append is one statement on
PostgreSQL, three on SQLite).

A count that goes down is good news: lower the pin. One that goes up must be explained, and
must not grow with the data (add rows, as ``more_vouchers`` does, and count again)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import BACKEND
from voucher import clock
from voucher.catalogue.models import ServiceType
from voucher.providers.models import Provider
from voucher.vouchers.models import Voucher, VoucherStatus
from voucher.vouchers.units import units_available

DEMO_PROVIDER = "Hoivapalvelu Aurinko Oy"


def expect(counted, pinned: int | dict) -> None:
    """The count equals the pin (one figure, or one per backend)."""
    wanted = pinned[BACKEND] if isinstance(pinned, dict) else pinned
    assert counted.count == wanted, (
        f"{counted.count} statements, pinned at {wanted}:\n{counted.describe()}")


@pytest.fixture
def app_config(app_config):
    # Production's rate-limit storage: its counters are statements of every API request.
    return {**app_config, "RATELIMIT_STORAGE_URI": "database://"}


@pytest.fixture
def demo_provider(demo):
    return demo.execute(sa.select(Provider).where(Provider.legal_name == DEMO_PROVIDER)
                        ).scalar_one()


@pytest.fixture
def provider_api(client, demo, demo_provider):
    token = factories.api_token(demo, demo_provider, name="counting")
    demo.commit()
    headers = {"Authorization": f"Bearer {token}"}

    class Api:
        def get(self, path):
            return client.get("/api/v1" + path, headers=headers)

        def post(self, path, body, key):
            return client.post("/api/v1" + path, json=body,
                               headers={**headers, "Idempotency-Key": key})

    return Api()


def _new_vouchers(demo, provider, count: int) -> list[Voucher]:
    """Vouchers of 10 units a month from October, of a service the provider is paid for."""
    service = demo.get(ServiceType, demo.execute(sa.select(Voucher.service_type_id).where(
        Voucher.provider_id == provider.id, Voucher.status == VoucherStatus.ASSIGNED)
        .order_by(Voucher.id)).scalars().first())
    made = [factories.voucher(demo, service=service, assigned_to=provider,
                              valid_from=dt.date(2026, 10, 1), units=1000)
            for _ in range(count)]
    demo.commit()
    return made


@pytest.fixture
def more_vouchers(demo, demo_provider):
    """Ten more active vouchers of the demo provider, so that a query per row would show."""
    return _new_vouchers(demo, demo_provider, 10)


# ---------------------------------------------------------------------------- provider API

def test_a_redemption_through_the_api(provider_api, demo, demo_provider, count_queries):
    voucher = _new_vouchers(demo, demo_provider, 1)[0]
    assert units_available(demo, voucher, clock.today()) >= 200
    demo.commit()
    body = {"service_date": clock.today().isoformat(), "units": 1}
    provider_api.post(f"/vouchers/{voucher.code}/redemptions", body, "warm-up")
    with count_queries() as counted:
        answer = provider_api.post(f"/vouchers/{voucher.code}/redemptions", body, "counted")
    assert answer.status_code == 201, answer.get_json()
    # The rate limit's counter (the token's provider, for its key, was read by the warm-up and
    # is remembered: a token's provider never changes), the token, the voucher with its
    # price, the period's and the voucher's units, the event, the idempotency record, and the
    # audit append (PostgreSQL: one statement; SQLite: the newest hash, the event, the chain
    # head). The X-RateLimit-* headers reuse the counter's own answer.
    expect(counted, {"sqlite": 10, "postgresql": 8})


def test_the_api_voucher_list(provider_api, more_vouchers, count_queries):
    with count_queries() as counted:
        answer = provider_api.get("/vouchers")
    assert answer.status_code == 200
    assert len(answer.get_json()["items"]) >= 10
    expect(counted, 7)


# ------------------------------------------------------------------------------ the register

@pytest.mark.parametrize("query", ["", "?service=HOME_CARE&municipality=977",
                                   "?q=hoiva&language=sv", "?sort=price"])
def test_the_register_search_page(client, demo, count_queries, query):
    with count_queries() as counted:
        answer = client.get("/providers/" + query)
    assert answer.status_code == 200
    # The form's choices (2), the page of providers with the total, the providers with their
    # offers, areas, languages and offers' services (5), the ratings.
    expect(counted, 9)


def test_the_counters_housekeeping_does_not_move_a_pin(client, demo, count_queries,
                                                        monkeypatch):
    """The rate-limit counters' chance pruning (here on every increment) is not counted: a
    pin that counted it failed about once in PRUNE_ONE_IN runs."""
    from voucher import rate_limits

    monkeypatch.setattr(rate_limits, "PRUNE_ONE_IN", 1)
    with count_queries() as counted:
        answer = client.get("/api/v1/providers")
    assert answer.status_code == 200
    expect(counted, 8)


@pytest.mark.parametrize(("query", "pinned"), [
    ("", 8), ("?service=HOME_CARE&municipality=977", 10), ("?sort=rating", 8)])
def test_the_register_api(client, demo, count_queries, query, pinned):
    with count_queries() as counted:
        answer = client.get("/api/v1/providers" + query)
    assert answer.status_code == 200
    assert answer.get_json()["items"]
    expect(counted, pinned)


def test_the_service_types_api_reads_the_rates_at_once(client, demo, count_queries):
    """The rates in force came one statement per service type; another service adds none."""
    counts = []
    for code in ("FIRST_EXTRA", "SECOND_EXTRA"):
        with count_queries() as counted:
            answer = client.get("/api/v1/service-types")
        assert answer.status_code == 200
        counts.append(counted.count)
        factories.service_type(demo, code)
        demo.commit()
    assert len(answer.get_json()["items"]) >= 2
    assert counts[0] == counts[1], counts
    # The rate-limit counter, the service types, their rates.
    expect(counted, 3)


# ------------------------------------------------------------------------------ staff pages

def test_the_case_managers_voucher_list(client, auth, demo, count_queries):
    auth.login("casemanager@example.fi")
    with count_queries() as counted:
        answer = client.get("/vouchers/")
    assert answer.status_code == 200
    # The user, the count and the page (with each voucher's client, service, municipality
    # and provider in the same query), the approvals waiting, the decisions in progress, the
    # changes of decisions waiting for approval (one query, whatever their number).
    # Before: 62 (the client, service, municipality and provider of each row, one by one).
    expect(counted, 6)


@pytest.mark.parametrize(("path", "pinned"), [
    # Budget use: before, 15 (each budget's municipality and service, one by one); budget use
    # and cost allocation read the accounting dimensions in force once.
    ("/reports/", 8), ("/reports/monthly", 10), ("/reports/quarterly", 10),
    ("/reports/providers", 4), ("/reports/cost-allocation", 5),
    # One aggregate query per check, whatever the number of rows (the municipalities and
    # service types read once for all the checks: 41 when three of them read their own): the
    # posting files' checks (six, whatever the number of batches), then the bank's word (the
    # period's batches and payments, their imported statuses, and the figures sent = confirmed
    # + rejected or returned + awaiting).
    ("/reports/reconciliation", 36)])
def test_the_report_pages(client, auth, demo, count_queries, path, pinned):
    auth.login("admin@example.fi")
    with count_queries() as counted:
        answer = client.get(path)
    assert answer.status_code == 200
    expect(counted, pinned)


@pytest.mark.parametrize(("email", "pinned"), [
    # Before: 19 (each offer's pending price, one by one).
    # Then one more: the payments the bank rejected or returned that the next run pays again.
    ("admin@example.fi", 17),
    # Before: 12 (each follow-up figure counted and its first page of vouchers read); then
    # two figures more, counted in one query each: letters to post, requests for review.
    ("casemanager@example.fi", 10),
    # Before: 8 (the lines of its latest invoices, which the page does not show); then one
    # more: the payments of those invoices, in one query (whether the bank returned one).
    ("provider@example.fi", 8), ("client@example.fi", 10)])
def test_each_roles_home_page(client, auth, demo, count_queries, email, pinned):
    auth.login(email)
    with count_queries() as counted:
        answer = client.get("/")
    assert answer.status_code == 200
    expect(counted, pinned)
