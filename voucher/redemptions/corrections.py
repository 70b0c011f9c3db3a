"""Voiding and correcting service events.

A recorded event can be voided (its units return) until it is invoiced. After that it is
corrected by a correction event: the same units and amounts negated, referring to the original,
which goes on the provider's next invoice, so that sent invoices are never edited. The right
figures, if any, are then recorded as a new event. Either way, a self-share the client paid
online is refunded to the card (``payments.refunds``); the void or correction fails as a whole
when the refund cannot be made.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError
from voucher.invoicing.models import Invoice, InvoiceLine, InvoiceStatus
from voucher.payments.refunds import refund_self_share
from voucher.providers.supervision import ensure_provider_active
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.redemptions.services import (
    EventInput,
    find_provider_redemption,
    find_provider_voucher,
    record_redemption,
)
from voucher.vouchers.units import give_back_units


class AlreadyInvoiced(DomainError):
    code = "already_invoiced"
    status = 409
    message = _l("The service event is already on invoice %(number)s and can no longer be "
                 "voided. Correct it instead: the correction goes on your next invoice.")


class CannotCorrect(DomainError):
    code = "cannot_correct"
    status = 409
    message = _l("This service event cannot be corrected.")


def open_invoice_of(session: Session, redemption_id: int) -> Invoice | None:
    """The invoice (not rejected) that carries a service event, if any."""
    return session.execute(
        sa.select(Invoice).join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(InvoiceLine.redemption_id == redemption_id,
               Invoice.status != InvoiceStatus.REJECTED)
        .order_by(Invoice.id.desc()).limit(1)
    ).scalar_one_or_none()


def corrected_ids(session: Session, redemption_ids: list[int]) -> set[int]:
    """Those of the given events that a correction already reverses."""
    if not redemption_ids:
        return set()
    return set(session.execute(
        sa.select(Redemption.corrects_id).where(Redemption.corrects_id.in_(redemption_ids))
    ).scalars())


def awaiting_decision_ids(session: Session, redemption_ids: list[int]) -> set[int]:
    """Those of the given events that are on an invoice waiting for the authority's decision."""
    if not redemption_ids:
        return set()
    return set(session.execute(
        sa.select(InvoiceLine.redemption_id).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.redemption_id.in_(redemption_ids),
               Invoice.status == InvoiceStatus.SUBMITTED)
    ).scalars())


def void_redemption(session: Session, *, provider_id: int, redemption_id: int, actor: Actor,
                    user_id: int | None = None) -> Redemption:
    """Void a recorded, not yet invoiced service event and give its units back. Voiding a void
    event changes nothing (a retried request is harmless); an invoiced one is refused."""
    redemption = find_provider_redemption(session, provider_id=provider_id,
                                          redemption_id=redemption_id)
    if redemption.status == RedemptionStatus.VOID:
        return redemption
    if redemption.is_correction:
        raise CannotCorrect(_l("A correction cannot be voided. If it was a mistake, record "
                               "the service event again."))
    if corrected_ids(session, [redemption.id]):
        # Back from a rejected invoice after a change of decision corrected it: the
        # correction and the replacement stand for it.
        raise CannotCorrect(_l("This service event has already been corrected."))
    voided = session.execute(
        sa.update(Redemption)
        .where(Redemption.id == redemption.id, Redemption.status == RedemptionStatus.RECORDED)
        .values(status=RedemptionStatus.VOID, voided_at=clock.now(),
                voided_by_user_id=user_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(redemption)
    if voided != 1:
        invoice = open_invoice_of(session, redemption.id)
        raise AlreadyInvoiced(number=invoice.number if invoice else "–")
    give_back_units(session, redemption.voucher, redemption.voucher_period_id, redemption.units)
    refund_self_share(session, redemption=redemption, reason="void", actor=actor)
    record_event(session, actor, "redemption.voided", "redemption", redemption.id,
                 client_id=redemption.voucher.client_id, voucher_id=redemption.voucher_id,
                 units=redemption.units)
    return redemption


def correct_redemption(session: Session, *, provider_id: int, redemption_id: int,
                       replacement: EventInput | None, actor: Actor, user_id: int | None = None,
                       language: str = "fi") -> tuple[Redemption, Redemption | None]:
    """Reverse an invoiced service event with a correction event (negated units and amounts,
    referring to it) that goes on the next invoice, and give its units back; then record the
    right event (``replacement``) when one is given. Only events on an approved invoice can be
    corrected (while the authority decides, the invoice may still come back), and each once."""
    ensure_provider_active(session, provider_id)
    original = find_provider_redemption(session, provider_id=provider_id,
                                        redemption_id=redemption_id)
    _check_correctable(session, original)
    correction = reversal_of(original, note=_("Correction of service event %(id)d",
                                              id=original.id),
                             source="portal" if user_id else "api", user_id=user_id)
    try:
        with session.begin_nested():
            session.add(correction)
            session.flush()
    except sa.exc.IntegrityError as exc:  # a parallel correction of the same event won
        raise CannotCorrect(_l("This service event has already been corrected.")) from exc
    give_back_units(session, original.voucher, original.voucher_period_id, original.units)
    refund_self_share(session, redemption=original, reason="correction", actor=actor)
    record_event(session, actor, "redemption.corrected", "redemption", correction.id,
                 client_id=original.voucher.client_id, voucher_id=original.voucher_id,
                 corrects_id=original.id, units=correction.units,
                 voucher_pays_cents=correction.voucher_pays_cents)
    new_event = None
    if replacement is not None:
        voucher = find_provider_voucher(session, provider_id=provider_id,
                                        code=original.voucher.code)
        new_event = record_redemption(session, voucher=voucher, event=replacement,
                                      source=correction.source, actor=actor, user_id=user_id,
                                      language=language)
    return correction, new_event


def reversal_of(original: Redemption, *, note: str, source: str, user_id: int | None = None,
                voucher_change_id: int | None = None) -> Redemption:
    """The correction event that reverses ``original``: its units and amounts negated, on
    the same date and period, referring to it, recorded for the provider's next invoice."""
    return Redemption(
        voucher_id=original.voucher_id, provider_id=original.provider_id,
        voucher_period_id=original.voucher_period_id, service_date=original.service_date,
        units=-original.units, unit_price_cents=original.unit_price_cents,
        unit_value_cents=original.unit_value_cents,
        voucher_pays_cents=-original.voucher_pays_cents,
        client_pays_cents=-original.client_pays_cents, status=RedemptionStatus.RECORDED,
        corrects_id=original.id, caregiver_ref=original.caregiver_ref, note=note,
        source=source, client_share_status=None, created_by_user_id=user_id,
        voucher_change_id=voucher_change_id)


def _check_correctable(session: Session, original: Redemption) -> None:
    if original.is_correction:
        raise CannotCorrect(_l("A correction cannot be corrected again."))
    if original.status == RedemptionStatus.VOID:
        raise CannotCorrect(_l("A void service event cannot be corrected."))
    if original.status == RedemptionStatus.RECORDED:
        raise CannotCorrect(_l("The service event has not been invoiced yet: void it and "
                               "record it again instead."))
    invoice = open_invoice_of(session, original.id)
    if invoice is not None and invoice.status == InvoiceStatus.SUBMITTED:
        raise CannotCorrect(_l("The service event is on invoice %(number)s, which waits for "
                               "the authority's decision. Correct it after the decision."),
                            number=invoice.number)
    already = session.execute(
        sa.select(Redemption.id).where(Redemption.corrects_id == original.id)
    ).scalar_one_or_none()
    if already is not None:
        raise CannotCorrect(_l("This service event has already been corrected."))
