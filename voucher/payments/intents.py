"""What a PaymentIntent's state at Stripe means for our payment: the one place that turns it
into a succeeded or failed payment, whether the state came in a verified webhook or was read
from Stripe by a job or the daily comparison (a lost webhook changes nothing in the end).

Conditional updates keep it safe when the same news arrives twice or out of order: a failure
after a success is ignored; a success after a failure (the client retried the card on the same
intent) still records the money, and any event that meanwhile went into another payment, or is
no longer due, is refunded.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.alerts.services import raise_alert, register_kind
from voucher.audit.services import Actor, record_event
from voucher.payments.models import OnlinePayment, OnlinePaymentEvent, OnlinePaymentStatus
from voucher.payments.refunds import refund_part
from voucher.payments.stripe_client import Intent
from voucher.redemptions.models import (
    ClientShareStatus,
    Redemption,
    RedemptionStatus,
    not_corrected,
)

log = logging.getLogger(__name__)

AMOUNT_DIFFERS = register_kind("stripe.amount_differs", _l(
    "Stripe reports %(received_cents)s cents received on intent %(intent_id)s, but online "
    "payment %(payment_id)s is for %(amount_cents)s cents. Nothing was recorded: check the "
    "payment in Stripe's dashboard and refund the client if needed."))

#: Intent states that say the money did not come and will not come on this attempt.
FAILED_STATES = ("requires_payment_method", "canceled")


def lock_payment(session: Session, payment_id: int) -> OnlinePayment | None:
    return session.execute(sa.select(OnlinePayment).where(OnlinePayment.id == payment_id)
                           .with_for_update()).scalar_one_or_none()


def apply_intent(session: Session, payment: OnlinePayment, intent: Intent, *, actor: Actor,
                 source: str) -> str:
    """Bring the payment in line with its intent; returns what happened ("succeeded",
    "failed", "unchanged", …). ``source`` says where the state came from (for the audit)."""
    if intent.status == "succeeded":
        outcome = _succeeded(session, payment, intent, actor)
    elif intent.status == "canceled":
        outcome = fail_payment(session, payment, code="canceled", message=None)
    elif intent.status == "requires_payment_method" and intent.error_message is not None:
        outcome = fail_payment(session, payment, code="declined",
                               message=intent.error_message[:500] or None)
    else:
        return "unchanged"
    record_event(session, actor, f"online_payment.{outcome}", "online_payment", payment.id,
                 client_id=payment.client_id, intent_status=intent.status, source=source)
    return outcome


def _succeeded(session: Session, payment: OnlinePayment, intent: Intent, actor: Actor) -> str:
    if payment.status == OnlinePaymentStatus.SUCCEEDED:
        return "already_succeeded"
    received = intent.amount_received or intent.amount
    if received != payment.amount_cents or intent.currency != "eur":
        log.error("payment %s: intent amount %s differs from %s", payment.id, received,
                  payment.amount_cents)
        raise_alert(session, kind=AMOUNT_DIFFERS, key=f"amount_differs:{intent.id}",
                    actor=actor, intent_id=intent.id, payment_id=payment.id,
                    received_cents=received, amount_cents=payment.amount_cents)
        return "amount_differs"
    was = payment.status
    changed = session.execute(
        sa.update(OnlinePayment)
        .where(OnlinePayment.id == payment.id,
               OnlinePayment.status.in_([OnlinePaymentStatus.PENDING,
                                         OnlinePaymentStatus.FAILED]))
        .values(status=OnlinePaymentStatus.SUCCEEDED, succeeded_at=clock.now())
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        return "already_succeeded"
    session.refresh(payment)
    links = list(session.execute(sa.select(OnlinePaymentEvent).where(
        OnlinePaymentEvent.online_payment_id == payment.id)
        .order_by(OnlinePaymentEvent.id)).scalars())
    for link in links:
        live = link.live_redemption_id is not None
        if not live:  # a failure released the event; take it back if no one else has it
            try:
                with session.begin_nested():
                    link.live_redemption_id = link.redemption_id
                    session.flush()
                live = True
            except sa.exc.IntegrityError:
                session.refresh(link)
        paid = live and session.execute(
            sa.update(Redemption)
            .where(Redemption.id == link.redemption_id,
                   Redemption.client_share_status == ClientShareStatus.DUE,
                   Redemption.status != RedemptionStatus.VOID, not_corrected())
            .values(client_share_status=ClientShareStatus.PAID_ONLINE)
            .execution_options(synchronize_session=False)).rowcount == 1
        if not paid:
            # Voided, billed by the provider or paid in another payment meanwhile: the money
            # for this event goes back.
            if live:
                link.live_redemption_id = None
                session.flush()
            refund_part(session, payment=payment, redemption_id=link.redemption_id,
                        amount_cents=link.amount_cents, reason="not_due", actor=actor)
    return "succeeded" if was == OnlinePaymentStatus.PENDING else "succeeded_after_failure"


def fail_payment(session: Session, payment: OnlinePayment, *, code: str,
                 message: str | None) -> str:
    """A pending payment fails (declined, cancelled, abandoned, never started) and lets its
    events go, so that they can be paid anew or billed by the provider; a succeeded one is
    never downgraded."""
    changed = session.execute(
        sa.update(OnlinePayment)
        .where(OnlinePayment.id == payment.id,
               OnlinePayment.status == OnlinePaymentStatus.PENDING)
        .values(status=OnlinePaymentStatus.FAILED, failed_at=clock.now(), failure_code=code,
                failure_message=message)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        session.refresh(payment)
        return "not_downgraded" if payment.status == OnlinePaymentStatus.SUCCEEDED \
            else "already_failed"
    session.execute(
        sa.update(OnlinePaymentEvent)
        .where(OnlinePaymentEvent.online_payment_id == payment.id)
        .values(live_redemption_id=None)
        .execution_options(synchronize_session=False))
    session.refresh(payment)
    return "failed"
