"""The bank's word on the payments: pain.002 status reports and camt.054 debit notifications.

A file is read safely (defusedxml: no DTD, no entities; a size limit), recognised by its
namespace, validated against its schema (``schemas/``: subsets of the ISO 20022 message
definitions, see their headers) with xmlschema, and read into statuses, one per payment, named
by the end-to-end id our pain.001 gave it:

- pain.002.001.10: a transaction's TxSts (or, for the transactions a report does not list,
  its payment information's or group's status) — ACCP, ACSC, ACSP, ACWC, ACCC: accepted;
  RJCT: rejected; RCVD, PDNG, ACTC (received, pending, only the file's syntax checked): no
  change yet. The reason is StsRsnInf/Rsn/Cd (or Prtry) and its AddtlInf.
- camt.054.001.08: each booked entry's transactions — a debit of the authority's account:
  accepted (the money left); a credit, a reversal, or a transaction with return information
  (RtrInf): returned, with RtrInf's reason. Pending or information-only entries change nothing.

Importing stores the file (by its SHA-256, unique: importing it again changes nothing and says
so), one row per status with its effect, and moves each payment along ``BANK_TRANSITIONS``
(rejected and returned are final). A batch whose every payment has the bank's word becomes
``confirmed``; a batch the bank has answered for is ``sent`` at the latest. A rejected or
returned payment is paid again by a later run (``planning``). Two servers importing the same
file at once: the unique SHA-256 lets one of them store it; the other waits for that
transaction and then finds the file imported.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.resources
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError
from voucher.mail.services import absolute_url, queue_email
from voucher.providers.bank_accounts import masked_account
from voucher.providers.models import Provider
from voucher.providers.notices import provider_users
from voucher.settlement.models import (
    BANK_TRANSITIONS,
    FAILED,
    REPAYMENT,
    BankFeedbackFile,
    BatchStatus,
    Payment,
    PaymentBankStatus,
    PaymentBankStatusReport,
    PaymentBatch,
)

PAIN002 = "pain.002.001.10"
CAMT054 = "camt.054.001.08"
MESSAGE_TYPES = (PAIN002, CAMT054)
_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"

ACCEPTED_CODES = {"ACCP", "ACSC", "ACSP", "ACWC", "ACCC", "ACFC"}
PENDING_CODES = {"RCVD", "PDNG", "ACTC", "PART", "ACWP"}


class BankFileRefused(DomainError):
    """A file that is not a bank file we can read; nothing was imported."""

    code = "bank_file_refused"
    status = 422


class NotXml(BankFileRefused):
    message = _l("The file is not XML (%(reason)s). Choose the bank's pain.002 status report or "
                 "camt.054 debit notification.")


class UnsafeXml(BankFileRefused):
    message = _l("The file declares a document type or entities, which bank files never do; it "
                 "was not read.")


class WrongMessageType(BankFileRefused):
    message = _l("The file is a %(found)s message, not a pain.002 status report "
                 "(pain.002.001.10) or a camt.054 debit notification (camt.054.001.08).")


class SchemaViolation(BankFileRefused):
    message = _l("The file does not conform to the %(schema)s schema (%(reason)s).")


class FileTooBig(BankFileRefused):
    status = 413
    message = _l("The file is too big (%(size)s); the largest bank file accepted is "
                 "%(limit)s.")


class EmptyFile(BankFileRefused):
    message = _l("The file is empty.")


@dataclass(frozen=True)
class ReportedStatus:
    """One payment's status as the file gives it."""

    end_to_end_id: str
    #: None: the bank has only received or is processing it.
    status: PaymentBankStatus | None
    bank_code: str
    reason_code: str | None = None
    reason_text: str | None = None
    amount_cents: int | None = None


@dataclass
class BankMessage:
    message_type: str
    message_id: str
    statuses: list[ReportedStatus] = field(default_factory=list)
    #: pain.002: the original pain.001's MsgId, and the status the report gives for all of its
    #: transactions it does not list one by one (with the reason).
    original_message_id: str | None = None
    default_status: ReportedStatus | None = None


@dataclass
class ImportResult:
    file: BankFeedbackFile | None
    already_imported: bool = False
    #: Effect → how many statuses had it.
    counts: dict[str, int] = field(default_factory=dict)
    #: End-to-end ids the file names that no payment has.
    unknown: list[str] = field(default_factory=list)
    #: Payments that became rejected or returned.
    failed: list[Payment] = field(default_factory=list)
    confirmed_batches: list[int] = field(default_factory=list)


# Reading -----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=len(MESSAGE_TYPES))
def _schema(message_type: str):
    import xmlschema  # imported late: it is slow to import and only needed here

    path = importlib.resources.files("voucher.settlement") / "schemas" / f"{message_type}.xsd"
    return xmlschema.XMLSchema(str(path))


def _format_size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} kB"


def read_bank_file(content: bytes, *, max_bytes: int) -> BankMessage:
    """Parse, recognise and validate a bank file; raise a BankFileRefused saying what is
    wrong with it."""
    if len(content) > max_bytes:
        raise FileTooBig(size=_format_size(len(content)), limit=_format_size(max_bytes))
    if not content.strip():
        raise EmptyFile()
    try:
        root = safe_fromstring(content, forbid_dtd=True, forbid_entities=True,
                               forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXml() from exc
    except (ET.ParseError, ValueError) as exc:
        raise NotXml(reason=" ".join(str(exc).split())[:200]) from exc
    space = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    message_type = space.removeprefix(_PREFIX) if space.startswith(_PREFIX) else ""
    if message_type not in MESSAGE_TYPES or root.tag != f"{{{space}}}Document":
        raise WrongMessageType(found=message_type or space or root.tag[:60])
    error = next(iter(_schema(message_type).iter_errors(root)), None)
    if error is not None:
        raise SchemaViolation(schema=message_type,
                              reason=f"{error.path}: {error.reason}"[:300])
    ns = {"p": space}
    return _read_pain002(root, ns) if message_type == PAIN002 else _read_camt054(root, ns)


def _text(element: ET.Element | None, path: str, ns: dict) -> str | None:
    found = element.find(path, ns) if element is not None else None
    return found.text.strip() if found is not None and found.text else None


def _cents(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int((Decimal(text) * 100).to_integral_value())
    except InvalidOperation:
        return None


def _state(code: str | None) -> PaymentBankStatus | None:
    if code in ACCEPTED_CODES:
        return PaymentBankStatus.ACCEPTED
    if code == "RJCT":
        return PaymentBankStatus.REJECTED
    return None


def _reason(element: ET.Element | None, ns: dict) -> tuple[str | None, str | None]:
    """The first StsRsnInf's code (Cd or Prtry) and its additional information."""
    info = element.find("p:StsRsnInf", ns) if element is not None else None
    if info is None:
        return None, None
    code = _text(info, "p:Rsn/p:Cd", ns) or _text(info, "p:Rsn/p:Prtry", ns)
    text = " ".join(t.text.strip() for t in info.findall("p:AddtlInf", ns) if t.text) or None
    return code, text and text[:500]


def _read_pain002(root: ET.Element, ns: dict) -> BankMessage:
    report = root.find("p:CstmrPmtStsRpt", ns)
    group = report.find("p:OrgnlGrpInfAndSts", ns)
    message = BankMessage(PAIN002, _text(report, "p:GrpHdr/p:MsgId", ns),
                          original_message_id=_text(group, "p:OrgnlMsgId", ns))
    group_code = _text(group, "p:GrpSts", ns)
    default_code, default_reason = group_code, _reason(group, ns)
    for info in report.findall("p:OrgnlPmtInfAndSts", ns):
        info_code = _text(info, "p:PmtInfSts", ns)
        if info_code:  # one payment information block per batch: it speaks for the batch
            default_code = info_code
            if info.find("p:StsRsnInf", ns) is not None:
                default_reason = _reason(info, ns)
        for transaction in info.findall("p:TxInfAndSts", ns):
            end_to_end_id = _text(transaction, "p:OrgnlEndToEndId", ns)
            code = _text(transaction, "p:TxSts", ns) or info_code or group_code
            if not end_to_end_id or not code:
                continue
            reason_code, reason_text = _reason(transaction, ns)
            if reason_code is None and reason_text is None and code == "RJCT":
                reason_code, reason_text = default_reason
            amount = _text(transaction, "p:OrgnlTxRef/p:Amt/p:InstdAmt", ns)
            message.statuses.append(ReportedStatus(
                end_to_end_id, _state(code), code, reason_code, reason_text, _cents(amount)))
    if default_code and default_code not in ("PART",):
        message.default_status = ReportedStatus("", _state(default_code), default_code,
                                                *default_reason)
    return message


def _read_camt054(root: ET.Element, ns: dict) -> BankMessage:
    notification = root.find("p:BkToCstmrDbtCdtNtfctn", ns)
    message = BankMessage(CAMT054, _text(notification, "p:GrpHdr/p:MsgId", ns))
    for account in notification.findall("p:Ntfctn", ns):
        for entry in account.findall("p:Ntry", ns):
            booked = (_text(entry, "p:Sts/p:Cd", ns) or _text(entry, "p:Sts/p:Prtry", ns))
            entry_debit = _text(entry, "p:CdtDbtInd", ns) == "DBIT"
            reversal = _text(entry, "p:RvslInd", ns) in ("true", "1")
            transactions = [t for d in entry.findall("p:NtryDtls", ns)
                            for t in d.findall("p:TxDtls", ns)]
            for transaction in transactions:
                end_to_end_id = _text(transaction, "p:Refs/p:EndToEndId", ns)
                if not end_to_end_id or end_to_end_id == "NOTPROVIDED":
                    continue
                debit = (_text(transaction, "p:CdtDbtInd", ns) or
                         ("DBIT" if entry_debit else "CRDT")) == "DBIT"
                returned = transaction.find("p:RtrInf", ns) is not None or reversal or not debit
                amount = _text(transaction, "p:Amt", ns)
                if amount is None and len(transactions) == 1:
                    amount = _text(entry, "p:Amt", ns)
                reason_code = reason_text = None
                if returned:
                    info = transaction.find("p:RtrInf", ns)
                    reason_code = (_text(info, "p:Rsn/p:Cd", ns)
                                   or _text(info, "p:Rsn/p:Prtry", ns))
                    reason_text = " ".join(t.text.strip() for t in (
                        info.findall("p:AddtlInf", ns) if info is not None else []) if t.text)
                state = None
                if booked == "BOOK":
                    state = PaymentBankStatus.RETURNED if returned else PaymentBankStatus.ACCEPTED
                message.statuses.append(ReportedStatus(
                    end_to_end_id, state, booked or "", reason_code,
                    (reason_text or None) and reason_text[:500], _cents(amount)))
    return message


# Importing ---------------------------------------------------------------------------------

def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def find_imported(session: Session, content: bytes) -> BankFeedbackFile | None:
    return session.execute(sa.select(BankFeedbackFile).where(
        BankFeedbackFile.sha256 == sha256_of(content))).scalar_one_or_none()


def import_bank_file(session: Session, *, content: bytes, filename: str, actor: Actor,
                     source: str, max_bytes: int) -> ImportResult:
    """Import one bank file (see the module's docstring). Raises BankFileRefused for a file
    that cannot be read; returns ``already_imported`` for a file imported before (nothing
    changes). A status for an end-to-end id no payment has is recorded and reported."""
    message = read_bank_file(content, max_bytes=max_bytes)
    digest = sha256_of(content)
    if find_imported(session, content) is not None:
        return ImportResult(file=find_imported(session, content), already_imported=True)
    stored = BankFeedbackFile(sha256=digest, filename=filename[:255],
                              message_type=message.message_type,
                              message_id=(message.message_id or "")[:35], size_bytes=len(content),
                              content=content, source=source, summary={},
                              imported_by_user_id=actor.user_id)
    try:
        with session.begin_nested():  # the claim: another server may be storing the same file
            session.add(stored)
            session.flush()
    except sa.exc.IntegrityError:
        return ImportResult(file=find_imported(session, content), already_imported=True)
    result = ImportResult(file=stored)
    statuses = _with_defaults(session, message)
    payments = _lock_payments(session, [s.end_to_end_id for s in statuses])
    touched_batches: set[int] = set()
    now = clock.now()
    for reported in statuses:
        payment = payments.get(reported.end_to_end_id)
        effect = _apply(session, payment, reported, actor, now, stored)
        session.add(PaymentBankStatusReport(
            file_id=stored.id, payment_id=payment.id if payment else None,
            end_to_end_id=reported.end_to_end_id[:35], status=reported.status,
            bank_code=reported.bank_code[:10], reason_code=reported.reason_code,
            reason_text=reported.reason_text, amount_cents=reported.amount_cents,
            effect=effect, created_at=now))
        result.counts[effect] = result.counts.get(effect, 0) + 1
        if effect == "unknown":
            result.unknown.append(reported.end_to_end_id)
        if payment is not None:
            touched_batches.add(payment.batch_id)
            if effect == "applied" and payment.bank_status in FAILED:
                result.failed.append(payment)
    session.flush()
    result.confirmed_batches = _advance_batches(session, sorted(touched_batches), actor, now,
                                                stored)
    _tell_providers(session, result.failed)
    stored.summary = dict(sorted(result.counts.items()))
    record_event(session, actor, "bank_file.imported", "bank_feedback_file", stored.id,
                 filename=stored.filename, message_type=stored.message_type,
                 message_id=stored.message_id, sha256=digest, source=source,
                 effects=stored.summary, unknown=result.unknown[:50],
                 confirmed_batches=result.confirmed_batches)
    session.flush()
    return result


def _with_defaults(session: Session, message: BankMessage) -> list[ReportedStatus]:
    """A pain.002's statuses, plus its payment information's or group's status for every
    payment of the original file it does not list one by one."""
    statuses = list(message.statuses)
    if message.default_status is None or not message.original_message_id:
        return statuses
    listed = {s.end_to_end_id for s in statuses}
    batch_payments = session.execute(
        sa.select(Payment.end_to_end_id).join(PaymentBatch, PaymentBatch.id == Payment.batch_id)
        .where(PaymentBatch.message_id == message.original_message_id)
        .order_by(Payment.id)).scalars()
    default = message.default_status
    statuses += [ReportedStatus(e2e, default.status, default.bank_code, default.reason_code,
                                default.reason_text)
                 for e2e in batch_payments if e2e not in listed]
    return statuses


def _lock_payments(session: Session, end_to_end_ids: list[str]) -> dict[str, Payment]:
    """The payments named, locked in id order (two files about the same payments, imported
    at once, take turns)."""
    if not end_to_end_ids:
        return {}
    rows = session.execute(
        sa.select(Payment).where(Payment.end_to_end_id.in_(sorted(set(end_to_end_ids))))
        .order_by(Payment.id).with_for_update()
        .execution_options(populate_existing=True)).scalars()
    return {payment.end_to_end_id: payment for payment in rows}


def _apply(session: Session, payment: Payment | None, reported: ReportedStatus, actor: Actor,
           now: dt.datetime, stored: BankFeedbackFile) -> str:
    if payment is None:
        return "unknown"
    if reported.status is None:
        return "pending"
    if reported.amount_cents is not None and reported.amount_cents != payment.amount_cents:
        return "amount_differs"
    if reported.status == payment.bank_status:
        return "unchanged"
    if reported.status not in BANK_TRANSITIONS[payment.bank_status]:
        return "final"
    before = payment.bank_status
    payment.bank_status = reported.status
    payment.bank_status_at = now
    payment.bank_reason_code = reported.reason_code
    payment.bank_reason_text = reported.reason_text
    record_event(session, actor, f"payment.{reported.status.value}", "payment", payment.id,
                 before=before.value, after=reported.status.value, bank_code=reported.bank_code,
                 reason_code=reported.reason_code, reason_text=reported.reason_text,
                 bank_file_id=stored.id, end_to_end_id=payment.end_to_end_id)
    return "applied"


def _advance_batches(session: Session, batch_ids: list[int], actor: Actor, now: dt.datetime,
                     stored: BankFeedbackFile) -> list[int]:
    """The bank has answered: a created batch was sent; a batch with no payment awaiting the
    bank's word is confirmed."""
    confirmed = []
    for batch in session.execute(sa.select(PaymentBatch).where(PaymentBatch.id.in_(batch_ids))
                                 .order_by(PaymentBatch.id).with_for_update()).scalars():
        if batch.status == BatchStatus.CREATED:
            batch.status, batch.sent_at = BatchStatus.SENT, now
            record_event(session, actor, "payment_batch.sent", "payment_batch", batch.id,
                         before="created", after="sent", bank_file_id=stored.id)
        awaiting = session.execute(sa.select(sa.func.count()).where(
            Payment.batch_id == batch.id,
            Payment.bank_status == PaymentBankStatus.AWAITING)).scalar()
        if batch.status == BatchStatus.SENT and awaiting == 0:
            batch.status, batch.confirmed_at = BatchStatus.CONFIRMED, now
            record_event(session, actor, "payment_batch.confirmed", "payment_batch", batch.id,
                         before="sent", after="confirmed", bank_file_id=stored.id)
            confirmed.append(batch.id)
    return confirmed


def _tell_providers(session: Session, failed: list[Payment]) -> None:
    """E-mail every user of each provider whose payment the bank rejected or returned, in
    the file's transaction (the outbox sends it after the commit): the money did not arrive,
    and the provider is the one who can correct the account."""
    if not failed:
        return
    providers = session.execute(
        sa.select(Provider).where(Provider.id.in_({p.provider_id for p in failed}))).scalars()
    users = {provider.id: (provider, provider_users(session, provider)) for provider in providers}
    link = absolute_url("invoicing.provider_invoices")
    for payment in failed:
        provider, recipients = users[payment.provider_id]
        for user in recipients:
            queue_email(session, to=user.email, template="settlement/payment_failed",
                        language=user.language, user=user, provider=provider, payment=payment,
                        account=masked_account(payment.iban, payment.bic), link=link)


def approve_retry(session: Session, payment_id: int, *, actor: Actor) -> Payment:
    """Let a rejected or returned payment go to the provider's account as it is (the bank's
    reason did not concern the account): the next run pays it again."""
    payment = session.execute(sa.select(Payment).where(Payment.id == payment_id)
                              .with_for_update()).scalar_one_or_none()
    if payment is None or not payment.failed:
        raise NotFailed()
    if payment.retry_approved_at is None:
        payment.retry_approved_at = clock.now()
        payment.retry_approved_by_user_id = actor.user_id
        record_event(session, actor, "payment.retry_approved", "payment", payment.id,
                     bank_status=payment.bank_status.value,
                     reason_code=payment.bank_reason_code)
    return payment


class NotFailed(DomainError):
    code = "payment_not_failed"
    status = 409
    message = _l("Only a payment the bank rejected or returned can be paid again.")


def failed_payments(session: Session, provider_id: int | None = None) -> list[Payment]:
    """Rejected or returned payments that no later payment has paid again (open items),
    oldest first."""
    query = (sa.select(Payment).where(Payment.bank_status.in_(FAILED), ~sa.exists(
        sa.select(REPAYMENT.c.id).where(REPAYMENT.c.repays_payment_id == Payment.id)))
        .order_by(Payment.id))
    if provider_id is not None:
        query = query.where(Payment.provider_id == provider_id)
    return list(session.execute(query).scalars())


def recent_files(session: Session, limit: int = 20) -> list[BankFeedbackFile]:
    return list(session.execute(sa.select(BankFeedbackFile)
                                .order_by(BankFeedbackFile.id.desc()).limit(limit)).scalars())
