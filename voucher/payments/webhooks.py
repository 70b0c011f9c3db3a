"""Stripe's webhooks. The view verifies the signature; here each event is recorded once by its
id (a duplicate changes nothing) and its intent applied to the payment (``intents``). An event
for an intent we do not know is kept and raised to the operators: the daily comparison
(``stripe_reconciliation``) looks at it again.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher.alerts.services import raise_alert, register_kind
from voucher.audit.services import Actor, record_event
from voucher.payments.intents import apply_intent
from voucher.payments.models import OnlinePayment, StripeWebhookEvent
from voucher.payments.stripe_client import intent_of

HANDLED = ("payment_intent.succeeded", "payment_intent.payment_failed",
           "payment_intent.canceled")

UNKNOWN_INTENT = register_kind("stripe.unknown_intent", _l(
    "Stripe sent %(type)s (event %(event_id)s) for intent %(intent_id)s, which no online "
    "payment has. If money came, it belongs to no one in the books: find the intent in "
    "Stripe's dashboard and refund it or record it."))


def handle_event(session: Session, event: dict, *, actor: Actor) -> str:
    """Apply one verified webhook event; returns what happened ("duplicate", "succeeded",
    "failed", "ignored", …)."""
    obj = (event.get("data") or {}).get("object") or {}
    intent_id = obj.get("id") if obj.get("object") == "payment_intent" else None
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
        intent = intent_of(obj)
        if event["type"] == "payment_intent.payment_failed" and intent.status != "canceled":
            # A failure event means this attempt failed, whatever the object's status says.
            intent = intent.failed()
        if payment is None:
            outcome = "unknown_intent"
            raise_alert(session, kind=UNKNOWN_INTENT, key=f"unknown_intent:{intent_id}",
                        actor=actor, type=record.type, event_id=record.event_id,
                        intent_id=intent_id)
        else:
            outcome = apply_intent(session, payment, intent, actor=actor, source="webhook")
    record.outcome = outcome
    session.flush()
    if payment is not None:
        record_event(session, actor, f"online_payment.webhook.{outcome}", "online_payment",
                     payment.id, client_id=payment.client_id, event_id=record.event_id,
                     type=record.type)
    return outcome
