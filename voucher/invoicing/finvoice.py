"""A provider's monthly invoice to the authority as a Finvoice 3.0 e-invoice.

Finance Finland's Finvoice 3.0 (the XML Finnish e-invoice operators carry). The seller is the
provider as it was on the invoice (business ID, name, account); the buyer and the recipient
are the authority with its e-invoice address (OVT code) and its operator's intermediator id
from the settings (``AUTHORITY_BUSINESS_ID``, ``AUTHORITY_OVT``,
``AUTHORITY_EINVOICE_OPERATOR``). The message's sender is the provider's own e-invoice address
by the usual rule (``0037`` and its business ID's digits) through its bank (its BIC), as for an
e-invoice sent through one's bank; an operator that sends for the provider writes its own.
Each service event is a row; the amounts are what the authority pays (the voucher shares),
with a comma as the decimal sign as Finvoice writes them. Social services bought with service
vouchers are exempt from VAT (Arvonlisäverolaki 37 §): VAT code ``E`` at 0 %, with the
exemption's text. A month whose corrections outweigh its events is a credit note (INV02).
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.catalogue.models import ServiceType, Unit
from voucher.invoicing.models import Invoice, InvoiceLine
from voucher.invoicing.services import period_end
from voucher.money import UNIT_SCALE
from voucher.redemptions.models import Redemption
from voucher.vouchers.models import Voucher

VAT_EXEMPT_CODE = "E"
#: At most 70 characters (the schema's limit).
VAT_EXEMPT_TEXT = "Arvonlisäveroton sosiaalihuollon palvelu, AVL 37 §"
#: Finvoice's quantity units (UN/ECE Rec. 20 where one exists).
_QUANTITY_UNITS = {Unit.HOUR: "h", Unit.VISIT: "krt", Unit.DAY: "pv", Unit.MONTH: "kk"}


@dataclass(frozen=True)
class Buyer:
    """The authority as the invoices' buyer (from the settings)."""

    name: str
    business_id: str | None
    ovt: str | None
    operator: str | None

    @classmethod
    def from_config(cls, config) -> Buyer:
        return cls(config["AUTHORITY_NAME"], config.get("AUTHORITY_BUSINESS_ID"),
                   config.get("AUTHORITY_OVT"), config.get("AUTHORITY_EINVOICE_OPERATOR"))


def amount(cents: int) -> str:
    """Cents as Finvoice writes an amount: 1234 → '12,34', -50 → '-0,50'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole},{part:02d}"


def quantity(hundredths: int) -> str:
    """Units in hundredths as a Finvoice quantity: 150 → '1,5', 200 → '2'."""
    sign = "-" if hundredths < 0 else ""
    whole, part = divmod(abs(hundredths), UNIT_SCALE)
    return f"{sign}{whole}" + (f",{part:02d}".rstrip("0") if part else "")


def ovt_of(business_id: str) -> str:
    """The default e-invoice address of a Finnish company: 0037 and its business ID's
    digits."""
    return "0037" + business_id.replace("-", "")


def _date(parent, name: str, day: dt.date) -> None:
    ET.SubElement(parent, name, Format="CCYYMMDD").text = day.strftime("%Y%m%d")


def _text(parent, name: str, value, limit: int | None = None, **attributes):
    element = ET.SubElement(parent, name, **attributes)
    text = str(value)
    element.text = text[:limit] if limit else text
    return element


def _money(parent, name: str, cents: int):
    return _text(parent, name, amount(cents), AmountCurrencyIdentifier="EUR")


def _services_of(session: Session, invoice: Invoice) -> dict[int, ServiceType]:
    """Line id → the service type of its voucher."""
    rows = session.execute(
        sa.select(InvoiceLine.id, ServiceType)
        .join(Redemption, Redemption.id == InvoiceLine.redemption_id)
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .join(ServiceType, ServiceType.id == Voucher.service_type_id)
        .where(InvoiceLine.invoice_id == invoice.id))
    return dict(rows.all())


def build_finvoice(session: Session, invoice: Invoice, *, buyer: Buyer,
                   supplier_number: str | None = None) -> bytes:
    """The invoice as Finvoice 3.0 XML (UTF-8). ``supplier_number`` is the provider's number
    in the authority's purchase ledger (BuyersSellerIdentifier), when it has one."""
    provider = invoice.provider
    services = _services_of(session, invoice)
    invoice_day = clock.local(invoice.created_at).date()
    total = invoice.voucher_total_cents
    root = ET.Element("Finvoice", Version="3.0")
    if invoice.bic and buyer.ovt and buyer.operator:
        transmission = ET.SubElement(root, "MessageTransmissionDetails")
        sender = ET.SubElement(transmission, "MessageSenderDetails")
        _text(sender, "FromIdentifier", ovt_of(invoice.business_id))
        _text(sender, "FromIntermediator", invoice.bic)
        receiver = ET.SubElement(transmission, "MessageReceiverDetails")
        _text(receiver, "ToIdentifier", buyer.ovt)
        _text(receiver, "ToIntermediator", buyer.operator)
        details = ET.SubElement(transmission, "MessageDetails")
        _text(details, "MessageIdentifier", f"{invoice.business_id}-{invoice.number}")
        _text(details, "MessageTimeStamp",
              invoice.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    seller = ET.SubElement(root, "SellerPartyDetails")
    _text(seller, "SellerPartyIdentifier", invoice.business_id)
    _text(seller, "SellerOrganisationName", invoice.provider_name, 70)
    _text(seller, "SellerOrganisationTaxCode", "FI" + invoice.business_id.replace("-", ""))
    if provider.street_address and provider.city and provider.postal_code:
        address = ET.SubElement(seller, "SellerPostalAddressDetails")
        _text(address, "SellerStreetName", provider.street_address, 35)
        _text(address, "SellerTownName", provider.city, 35)
        _text(address, "SellerPostCodeIdentifier", provider.postal_code)
        _text(address, "CountryCode", "FI")
    _text(root, "SellerOrganisationUnitNumber", ovt_of(invoice.business_id))
    information = ET.SubElement(root, "SellerInformationDetails")
    account = ET.SubElement(information, "SellerAccountDetails")
    _text(account, "SellerAccountID", invoice.iban, IdentificationSchemeName="IBAN")
    if invoice.bic:
        _text(account, "SellerBic", invoice.bic, IdentificationSchemeName="BIC")
    if buyer.ovt:
        _text(root, "InvoiceRecipientOrganisationUnitNumber", buyer.ovt)
    party = ET.SubElement(root, "BuyerPartyDetails")
    if buyer.business_id:
        _text(party, "BuyerPartyIdentifier", buyer.business_id)
    _text(party, "BuyerOrganisationName", buyer.name, 70)
    if buyer.ovt:
        _text(root, "BuyerOrganisationUnitNumber", buyer.ovt)
    details = ET.SubElement(root, "InvoiceDetails")
    credit = total < 0
    _text(details, "InvoiceTypeCode", "INV02" if credit else "INV01",
          CodeListAgencyIdentifier="SPY")
    _text(details, "InvoiceTypeText", "HYVITYSLASKU" if credit else "LASKU")
    _text(details, "OriginCode", "Original")
    _text(details, "InvoiceNumber", invoice.number)
    _date(details, "InvoiceDate", invoice_day)
    _date(details, "InvoicingPeriodStartDate", invoice.period)
    _date(details, "InvoicingPeriodEndDate", period_end(invoice.period))
    if supplier_number:
        _text(details, "BuyersSellerIdentifier", supplier_number)
    _money(details, "InvoiceTotalVatExcludedAmount", total)
    _money(details, "InvoiceTotalVatAmount", 0)
    _money(details, "InvoiceTotalVatIncludedAmount", total)
    vat = ET.SubElement(details, "VatSpecificationDetails")
    _money(vat, "VatBaseAmount", total)
    _text(vat, "VatRatePercent", "0")
    _text(vat, "VatCode", VAT_EXEMPT_CODE)
    _money(vat, "VatRateAmount", 0)
    _text(vat, "VatFreeText", VAT_EXEMPT_TEXT)
    _text(details, "InvoiceFreeText",
          f"Palvelusetelilasku {invoice.period.month}/{invoice.period.year}: palvelusetelin "
          "osuus. Asiakkaiden omavastuut eivät sisälly.", 512)
    terms = ET.SubElement(details, "PaymentTermsDetails")
    _text(terms, "PaymentTermsFreeText", "Maksetaan tilityksessä hyväksymisen jälkeen")
    for line in invoice.lines:
        row = ET.SubElement(root, "InvoiceRow")
        service = services.get(line.id)
        name = service.name_fi if service else "Palveluseteli"
        _text(row, "ArticleIdentifier", service.code if service else "VOUCHER", 35)
        _text(row, "ArticleName", f"{name} {line.voucher_code}", 100)
        _text(row, "DeliveredQuantity", quantity(line.units),
              QuantityUnitCode=_QUANTITY_UNITS.get(service.unit, "kpl") if service else "kpl")
        _date(row, "RowDeliveryDate", line.service_date)
        _text(row, "RowFreeText",
              f"Hinta {amount(line.unit_price_cents)} €, omavastuu "
              f"{amount(line.client_pays_cents)} €" + (" (oikaisu)" if line.units < 0 else ""),
              512)
        _text(row, "RowVatRatePercent", "0")
        _text(row, "RowVatCode", VAT_EXEMPT_CODE)
        _money(row, "RowVatAmount", 0)
        _money(row, "RowVatExcludedAmount", line.voucher_pays_cents)
        _money(row, "RowAmount", line.voucher_pays_cents)
    epi = ET.SubElement(root, "EpiDetails")
    identification = ET.SubElement(epi, "EpiIdentificationDetails")
    _date(identification, "EpiDate", invoice_day)
    _text(identification, "EpiReference", "0")
    parties = ET.SubElement(epi, "EpiPartyDetails")
    bank = ET.SubElement(parties, "EpiBfiPartyDetails")
    if invoice.bic:
        _text(bank, "EpiBfiIdentifier", invoice.bic, IdentificationSchemeName="BIC")
    beneficiary = ET.SubElement(parties, "EpiBeneficiaryPartyDetails")
    _text(beneficiary, "EpiNameAddressDetails", invoice.provider_name, 35)
    _text(beneficiary, "EpiBei", invoice.business_id)
    _text(beneficiary, "EpiAccountID", invoice.iban, IdentificationSchemeName="IBAN")
    instruction = ET.SubElement(epi, "EpiPaymentInstructionDetails")
    _text(instruction, "EpiRemittanceInfoIdentifier", invoice.reference,
          IdentificationSchemeName="SPY")
    _text(instruction, "EpiInstructedAmount", amount(max(total, 0)),
          AmountCurrencyIdentifier="EUR")
    _text(instruction, "EpiCharge", "SHA", ChargeOption="SHA")
    _date(instruction, "EpiDateOptionDate", invoice_day + dt.timedelta(days=14))
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") \
        + b"\n"


def invoice_finvoice(session: Session, invoice: Invoice, config) -> bytes:
    """The invoice's Finvoice with the buyer from the settings and the provider's supplier
    number in force on the invoice's date (the page, the download and the API give this)."""
    from voucher.accounting.dimensions import supplier_numbers_in_force

    number = supplier_numbers_in_force(session, clock.local(invoice.created_at).date(),
                                       [invoice.provider_id]).get(invoice.provider_id)
    return build_finvoice(session, invoice, buyer=Buyer.from_config(config),
                          supplier_number=number)
