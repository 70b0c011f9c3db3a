"""Refunds: a service event whose self-share was paid online is voided or corrected, so its
self-share goes back to the client's card (a partial refund of the payment).

The void or correction always succeeds at once: the refund is recorded as ``pending`` in the
same transaction, with a job that makes it at Stripe afterwards (``jobs``), retried until Stripe
confirms it. The database guards the amount: one refund per event (unique), and a payment's
refunds never exceed what it collected (a conditional update, backed by a check constraint).
The local fake Stripe does not enforce either; real Stripe would refuse only the second.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError
from voucher.payments.job_queue import record_job
from voucher.payments.models import (
    JobKind,
    OnlinePayment,
    OnlinePaymentEvent,
    OnlinePaymentStatus,
    OnlineRefund,
    RefundStatus,
)
from voucher.redemptions.models import ClientShareStatus, Redemption

REASONS = ("void", "correction", "not_due")


class RefundRefused(DomainError):
    code = "refund_refused"
    status = 409
    message = _l("The self-share cannot be refunded: it would exceed what the client paid, or "
                 "it has already been refunded.")


def refund_self_share(session: Session, *, redemption: Redemption, reason: str,
                      actor: Actor) -> OnlineRefund | None:
    """Refund the self-share of a voided or corrected event when it was paid online (and mark
    it ``refunded``); otherwise do nothing."""
    if redemption.client_share_status != ClientShareStatus.PAID_ONLINE:
        return None
    link = session.execute(
        sa.select(OnlinePaymentEvent).join(OnlinePayment)
        .where(OnlinePaymentEvent.live_redemption_id == redemption.id,
               OnlinePayment.status == OnlinePaymentStatus.SUCCEEDED)).scalar_one_or_none()
    if link is None:
        raise RefundRefused()
    refund = refund_part(session, payment=link.payment, redemption_id=redemption.id,
                         amount_cents=link.amount_cents, reason=reason, actor=actor)
    changed = session.execute(
        sa.update(Redemption)
        .where(Redemption.id == redemption.id,
               Redemption.client_share_status == ClientShareStatus.PAID_ONLINE)
        .values(client_share_status=ClientShareStatus.REFUNDED)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise RefundRefused()
    session.refresh(redemption)
    return refund


def refund_part(session: Session, *, payment: OnlinePayment, redemption_id: int,
                amount_cents: int, reason: str, actor: Actor) -> OnlineRefund:
    """Record a pending refund of ``amount_cents`` of a succeeded payment for one event, and
    the job that makes it at Stripe."""
    if reason not in REASONS or amount_cents <= 0:
        raise ValueError(f"bad refund {reason!r} {amount_cents}")
    guarded = session.execute(
        sa.update(OnlinePayment)
        .where(OnlinePayment.id == payment.id,
               OnlinePayment.status == OnlinePaymentStatus.SUCCEEDED,
               OnlinePayment.refunded_cents + amount_cents <= OnlinePayment.amount_cents)
        .values(refunded_cents=OnlinePayment.refunded_cents + amount_cents)
        .execution_options(synchronize_session=False)).rowcount
    if guarded != 1:
        raise RefundRefused()
    refund = OnlineRefund(online_payment_id=payment.id, redemption_id=redemption_id,
                          amount_cents=amount_cents, reason=reason, status=RefundStatus.PENDING,
                          idempotency_key=f"refund-event-{redemption_id}")
    try:
        with session.begin_nested():
            session.add(refund)
            session.flush()
    except sa.exc.IntegrityError as exc:  # this event was refunded already
        raise RefundRefused() from exc
    record_job(session, kind=JobKind.REFUND, payment_id=payment.id, refund_id=refund.id,
               key=refund.idempotency_key)
    session.refresh(payment)
    record_event(session, actor, "online_payment.refund_recorded", "online_payment", payment.id,
                 client_id=payment.client_id, redemption_id=redemption_id,
                 amount_cents=amount_cents, reason=reason, refund_id=refund.id)
    return refund
