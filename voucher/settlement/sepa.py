"""The payment file: a SEPA credit transfer, ISO 20022 pain.001.001.03, for the authority's bank.

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

SCHEMA = "pain.001.001.03"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"
_NS = {"p": NAMESPACE}
_REMITTANCE_MAX = 140


class InvalidPaymentFile(DomainError):
    code = "invalid_payment_file"
    status = 409
    message = _l("The payment file does not conform to the pain.001.001.03 schema (%(reason)s). "
                 "Nothing was settled.")


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
) -> str:
    """The pain.001.001.03 document of a batch, validated against the schema."""
    config = {"name": debtor_name, "IBAN": debtor_iban.replace(" ", ""), "batch": True,
              "currency": "EUR"}
    if debtor_bic:
        config["BIC"] = debtor_bic
    config["name"] = _clean(config["name"])
    document = SepaTransfer(config, schema=SCHEMA, clean=True)
    for transfer in transfers:
        payment = {"name": _clean(transfer.creditor_name),
                   "IBAN": transfer.iban.replace(" ", ""),
                   "amount": transfer.amount_cents, "execution_date": execution_on,
                   "description": _clean(transfer.remittance_info),
                   "endtoend_id": transfer.end_to_end_id}
        if transfer.bic:
            payment["BIC"] = transfer.bic
        document.add_payment(payment)
    root = ET.fromstring(document.export(validate=False))  # noqa: S314 (our own document)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", _NS)
    header.find("p:MsgId", _NS).text = message_id
    header.find("p:CreDtTm", _NS).text = clock.local(created_at).replace(
        microsecond=0, tzinfo=None).isoformat()
    references = {t.end_to_end_id: t.reference for t in transfers if t.reference}
    for transaction in root.iter(f"{{{NAMESPACE}}}CdtTrfTxInf"):
        reference = references.get(transaction.find("p:PmtId/p:EndToEndId", _NS).text)
        if reference:
            _structured_reference(transaction.find("p:RmtInf", _NS), reference)
    ET.register_namespace("", NAMESPACE)
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
    validate_payment_file(xml)
    return xml


def _structured_reference(remittance: ET.Element, reference: str) -> None:
    for child in list(remittance):
        remittance.remove(child)
    structured = ET.SubElement(remittance, f"{{{NAMESPACE}}}Strd")
    creditor_ref = ET.SubElement(structured, f"{{{NAMESPACE}}}CdtrRefInf")
    kind = ET.SubElement(ET.SubElement(creditor_ref, f"{{{NAMESPACE}}}Tp"),
                         f"{{{NAMESPACE}}}CdOrPrtry")
    ET.SubElement(kind, f"{{{NAMESPACE}}}Cd").text = "SCOR"
    ET.SubElement(creditor_ref, f"{{{NAMESPACE}}}Ref").text = reference.replace(" ", "").upper()


@functools.cache
def _schema():
    import xmlschema  # imported late: it is slow to import and only needed here

    path = importlib.resources.files("sepaxml") / "schemas" / f"{SCHEMA}.xsd"
    return xmlschema.XMLSchema(str(path))


def validate_payment_file(xml: str | bytes) -> None:
    """Raise InvalidPaymentFile (naming the first problem) unless the document is a valid
    pain.001.001.03 credit transfer."""
    text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
    try:
        error = next(iter(_schema().iter_errors(text)), None)
    except ET.ParseError as exc:
        raise InvalidPaymentFile(reason=str(exc)) from exc
    if error is not None:
        raise InvalidPaymentFile(reason=f"{error.path}: {error.reason}"[:300])
