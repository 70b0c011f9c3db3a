"""Invoices in the portals: the provider creates the month's invoice, the admin decides."""

import datetime as dt

import pytest

from tests import factories
from tests.conftest import post_form
from voucher.accounts.models import Role
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.redemptions.models import Redemption, RedemptionStatus


@pytest.fixture
def seller(db):
    return factories.provider(db, services={factories.service_type(db): 3900},
                              name="Hoivapalvelu Aurinko Oy")


@pytest.fixture
def october_events(db, seller):
    voucher = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                                valid_from=dt.date(2026, 10, 1))
    events = [factories.service_event(db, voucher, service_date=dt.date(2026, 10, day))
              for day in (6, 13)]
    factories.service_event(db, voucher, service_date=dt.date(2026, 11, 3))
    factories.user(db, role=Role.PROVIDER, provider_id=seller.id, email="sari@example.fi")
    factories.user(db, role=Role.ADMIN, email="anna@example.fi")
    db.commit()
    return events


def test_the_provider_invoices_a_closed_month(client, db, auth, october_events):
    auth.login("sari@example.fi", factories.PASSWORD)
    page = client.get("/provider/invoices").get_data(as_text=True)
    assert "Luo lasku kuukaudelta 10/2026" in page
    assert "Kuukausi ei ole vielä päättynyt." in page  # November
    response = post_form(client, "/provider/invoices", {"period": "2026-10"})
    assert response.status_code == 303
    db.rollback()
    invoice = db.query(Invoice).one()
    assert response.headers["Location"] == f"/provider/invoices/{invoice.id}"
    text = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lasku 1" in text and "100 00016" in text and "64,00" in text
    pdf = client.get(f"/provider/invoices/{invoice.id}/pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    again = post_form(client, "/provider/invoices", {"period": "2026-10"})
    assert again.status_code == 409 and "ei ole laskutettavaa" in again.get_data(as_text=True)
    early = post_form(client, "/provider/invoices", {"period": "2026-11"})
    assert early.status_code == 422


def test_another_providers_invoice_is_not_found(client, db, auth, seller, october_events):
    invoice = factories.monthly_invoice(db, seller)
    other = factories.provider(db)
    factories.user(db, role=Role.PROVIDER, provider_id=other.id, email="other@example.fi")
    db.commit()
    auth.login("other@example.fi", factories.PASSWORD)
    assert client.get(f"/provider/invoices/{invoice.id}").status_code == 404
    assert client.get(f"/provider/invoices/{invoice.id}/pdf").status_code == 404


def test_the_admin_approves(client, db, auth, seller, october_events):
    invoice = factories.monthly_invoice(db, seller)
    db.commit()
    auth.login("anna@example.fi", factories.PASSWORD)
    listing = client.get("/admin/invoices").get_data(as_text=True)
    assert "1 lasku odottaa päätöstäsi." in listing and "Hoivapalvelu Aurinko Oy" in listing
    url = f"/admin/invoices/{invoice.id}"
    assert "Hyväksy lasku" in client.get(url).get_data(as_text=True)
    assert post_form(client, f"{url}/approve", {}, form_page=url).status_code == 303
    db.rollback()
    assert db.get(Invoice, invoice.id).status == InvoiceStatus.APPROVED
    assert {db.get(Redemption, e.id).status for e in october_events} == {
        RedemptionStatus.INVOICED}
    assert client.get(f"{url}/pdf").mimetype == "application/pdf"


def test_the_admin_rejects_with_a_reason(client, db, auth, seller, october_events):
    invoice = factories.monthly_invoice(db, seller)
    db.commit()
    auth.login("anna@example.fi", factories.PASSWORD)
    url = f"/admin/invoices/{invoice.id}"
    refused = post_form(client, f"{url}/reject", {"reason": ""}, form_page=url)
    assert refused.status_code == 422
    assert "Kerro palveluntuottajalle, miksi lasku hylätään." in refused.get_data(as_text=True)
    done = post_form(client, f"{url}/reject", {"reason": "Tuntimäärä 13.10. on väärin."},
                     form_page=url)
    assert done.status_code == 303
    db.rollback()
    assert db.get(Invoice, invoice.id).status == InvoiceStatus.REJECTED
    assert {db.get(Redemption, e.id).status for e in october_events} == {
        RedemptionStatus.RECORDED}
    rejected = client.get(url).get_data(as_text=True)
    assert "Tuntimäärä 13.10. on väärin." in rejected and "Hylkää lasku" not in rejected


def test_providers_cannot_open_the_admin_pages(client, auth, october_events):
    auth.login("sari@example.fi", factories.PASSWORD)
    assert client.get("/admin/invoices").status_code == 403
