"""What the authority's bank sends back about a payment file, made from the file itself: a
pain.002.001.10 status report and a camt.054.001.08 debit notification, written by the
ISO 20022 message definitions (element names and order as in the official schemas). The demo
confirms its batches with them, and the tests import them.

Nothing here is used in production: there the files come from the bank.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from voucher.settlement.sepa import file_format_of, namespace

PAIN002_NS = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"
CAMT054_NS = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"


@dataclass(frozen=True)
class Transfer:
    """One credit transfer of a pain.001 file."""

    end_to_end_id: str
    amount: str
    creditor: str
    iban: str


@dataclass(frozen=True)
class PaymentFile:
    message_id: str
    payment_information_id: str
    created_at: str
    execution_on: str
    debtor_iban: str
    schema: str
    transfers: list[Transfer]

    def transfer(self, end_to_end_id: str) -> Transfer:
        return next(t for t in self.transfers if t.end_to_end_id == end_to_end_id)


def read_payment_file(xml: str) -> PaymentFile:
    """The parts of our own pain.001 that the bank's answers refer to."""
    schema = file_format_of(xml)
    ns = {"p": namespace(schema)}
    root = ET.fromstring(xml.encode("utf-8"))  # noqa: S314 (our own document)
    initiation = root.find("p:CstmrCdtTrfInitn", ns)
    info = initiation.find("p:PmtInf", ns)
    execution = info.find("p:ReqdExctnDt/p:Dt", ns)
    if execution is None:
        execution = info.find("p:ReqdExctnDt", ns)
    transfers = [Transfer(t.find("p:PmtId/p:EndToEndId", ns).text,
                          t.find("p:Amt/p:InstdAmt", ns).text, t.find("p:Cdtr/p:Nm", ns).text,
                          t.find("p:CdtrAcct/p:Id/p:IBAN", ns).text)
                 for t in info.findall("p:CdtTrfTxInf", ns)]
    return PaymentFile(initiation.find("p:GrpHdr/p:MsgId", ns).text,
                       info.find("p:PmtInfId", ns).text,
                       initiation.find("p:GrpHdr/p:CreDtTm", ns).text, execution.text,
                       info.find("p:DbtrAcct/p:Id/p:IBAN", ns).text, schema, transfers)


def _sub(parent: ET.Element, space: str, path: str, text: str | None = None,
         **attributes) -> ET.Element:
    """Append the elements of a slash-separated path; the last gets the text."""
    element = parent
    for name in path.split("/"):
        element = ET.SubElement(element, f"{{{space}}}{name}")
    if text is not None:
        element.text = text
    for key, value in attributes.items():
        element.set(key, value)
    return element


def _serialise(root: ET.Element, space: str) -> bytes:
    ET.register_namespace("", space)
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="utf-8", xml_declaration=False))


def status_report(payment_file: PaymentFile, *, message_id: str, created_at: dt.datetime,
                  statuses: dict[str, tuple] | None = None, group_status: str | None = None,
                  group_reason: tuple[str, str] | None = None) -> bytes:
    """A pain.002.001.10 CustomerPaymentStatusReport on the file: ``statuses`` maps an
    end-to-end id to (TxSts, reason code or None, additional information or None); without
    them, ``group_status`` speaks for the whole file (e.g. ACCP, or RJCT with a reason)."""
    space = PAIN002_NS
    root = ET.Element(f"{{{space}}}Document")
    report = _sub(root, space, "CstmrPmtStsRpt")
    header = _sub(report, space, "GrpHdr")
    _sub(header, space, "MsgId", message_id)
    _sub(header, space, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    _sub(header, space, "DbtrAgt/FinInstnId/BICFI", "OKOYFIHH")
    group = _sub(report, space, "OrgnlGrpInfAndSts")
    _sub(group, space, "OrgnlMsgId", payment_file.message_id)
    _sub(group, space, "OrgnlMsgNmId", payment_file.schema)
    _sub(group, space, "OrgnlCreDtTm", payment_file.created_at)
    _sub(group, space, "OrgnlNbOfTxs", str(len(payment_file.transfers)))
    statuses = statuses or {}
    if group_status or statuses:
        _sub(group, space, "GrpSts", group_status or "PART")
    if group_reason:
        reason = _sub(group, space, "StsRsnInf")
        _sub(reason, space, "Rsn/Cd", group_reason[0])
        _sub(reason, space, "AddtlInf", group_reason[1])
    if statuses:
        info = _sub(report, space, "OrgnlPmtInfAndSts")
        _sub(info, space, "OrgnlPmtInfId", payment_file.payment_information_id)
        _sub(info, space, "PmtInfSts", "PART")
        for n, (end_to_end_id, (code, reason_code, text)) in enumerate(statuses.items(), 1):
            transaction = _sub(info, space, "TxInfAndSts")
            _sub(transaction, space, "StsId", f"{message_id[:28]}-{n:05d}")
            _sub(transaction, space, "OrgnlEndToEndId", end_to_end_id)
            _sub(transaction, space, "TxSts", code)
            if reason_code or text:
                reason = _sub(transaction, space, "StsRsnInf")
                if reason_code:
                    _sub(reason, space, "Rsn/Cd", reason_code)
                if text:
                    _sub(reason, space, "AddtlInf", text)
            reference = _sub(transaction, space, "OrgnlTxRef")
            try:
                sent = payment_file.transfer(end_to_end_id)
            except StopIteration:  # a status for a payment the file does not have
                continue
            _sub(reference, space, "Amt/InstdAmt", sent.amount, Ccy="EUR")
            _sub(reference, space, "ReqdExctnDt/Dt", payment_file.execution_on)
            _sub(reference, space, "Cdtr/Pty/Nm", sent.creditor)
            _sub(reference, space, "CdtrAcct/Id/IBAN", sent.iban)
    return _serialise(root, space)


def debit_notification(payment_file: PaymentFile, *, message_id: str, created_at: dt.datetime,
                       booked_on: dt.date, debited: list[str] = (),
                       returned: dict[str, tuple[str, str]] | None = None,
                       pending: list[str] = ()) -> bytes:
    """A camt.054.001.08 BankToCustomerDebitCreditNotification for the debtor's account: one
    booked debit entry per end-to-end id in ``debited``, one pending entry per id in
    ``pending``, and for each id in ``returned`` (→ (reason code, additional information)) a
    booked credit entry that brings the money back with its return information."""
    space = CAMT054_NS
    root = ET.Element(f"{{{space}}}Document")
    notification = _sub(root, space, "BkToCstmrDbtCdtNtfctn")
    header = _sub(notification, space, "GrpHdr")
    _sub(header, space, "MsgId", message_id)
    _sub(header, space, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    account = _sub(notification, space, "Ntfctn")
    _sub(account, space, "Id", f"{message_id[:30]}-1")
    _sub(account, space, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    _sub(account, space, "Acct/Id/IBAN", payment_file.debtor_iban)
    entries = [(e2e, "DBIT", "BOOK", None) for e2e in debited]
    entries += [(e2e, "DBIT", "PDNG", None) for e2e in pending]
    entries += [(e2e, "CRDT", "BOOK", reason) for e2e, reason in (returned or {}).items()]
    for n, (end_to_end_id, direction, state, reason) in enumerate(entries, start=1):
        sent = payment_file.transfer(end_to_end_id)
        entry = _sub(account, space, "Ntry")
        _sub(entry, space, "NtryRef", str(n))
        _sub(entry, space, "Amt", sent.amount, Ccy="EUR")
        _sub(entry, space, "CdtDbtInd", direction)
        _sub(entry, space, "Sts/Cd", state)
        if state == "BOOK":
            _sub(entry, space, "BookgDt/Dt", booked_on.isoformat())
        _sub(entry, space, "ValDt/Dt", booked_on.isoformat())
        _sub(entry, space, "AcctSvcrRef", f"{booked_on:%Y%m%d}{n:08d}")
        code = _sub(entry, space, "BkTxCd/Domn")
        _sub(code, space, "Cd", "PMNT")
        _sub(code, space, "Fmly/Cd", "ICDT" if direction == "DBIT" else "RCDT")
        _sub(code, space, "Fmly/SubFmlyCd", "ESCT" if direction == "DBIT" else "RRTN")
        transaction = _sub(entry, space, "NtryDtls/TxDtls")
        references = _sub(transaction, space, "Refs")
        _sub(references, space, "MsgId", payment_file.message_id)
        _sub(references, space, "PmtInfId", payment_file.payment_information_id)
        _sub(references, space, "EndToEndId", end_to_end_id)
        _sub(transaction, space, "Amt", sent.amount, Ccy="EUR")
        _sub(transaction, space, "CdtDbtInd", direction)
        parties = _sub(transaction, space, "RltdPties")
        _sub(parties, space, "Cdtr/Pty/Nm", sent.creditor)
        _sub(parties, space, "CdtrAcct/Id/IBAN", sent.iban)
        if reason is not None:
            information = _sub(transaction, space, "RtrInf")
            _sub(information, space, "Rsn/Cd", reason[0])
            _sub(information, space, "AddtlInf", reason[1])
    return _serialise(root, space)
