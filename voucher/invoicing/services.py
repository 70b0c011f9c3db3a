"""Monthly invoices: created by the provider after the month ends, decided by the authority.

An invoice carries every recorded, not yet invoiced service event of the provider in one
closed month, plus every pending correction (whatever its date: a correction goes on the next
invoice). Its lines are snapshots and it is never edited: the events become ``invoiced`` when
it is sent. The administrator approves it (the lines wait for settlement) or rejects it with a
reason, which returns its events to ``recorded`` so that the provider can fix them and invoice
again under a new number. Numbers come from a single-row counter incremented in the invoice's
own transaction: a rolled-back invoice gives its number back, so numbers have no gaps.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

import sqlalchemy as sa
import sqlalchemy.orm
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, selectinload

from voucher import clock
from voucher.accounts.models import Role, User
from voucher.audit.services import Actor, record_event
from voucher.errors import ConcurrentUpdate, DomainError, NotFound, ValidationFailed
from voucher.invoicing.models import Invoice, InvoiceLine, InvoiceNumberSequence, InvoiceStatus
from voucher.invoicing.reference import reference_for_invoice
from voucher.labels import label
from voucher.mail.services import absolute_url, queue_email
from voucher.providers.supervision import ensure_provider_active
from voucher.redemptions.models import CORRECTION, Redemption, RedemptionStatus
from voucher.vouchers.models import Voucher

MAX_REASON_LENGTH = 2000
_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})")


class PeriodNotClosed(DomainError):
    code = "period_not_closed"
    status = 422
    message = _l("%(period)s has not ended yet. A month is invoiced after its last day.")


class NothingToInvoice(DomainError):
    code = "nothing_to_invoice"
    status = 409
    message = _l("There is nothing to invoice for %(period)s: no recorded, not yet invoiced "
                 "service events of that month and no pending corrections.")


class BankAccountMissing(DomainError):
    code = "bank_account_missing"
    status = 409
    message = _l("Your company has no bank account (IBAN) in its details. Add it before "
                 "invoicing.")


class InvoiceAlreadyDecided(DomainError):
    code = "invoice_already_decided"
    status = 409
    message = _l("The invoice has already been decided: it is %(state)s.")


def parse_period(text: str) -> dt.date:
    """'2026-10' → 2026-10-01; ValidationFailed for anything else."""
    match = _PERIOD.fullmatch(text or "")
    if match and 1 <= int(match.group(2)) <= 12 and int(match.group(1)) >= 2000:
        return dt.date(int(match.group(1)), int(match.group(2)), 1)
    raise ValidationFailed({"period": _("Give the month as YYYY-MM, e.g. 2026-10.")})


def period_end(period: dt.date) -> dt.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def period_label(period: dt.date) -> str:
    """'10/2026': how a month is written in Finnish and Swedish (and plainly in English)."""
    return f"{period.month}/{period.year}"


def _invoiceable(provider_id: int, period: dt.date):
    """The provider's events that an invoice of ``period`` takes: those of the month, and
    whatever its date every correction, every replacement a change of decision made, and an
    event a correction reverses that came back from a rejected invoice (so that the pair is
    always invoiced together)."""
    corrected = sa.select(CORRECTION.c.corrects_id).where(
        CORRECTION.c.corrects_id.is_not(None), CORRECTION.c.provider_id == provider_id)
    return sa.and_(
        Redemption.provider_id == provider_id,
        Redemption.status == RedemptionStatus.RECORDED,
        sa.or_(Redemption.corrects_id.is_not(None), Redemption.replaces_id.is_not(None),
               Redemption.service_date.between(period, period_end(period)),
               Redemption.id.in_(corrected)),
    )


def _take_invoice_number(session: Session) -> int:
    """Increment the counter; its row stays locked until the transaction ends."""
    return session.execute(
        sa.update(InvoiceNumberSequence).where(InvoiceNumberSequence.id == 1)
        .values(last_number=InvoiceNumberSequence.last_number + 1)
        .returning(InvoiceNumberSequence.last_number)
    ).scalar_one()


def create_invoice(session: Session, *, provider_id: int, period: dt.date, actor: Actor,
                   user_id: int | None = None) -> Invoice:
    """Invoice the provider's month: PeriodNotClosed before the month has ended,
    NothingToInvoice when there are no events, and the invoice (``submitted``) otherwise. A
    suspended or revoked provider invoices nothing (ProviderNotActive); its invoices already
    sent are still decided and paid."""
    period = period.replace(day=1)
    provider = ensure_provider_active(session, provider_id)
    if period_end(period) >= clock.today():
        raise PeriodNotClosed(period=period_label(period))
    if not provider.iban:
        raise BankAccountMissing()
    # Lock the events so that a parallel void or a parallel invoice waits for this one.
    events = session.execute(
        sa.select(Redemption, Voucher.code).join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(_invoiceable(provider_id, period))
        .order_by(Redemption.corrects_id.is_not(None), Redemption.service_date, Redemption.id)
        .with_for_update(of=Redemption)
    ).all()
    if not events:
        raise NothingToInvoice(period=period_label(period))
    number = _take_invoice_number(session)
    invoice = Invoice(
        number=number, provider_id=provider_id, period=period,
        status=InvoiceStatus.SUBMITTED, business_id=provider.business_id,
        provider_name=provider.legal_name, iban=provider.iban, bic=provider.bic,
        reference=reference_for_invoice(number),
        voucher_total_cents=sum(r.voucher_pays_cents for r, _code in events),
        client_total_cents=sum(r.client_pays_cents for r, _code in events),
        line_count=len(events), created_by_user_id=user_id,
    )
    invoice.lines = [
        InvoiceLine(redemption_id=r.id, voucher_code=code, service_date=r.service_date,
                    units=r.units, unit_price_cents=r.unit_price_cents,
                    voucher_pays_cents=r.voucher_pays_cents,
                    client_pays_cents=r.client_pays_cents)
        for r, code in events
    ]
    session.add(invoice)
    marked = session.execute(
        sa.update(Redemption).where(_invoiceable(provider_id, period))
        .values(status=RedemptionStatus.INVOICED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != len(events):
        raise ConcurrentUpdate()
    session.flush()
    for redemption, _code in events:
        session.expire(redemption, ["status"])
    record_event(session, actor, "invoice.submitted", "invoice", invoice.id,
                 provider_id=provider_id, number=number, period=period,
                 lines=len(events), voucher_total_cents=invoice.voucher_total_cents)
    return invoice


def _decide(session: Session, invoice_id: int, status: InvoiceStatus, user_id: int | None,
            reason: str | None = None) -> Invoice:
    invoice = find_invoice(session, invoice_id=invoice_id)
    changed = session.execute(
        sa.update(Invoice)
        .where(Invoice.id == invoice.id, Invoice.status == InvoiceStatus.SUBMITTED)
        .values(status=status, decided_at=clock.now(), decided_by_user_id=user_id,
                rejection_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(invoice)
    if changed != 1:
        raise InvoiceAlreadyDecided(state=label(invoice.status))
    return invoice


def approve_invoice(session: Session, *, invoice_id: int, actor: Actor,
                    user_id: int | None = None) -> Invoice:
    """Accept a submitted invoice: its events stay ``invoiced`` and wait for settlement."""
    invoice = _decide(session, invoice_id, InvoiceStatus.APPROVED, user_id)
    record_event(session, actor, "invoice.approved", "invoice", invoice.id,
                 provider_id=invoice.provider_id, number=invoice.number,
                 voucher_total_cents=invoice.voucher_total_cents)
    _notify_provider(session, invoice, "invoicing/approved")
    return invoice


def reject_invoice(session: Session, *, invoice_id: int, reason: str, actor: Actor,
                   user_id: int | None = None) -> Invoice:
    """Refuse a submitted invoice with a reason the provider sees; its events return to
    ``recorded`` so that they can be voided, corrected by re-recording, and invoiced again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": _("Tell the provider why the invoice is rejected.")})
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationFailed({"reason": _("The reason can be at most %(max)d characters "
                                            "long.", max=MAX_REASON_LENGTH)})
    invoice = _decide(session, invoice_id, InvoiceStatus.REJECTED, user_id, reason)
    session.execute(
        sa.update(Redemption)
        .where(Redemption.id.in_(sa.select(InvoiceLine.redemption_id)
                                 .where(InvoiceLine.invoice_id == invoice.id)),
               Redemption.status == RedemptionStatus.INVOICED)
        .values(status=RedemptionStatus.RECORDED)
        .execution_options(synchronize_session="fetch")
    )
    record_event(session, actor, "invoice.rejected", "invoice", invoice.id,
                 provider_id=invoice.provider_id, number=invoice.number, reason=reason)
    _notify_provider(session, invoice, "invoicing/rejected")
    return invoice


def _notify_provider(session: Session, invoice: Invoice, template: str) -> None:
    users = session.execute(
        sa.select(User).where(User.provider_id == invoice.provider_id,
                              User.role == Role.PROVIDER, User.is_active.is_(True))
    ).scalars().all()
    link = absolute_url("invoicing.provider_invoice", invoice_id=invoice.id)
    for user in users:
        queue_email(session, to=user.email, template=template, language=user.language,
                    invoice=invoice, period=period_label(invoice.period), link=link)


def find_invoice(session: Session, *, invoice_id: int) -> Invoice:
    """Any invoice (for the administrator)."""
    invoice = session.execute(
        sa.select(Invoice).where(Invoice.id == invoice_id)
        .options(selectinload(Invoice.lines), joinedload(Invoice.provider))
    ).scalar_one_or_none() if 0 < invoice_id < 2**31 else None
    if invoice is None:
        raise NotFound()
    return invoice


def find_provider_invoice(session: Session, *, provider_id: int, invoice_id: int) -> Invoice:
    """One of the provider's own invoices; NotFound for anyone else's."""
    invoice = find_invoice(session, invoice_id=invoice_id)
    if invoice.provider_id != provider_id:
        raise NotFound()
    return invoice
