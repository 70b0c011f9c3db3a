"""The provider's monthly invoice as Finvoice 3.0: valid against Finance Finland's schema
(Finvoice3.0.xsd beside this file), with the authority's e-invoice address from the settings,
one row per service event, VAT-exempt, comma decimals; downloadable by the provider and the
administrator, and through the API (another provider's invoice is 404)."""

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from tests import factories
from tests.settlement.conftest import events, voucher_for
from voucher.audit.services import Actor
from voucher.invoicing.finvoice import Buyer, amount, build_finvoice, quantity
from voucher.redemptions.corrections import correct_redemption

SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("Finvoice3.0.xsd"))
ACTOR = Actor.system("test")


@pytest.fixture
def invoice(db, world):
    voucher = voucher_for(db, world, world.aurinko)
    made = factories.invoice(db, world.aurinko, events(db, voucher, (2, 150), (9, 200)))
    db.commit()
    return made


def _finvoice(app, db, invoice, **kwargs) -> ET.Element:
    content = build_finvoice(db, invoice, buyer=Buyer.from_config(app.config), **kwargs)
    SCHEMA.validate(content.decode("utf-8"))
    assert content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(  # noqa: S314 (our own output)
        content)


def test_amounts_and_quantities_are_written_as_finvoice_writes_them():
    assert (amount(11200), amount(5), amount(-3200), amount(0)) == (
        "112,00", "0,05", "-32,00", "0,00")
    assert (quantity(150), quantity(200), quantity(-125)) == ("1,5", "2", "-1,25")


def test_the_invoice_is_a_valid_finvoice_with_the_authoritys_address(app, db, world, invoice):
    root = _finvoice(app, db, invoice, supplier_number="20001")
    assert root.get("Version") == "3.0"
    assert root.findtext("MessageTransmissionDetails/MessageReceiverDetails/ToIdentifier") == \
        app.config["AUTHORITY_OVT"] == "003702134563"
    assert root.findtext(
        "MessageTransmissionDetails/MessageReceiverDetails/ToIntermediator") == "003721291126"
    assert root.findtext("BuyerOrganisationUnitNumber") == "003702134563"
    assert root.findtext("BuyerPartyDetails/BuyerPartyIdentifier") == "0213456-3"
    assert root.findtext("SellerPartyDetails/SellerPartyIdentifier") == \
        world.aurinko.business_id
    assert root.findtext("SellerPartyDetails/SellerOrganisationName") == "Hoiva Aurinko Oy"
    details = root.find("InvoiceDetails")
    assert details.findtext("InvoiceTypeCode") == "INV01"
    assert details.findtext("InvoiceNumber") == str(invoice.number)
    assert details.findtext("BuyersSellerIdentifier") == "20001"
    assert details.findtext("InvoiceTotalVatIncludedAmount") == "112,00"
    assert details.findtext("InvoiceTotalVatAmount") == "0,00"
    assert details.findtext("VatSpecificationDetails/VatCode") == "E"
    assert "AVL 37 §" in details.findtext("VatSpecificationDetails/VatFreeText")
    rows = root.findall("InvoiceRow")
    assert [(r.findtext("DeliveredQuantity"), r.findtext("RowAmount")) for r in rows] == [
        ("1,5", "48,00"), ("2", "64,00")]
    assert rows[0].findtext("RowDeliveryDate") == "20261102"
    assert rows[0].find("DeliveredQuantity").get("QuantityUnitCode") == "h"
    assert root.findtext("EpiDetails/EpiPaymentInstructionDetails/"
                         "EpiRemittanceInfoIdentifier") == invoice.reference
    assert root.findtext("EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/"
                         "EpiAccountID") == invoice.iban


def test_a_month_of_corrections_alone_is_a_credit_note(app, db, world, settle, invoice):
    settle()
    correct_redemption(db, provider_id=world.aurinko.id,
                       redemption_id=invoice.lines[0].redemption_id, replacement=None,
                       actor=ACTOR)
    db.commit()
    from voucher import clock
    from voucher.invoicing.services import create_invoice

    with clock.frozen_at(dt.datetime(2026, 12, 3, 12, tzinfo=dt.UTC)):
        credit = create_invoice(db, provider_id=world.aurinko.id,
                                period=dt.date(2026, 11, 1), actor=ACTOR)
    db.commit()
    root = _finvoice(app, db, credit)
    assert root.findtext("InvoiceDetails/InvoiceTypeCode") == "INV02"
    assert root.findtext("InvoiceDetails/InvoiceTotalVatIncludedAmount") == "-48,00"
    assert root.findtext("InvoiceRow/DeliveredQuantity") == "-1,5"


def test_the_provider_and_the_administrator_download_it(client, auth, db, world, invoice):
    seller = factories.user(db, role=factories.Role.PROVIDER, email="p@example.fi",
                            provider_id=world.aurinko.id)
    other = factories.user(db, role=factories.Role.PROVIDER, email="q@example.fi",
                           provider_id=world.kuura.id)
    admin = factories.user(db, email="finance@example.fi")
    db.commit()
    auth.login(seller.email, factories.PASSWORD)
    page = client.get(f"/provider/invoices/{invoice.id}").get_data(as_text=True)
    assert f"/provider/invoices/{invoice.id}/finvoice.xml" in page
    mine = client.get(f"/provider/invoices/{invoice.id}/finvoice.xml")
    assert mine.status_code == 200 and mine.mimetype == "application/xml"
    SCHEMA.validate(mine.get_data(as_text=True))
    auth.logout()
    auth.login(other.email, factories.PASSWORD)
    assert client.get(f"/provider/invoices/{invoice.id}/finvoice.xml").status_code == 404
    auth.logout()
    auth.login(admin.email, factories.PASSWORD)
    theirs = client.get(f"/admin/invoices/{invoice.id}/finvoice.xml")
    assert theirs.status_code == 200 and theirs.data == mine.data
    assert f'filename="finvoice-{invoice.number}.xml"' in theirs.headers["Content-Disposition"]
    root = ET.fromstring(  # noqa: S314 (our own output)
        theirs.data)
    assert root.findtext("InvoiceDetails/BuyersSellerIdentifier")  # the supplier number


def test_the_api_gives_it_to_its_own_provider_only(client, db, world, invoice):
    token = factories.api_token(db, world.aurinko)
    other = factories.api_token(db, world.kuura)
    db.commit()
    url = f"/api/v1/invoices/{invoice.id}/finvoice"
    answer = client.get(url, headers={"Authorization": f"Bearer {token}",
                                      "Accept": "application/xml"})
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    SCHEMA.validate(answer.get_data(as_text=True))
    refused = client.get(url, headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 404 and refused.json["code"] == "not_found"
    assert client.get(url).status_code == 401
    json_only = client.get(url, headers={"Authorization": f"Bearer {token}",
                                         "Accept": "application/json"})
    assert json_only.status_code == 406 and json_only.json["code"] == "not_acceptable"
