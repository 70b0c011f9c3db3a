"""A suspended or revoked provider records nothing new and invoices nothing (API, portal form,
CSV import, corrections, monthly invoices), and still sees its history and what it is owed."""

import datetime as dt
from io import BytesIO

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import post_form
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.errors import DomainError
from voucher.invoicing.models import Invoice
from voucher.invoicing.services import approve_invoice, create_invoice
from voucher.providers.models import ProviderStatus
from voucher.redemptions.corrections import correct_redemption
from voucher.redemptions.models import Redemption
from voucher.redemptions.services import EventInput, record_redemption

SYSTEM = Actor.system("test")
BODY = {"service_date": "2026-11-20", "units": 2, "unit_price_cents": 3900}
STATES = [ProviderStatus.SUSPENDED, ProviderStatus.REVOKED]


@pytest.fixture
def seller(db):
    return factories.provider(db, services={factories.service_type(db): 3900})


@pytest.fixture
def voucher(db, seller):
    row = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                            valid_from=dt.date(2026, 10, 1), units=1000)
    db.commit()
    return row


@pytest.fixture
def history(db, seller, voucher):
    """An October event invoiced and approved (owed), and a November event recorded."""
    factories.service_event(db, voucher, service_date=dt.date(2026, 10, 5), units=200)
    invoice = create_invoice(db, provider_id=seller.id, period=dt.date(2026, 10, 1),
                             actor=SYSTEM)
    approve_invoice(db, invoice_id=invoice.id, actor=SYSTEM)
    factories.service_event(db, voucher, service_date=dt.date(2026, 11, 2), units=100)
    db.commit()
    return invoice


def _stop(db, seller, status):
    seller.status = status
    db.commit()


def _count(db, model=Redemption):
    db.rollback()
    return db.execute(sa.select(sa.func.count()).select_from(model)).scalar()


@pytest.mark.parametrize("status", STATES)
def test_the_api_refuses_recording_and_invoicing_but_shows_the_history(client, db, seller,
                                                                      voucher, history,
                                                                      status):
    token = factories.api_token(db, seller)
    _stop(db, seller, status)
    headers = {"Authorization": f"Bearer {token}"}
    before = _count(db)
    response = client.post(f"/api/v1/vouchers/{voucher.code}/redemptions", json=BODY,
                           headers={**headers, "Idempotency-Key": "k1"})
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "provider_not_active"
    response = client.post("/api/v1/invoices", json={"period": "2026-11"}, headers=headers)
    # an open month is refused for the provider's state before the month is looked at
    assert response.status_code == 409 and response.get_json()["code"] == "provider_not_active"
    assert _count(db) == before
    # what was recorded, invoiced and is still owed stays readable
    assert client.get("/api/v1/redemptions", headers=headers).get_json()["total"] == 2
    invoices = client.get("/api/v1/invoices", headers=headers).get_json()["items"]
    assert [(i["id"], i["status"]) for i in invoices] == [(history.id, "approved")]
    assert client.get(f"/api/v1/vouchers/{voucher.code}", headers=headers).status_code == 200


@pytest.mark.parametrize("status", STATES)
def test_every_service_path_refuses(db, seller, voucher, history, status):
    _stop(db, seller, status)
    [invoiced] = history.lines
    refusals = []
    for attempt in (
        lambda: record_redemption(db, voucher=voucher, source="portal", actor=SYSTEM,
                                  event=EventInput(service_date=dt.date(2026, 11, 20),
                                                   units=100)),
        lambda: correct_redemption(db, provider_id=seller.id,
                                   redemption_id=invoiced.redemption_id, replacement=None,
                                   actor=SYSTEM),
        lambda: create_invoice(db, provider_id=seller.id, period=dt.date(2026, 11, 1),
                               actor=SYSTEM),
    ):
        try:
            attempt()
        except DomainError as exc:
            refusals.append(exc.code)
        else:
            refusals.append("done")
        db.rollback()
    assert refusals == ["provider_not_active"] * 3
    assert _count(db) == 2 and _count(db, Invoice) == 1


@pytest.fixture
def provider_login(db, auth, seller):
    factories.user(db, role=Role.PROVIDER, provider_id=seller.id, email="sari@example.fi")
    db.commit()
    auth.login("sari@example.fi", factories.PASSWORD)


def test_the_portal_refuses_with_a_clear_message(client, db, seller, voucher, history,
                                                 provider_login):
    _stop(db, seller, ProviderStatus.SUSPENDED)
    before = _count(db)
    response = post_form(client, f"/provider/service-events/new/{voucher.code}", {
        "service_date": "2026-11-20", "units": "1", "action": "save"})
    assert response.status_code == 422
    assert "keskeytetty" in response.get_data(as_text=True).lower()
    content = ("voucher_code;service_date;units\r\n"
               f"{voucher.code};20.11.2026;1\r\n").encode()
    response = post_form(client, "/provider/service-events/upload",
                         {"file": (BytesIO(content), "tapahtumat.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 422
    assert "keskeytetty" in response.get_data(as_text=True).lower()
    response = post_form(client, "/provider/invoices", {"period": "2026-10"})
    assert response.status_code == 409
    assert "keskeytetty" in response.get_data(as_text=True).lower()
    assert _count(db) == before
    # the history and the approved invoice (still owed) remain visible
    assert client.get("/provider/service-events/").status_code == 200
    page = client.get("/provider/invoices")
    assert page.status_code == 200 and str(history.number) in page.get_data(as_text=True)
    assert client.get(f"/provider/invoices/{history.id}").status_code == 200
