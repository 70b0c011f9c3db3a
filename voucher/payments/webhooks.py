"""Stripe's webhooks: the only way a payment's state changes.

The view verifies the signature; here each event is recorded once by its id (a duplicate
changes nothing) and applied with conditional updates, so that events arriving twice or out of
order never move a payment backwards: a failure after a success is ignored; a success after a
failure (the client retried the card on the same intent) still records the money, and any
event that meanwhile went into another payment, or is no longer due, is refunded.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.payments.models import (
    OnlinePayment,
    OnlinePaymentEvent,
    OnlinePaymentStatus,
    StripeWebhookEvent,
)
from voucher.payments.refunds import refund_part
from voucher.payments.stripe_client import Gateway
from voucher.redemptions.models import ClientShareStatus, Redemption, RedemptionStatus

log = logging.getLogger(__name__)
HANDLED = ("payment_intent.succeeded", "payment_intent.payment_failed",
           "payment_intent.canceled")


def handle_event(session: Session, event: dict, *, actor: Actor,
                 gateway: Gateway | None = None) -> str:
    """Apply one verified webhook event; returns what happened ("duplicate", "succeeded",
    "failed", "ignored", …)."""
    intent = (event.get("data") or {}).get("object") or {}
    intent_id = intent.get("id") if intent.get("object") == "payment_intent" else None
    record = StripeWebhookEvent(event_id=str(event["id"]), type=str(event.get("type", ""))[:100],
                                payment_intent_id=intent_id, outcome="received")
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except sa.exc.IntegrityError:
        return "duplicate"
    outcome = "ignored"
    payment = None
    if event.get("type") in HANDLED and intent_id:
        payment = session.execute(sa.select(OnlinePayment).where(
            OnlinePayment.stripe_payment_intent_id == intent_id).with_for_update()
        ).scalar_one_or_none()
        if payment is None:
            outcome = "unknown_intent"
        elif event["type"] == "payment_intent.succeeded":
            outcome = _succeeded(session, payment, intent, actor, gateway)
        elif event["type"] == "payment_intent.canceled":
            outcome = fail_payment(session, payment, None)
        else:
            outcome = _failed(session, payment, intent, actor)
    record.outcome = outcome
    session.flush()
    if payment is not None:
        record_event(session, actor, f"online_payment.webhook.{outcome}", "online_payment",
                     payment.id, client_id=payment.client_id, event_id=record.event_id,
                     type=record.type)
    return outcome


def _succeeded(session: Session, payment: OnlinePayment, intent: dict, actor: Actor,
               gateway: Gateway | None) -> str:
    if payment.status == OnlinePaymentStatus.SUCCEEDED:
        return "already_succeeded"
    received = int(intent.get("amount_received") or intent.get("amount") or 0)
    if received != payment.amount_cents or str(intent.get("currency", "")).lower() != "eur":
        log.error("payment %s: intent amount %s differs from %s", payment.id, received,
                  payment.amount_cents)
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
                   Redemption.status != RedemptionStatus.VOID)
            .values(client_share_status=ClientShareStatus.PAID_ONLINE)
            .execution_options(synchronize_session=False)).rowcount == 1
        if not paid:
            # Voided, billed by the provider or paid in another payment meanwhile: the money
            # for this event goes back.
            if live:
                link.live_redemption_id = None
                session.flush()
            refund_part(session, payment=payment, redemption_id=link.redemption_id,
                        amount_cents=link.amount_cents, reason="not_due", actor=actor,
                        gateway=gateway)
    return "succeeded" if was == OnlinePaymentStatus.PENDING else "succeeded_after_failure"


def _failed(session: Session, payment: OnlinePayment, intent: dict, actor: Actor) -> str:
    error = intent.get("last_payment_error") or {}
    return fail_payment(session, payment, str(error.get("message") or "")[:500] or None)


def fail_payment(session: Session, payment: OnlinePayment, message: str | None) -> str:
    """A pending payment fails (declined, cancelled, abandoned) and lets its events go, so that
    they can be paid anew or billed by the provider; a succeeded one is never downgraded."""
    changed = session.execute(
        sa.update(OnlinePayment)
        .where(OnlinePayment.id == payment.id,
               OnlinePayment.status == OnlinePaymentStatus.PENDING)
        .values(status=OnlinePaymentStatus.FAILED, failed_at=clock.now(),
                failure_message=message)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        return "not_downgraded" if payment.status == OnlinePaymentStatus.SUCCEEDED \
            else "already_failed"
    session.execute(
        sa.update(OnlinePaymentEvent)
        .where(OnlinePaymentEvent.online_payment_id == payment.id)
        .values(live_redemption_id=None)
        .execution_options(synchronize_session=False))
    session.refresh(payment)
    return "failed"
