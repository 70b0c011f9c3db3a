"""The payment file: a SEPA credit transfer, ISO 20022 pain.001.001.09 (or .03 for a bank that
still wants it, ``VOUCHER_PAYMENT_FILE_FORMAT``), for the authority's bank.

In .09 the debtor (the authority, from the settings) and every creditor (the provider's
address in its record) carry a structured postal address (street, postcode, town, country),
as banks require of SEPA credit transfers from November 2026; the planning holds a provider
whose address is incomplete before any file is made (``planning.py``).

``sepaxml`` builds the document (one payment information block, batch booking); we then set
our own message id and creation time, turn the remittance of a single-invoice payment into a
structured creditor reference (the Finnish *viitenumero* or an RF reference, type SCOR, as
Finnish banks expect), and validate the result against the XSD shipped with ``sepaxml``. A
document that does not validate is never stored.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sepaxml import SepaTransfer
from stdnum import bic as bic_number
from stdnum import iban as iban_number

from voucher import clock
from voucher.errors import DomainError
from voucher.text import clean_text, refused_character

#: The message definitions a payment file can be written in; the first is the default.
FORMATS = ("pain.001.001.09", "pain.001.001.03")
DEFAULT_FORMAT = FORMATS[0]
_REMITTANCE_MAX = 140


def namespace(schema: str) -> str:
    return f"urn:iso:std:iso:20022:tech:xsd:{schema}"


class InvalidPaymentFile(DomainError):
    code = "invalid_payment_file"
    status = 409
    message = _l("The payment file does not conform to the %(schema)s schema (%(reason)s). "
                 "Nothing was settled.")


@dataclass(frozen=True)
class Address:
    """A structured postal address as it goes into the file (PstlAdr)."""

    street: str | None
    postcode: str | None
    town: str | None
    country: str = "FI"

    @property
    def missing(self) -> list[str]:
        """The parts a structured address needs that are empty: street, postcode, town."""
        return [part for part in ("street", "postcode", "town")
                if not (getattr(self, part) or "").strip()]

    def as_sepaxml(self) -> dict:
        return {"street_name": _clean(self.street or ""), "postcode": _clean(self.postcode or ""),
                "town": _clean(self.town or ""), "country": self.country}


@dataclass(frozen=True)
class CreditTransfer:
    """One payment to a provider as it goes into the file."""

    end_to_end_id: str
    creditor_name: str
    iban: str
    bic: str | None
    amount_cents: int
    #: Structured creditor reference; when set it replaces the unstructured remittance.
    reference: str | None
    remittance_info: str
    address: Address | None = None


@functools.lru_cache(maxsize=4096)
def is_valid_account(iban: str | None, bic: str | None) -> bool:
    """The IBAN's check digits are right and the BIC, when given, is well formed."""
    return bool(iban) and iban_number.is_valid(iban) and (not bic or bic_number.is_valid(bic))


def unwritable_character(text: str | None) -> str | None:
    """The first character (as U+XXXX) of a text for the file that the input cleaning would
    refuse (a control character stored before the cleaning existed); None when it can go in."""
    return refused_character(text or "")


def _clean(text: str) -> str:
    """Text for the file: NFC and plain whitespace (what the input boundaries store)."""
    return clean_text(text).strip()


def rejected_transfers(transfers: list[CreditTransfer], **payer) -> dict[str, str]:
    """Each transfer alone in a file: end-to-end id → why the builder refused it. Only called
    when the whole file was refused, to find which payments to hold."""
    problems = {}
    for transfer in transfers:
        try:
            build_payment_file(transfers=[transfer], **payer)
        except Exception as exc:  # sepaxml and the XML parser raise anything
            problems[transfer.end_to_end_id] = describe_failure(exc)
    return problems


def describe_failure(exc: Exception) -> str:
    """A short, single-line account of why a file could not be built."""
    reason = exc.params.get("reason") if isinstance(exc, InvalidPaymentFile) else None
    text = str(reason or exc) or type(exc).__name__
    return " ".join(text.split())[:200]


def next_banking_day(day: dt.date) -> dt.date:
    """The next weekday after ``day`` (banks move a holiday's payments to the next day)."""
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def remittance_for(numbers: list[int]) -> str:
    """'Lasku/Faktura 101' or 'Laskut/Fakturor 101, 102, 105-107' within the 140 characters a
    transfer carries; if even ranges do not fit, the tail is counted ('… +12')."""
    numbers = sorted(numbers)
    if len(numbers) == 1:
        return f"Lasku/Faktura {numbers[0]}"
    parts: list[str] = []
    start = previous = numbers[0]
    for number in [*numbers[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    prefix = "Laskut/Fakturor "
    text = prefix + ", ".join(parts)
    if len(text) <= _REMITTANCE_MAX:
        return text
    for shown in range(len(parts) - 1, 0, -1):
        text = f"{prefix}{', '.join(parts[:shown])} +{len(parts) - shown}"
        if len(text) <= _REMITTANCE_MAX:
            return text
    return f"{prefix}{parts[0][:100]} +{len(parts) - 1}"


def build_payment_file(
    *, message_id: str, created_at: dt.datetime, execution_on: dt.date, debtor_name: str,
    debtor_iban: str, debtor_bic: str | None, transfers: list[CreditTransfer],
    debtor_address: Address | None = None, schema: str = DEFAULT_FORMAT,
) -> str:
    """The pain.001 document of a batch (``schema``: .09 or .03), validated against the
    schema that sepaxml ships. Addresses go in where given (in .09 the planning makes sure
    every creditor has one, and the settings give the debtor's)."""
    if schema not in FORMATS:
        raise InvalidPaymentFile(schema=schema, reason="unknown message definition")
    config = {"name": debtor_name, "IBAN": debtor_iban.replace(" ", ""), "batch": True,
              "currency": "EUR"}
    if debtor_bic:
        config["BIC"] = debtor_bic
    if debtor_address is not None and not debtor_address.missing:
        config["address"] = debtor_address.as_sepaxml()
    config["name"] = _clean(config["name"])
    document = SepaTransfer(config, schema=schema, clean=True)
    for transfer in transfers:
        payment = {"name": _clean(transfer.creditor_name),
                   "IBAN": transfer.iban.replace(" ", ""),
                   "amount": transfer.amount_cents, "execution_date": execution_on,
                   "description": _clean(transfer.remittance_info),
                   "endtoend_id": transfer.end_to_end_id}
        if transfer.bic:
            payment["BIC"] = transfer.bic
        if transfer.address is not None and not transfer.address.missing:
            payment["address"] = transfer.address.as_sepaxml()
        document.add_payment(payment)
    space = namespace(schema)
    ns = {"p": space}
    root = ET.fromstring(document.export(validate=False))  # noqa: S314 (our own document)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", ns)
    header.find("p:MsgId", ns).text = message_id
    header.find("p:CreDtTm", ns).text = clock.local(created_at).replace(
        microsecond=0, tzinfo=None).isoformat()
    references = {t.end_to_end_id: t.reference for t in transfers if t.reference}
    for transaction in root.iter(f"{{{space}}}CdtTrfTxInf"):
        reference = references.get(transaction.find("p:PmtId/p:EndToEndId", ns).text)
        if reference:
            _structured_reference(transaction.find("p:RmtInf", ns), reference, space)
    ET.register_namespace("", space)
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
    validate_payment_file(xml, schema)
    return xml


def _structured_reference(remittance: ET.Element, reference: str, space: str) -> None:
    for child in list(remittance):
        remittance.remove(child)
    structured = ET.SubElement(remittance, f"{{{space}}}Strd")
    creditor_ref = ET.SubElement(structured, f"{{{space}}}CdtrRefInf")
    kind = ET.SubElement(ET.SubElement(creditor_ref, f"{{{space}}}Tp"), f"{{{space}}}CdOrPrtry")
    ET.SubElement(kind, f"{{{space}}}Cd").text = "SCOR"
    ET.SubElement(creditor_ref, f"{{{space}}}Ref").text = reference.replace(" ", "").upper()


@functools.lru_cache(maxsize=len(FORMATS))
def _schema(schema: str = DEFAULT_FORMAT):
    import xmlschema  # imported late: it is slow to import and only needed here

    path = importlib.resources.files("sepaxml") / "schemas" / f"{schema}.xsd"
    return xmlschema.XMLSchema(str(path))


def file_format_of(xml: str | bytes) -> str:
    """The message definition a stored payment file was written in (its namespace)."""
    text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
    found = re.search(r"urn:iso:std:iso:20022:tech:xsd:(pain\.001\.001\.\d\d)", text[:500])
    return found.group(1) if found else FORMATS[-1]


def validate_payment_file(xml: str | bytes, schema: str | None = None) -> None:
    """Raise InvalidPaymentFile (naming the first problem) unless the document is a valid
    credit transfer of ``schema`` (by default the one its namespace names)."""
    text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
    schema = schema or file_format_of(text)
    try:
        error = next(iter(_schema(schema).iter_errors(text)), None)
    except ET.ParseError as exc:
        raise InvalidPaymentFile(schema=schema, reason=str(exc)) from exc
    if error is not None:
        raise InvalidPaymentFile(schema=schema, reason=f"{error.path}: {error.reason}"[:300])
