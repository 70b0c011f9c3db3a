"""The daily comparison of Stripe with the books (``payments reconcile-stripe``).

Stripe's intents and refunds are read (no transaction open meanwhile) and compared with the
online payments and refunds of the same period. What can be put right is put right, through
the same code a webhook or a job would use: a payment whose success (or failure) webhook was
lost, an intent left over from a payment that could not be started, a refund Stripe made whose
answer was lost, a webhook that came before its payment was known. What needs a person (money
at Stripe the books do not explain, a state that contradicts ours) becomes an operator alert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from voucher import clock, db
from voucher.alerts.services import raise_alert, register_kind
from voucher.audit.services import Actor, record_event
from voucher.payments.intents import apply_intent, lock_payment
from voucher.payments.jobs import CANCELLABLE
from voucher.payments.models import (
    JobStatus,
    OnlinePayment,
    OnlinePaymentStatus,
    OnlineRefund,
    RefundStatus,
    StripeJob,
    StripeWebhookEvent,
)
from voucher.payments.stripe_client import Gateway, GatewayRefused, Intent, Refund

#: A pending payment younger than this may still be in the client's hands.
SETTLING = dt.timedelta(minutes=15)

STATE_DIFFERS = register_kind("stripe.state_differs", _l(
    "Online payment %(payment_id)s is %(ours)s in the books, but its intent %(intent_id)s is "
    "%(theirs)s at Stripe. Check it in Stripe's dashboard."))
ORPHAN_PAID = register_kind("stripe.orphan_paid", _l(
    "Intent %(intent_id)s at Stripe was paid (%(amount_cents)s cents) but belongs to no online "
    "payment in the books. Refund it in Stripe's dashboard, or record where the money goes."))
REFUND_UNBOOKED = register_kind("stripe.refund_unbooked", _l(
    "Stripe has refund %(refund_id)s of %(amount_cents)s cents on intent %(intent_id)s that is "
    "not in the books. Find out who made it; the provider may have been paid that money."))
REFUND_MISSING = register_kind("stripe.refund_missing", _l(
    "Refund %(refund_id)s (online payment %(payment_id)s, %(amount_cents)s cents) is recorded "
    "as made, but Stripe does not have it."))


@dataclass
class Comparison:
    """What the run found: one English line each, for the operators' cron mail."""

    repaired: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    intents_seen: int = 0
    payments_checked: int = 0

    @property
    def clean(self) -> bool:
        return not self.alerts


def _actor() -> Actor:
    return Actor.system("stripe:reconcile")


def reconcile_with_stripe(*, gateway: Gateway, days: int = 35) -> Comparison:
    """Compare the last ``days`` of Stripe with the books; repair or raise every difference."""
    since = clock.now() - dt.timedelta(days=days)
    found = Comparison()
    intents = {intent.id: intent for intent in gateway.list_intents(created_since=since)}
    found.intents_seen = len(intents)
    with db.command_session() as session:
        payments = [(p.id, p.status, p.stripe_payment_intent_id, p.created_at)
                    for p in session.execute(sa.select(OnlinePayment).where(
                        OnlinePayment.created_at >= since).order_by(OnlinePayment.id)).scalars()]
        known_intents = set(session.execute(sa.select(OnlinePayment.stripe_payment_intent_id)
                                            .where(OnlinePayment.stripe_payment_intent_id
                                                   .is_not(None))).scalars())
    for payment_id, status, intent_id, created_at in payments:
        if intent_id is None:
            continue
        found.payments_checked += 1
        intent = intents.get(intent_id) or gateway.retrieve_intent(intent_id)
        _compare_payment(found, payment_id, status, created_at, intent)
        _compare_refunds(found, payment_id, status, intent_id, gateway)
    for intent in intents.values():
        if intent.id not in known_intents and intent.metadata.get("online_payment_id"):
            _orphan(found, intent, gateway)
    _replay_unknown_webhooks(found, gateway)
    return found


def _compare_payment(found: Comparison, payment_id: int, status: OnlinePaymentStatus,
                     created_at: dt.datetime, intent: Intent) -> None:
    settled = intent.status in ("succeeded", "canceled") or (
        intent.status == "requires_payment_method" and intent.error_message is not None)
    if status == OnlinePaymentStatus.PENDING and not settled:
        return
    if status == OnlinePaymentStatus.PENDING and clock.now() - created_at < SETTLING:
        return
    if status == OnlinePaymentStatus.SUCCEEDED and intent.status != "succeeded":
        _alert(found, STATE_DIFFERS, f"state_differs:{intent.id}:{intent.status}",
               f"payment {payment_id} is succeeded but its intent is {intent.status}",
               payment_id=payment_id, intent_id=intent.id, ours=status.value,
               theirs=intent.status)
        return
    if status == OnlinePaymentStatus.SUCCEEDED or (
            status == OnlinePaymentStatus.FAILED and intent.status != "succeeded"):
        return
    with db.command_session() as session:
        payment = lock_payment(session, payment_id)
        outcome = apply_intent(session, payment, intent, actor=_actor(), source="reconcile")
    if outcome not in ("unchanged", "already_succeeded", "already_failed", "not_downgraded"):
        found.repaired.append(f"payment {payment_id}: {outcome} (intent {intent.id} is "
                              f"{intent.status} at Stripe; its webhook was lost)")


def _compare_refunds(found: Comparison, payment_id: int, status: OnlinePaymentStatus,
                     intent_id: str, gateway: Gateway) -> None:
    with db.command_session() as session:
        ours = list(session.execute(sa.select(OnlineRefund).where(
            OnlineRefund.online_payment_id == payment_id)).scalars())
        session.expunge_all()
    if not ours and status != OnlinePaymentStatus.SUCCEEDED:
        return  # only money taken can be refunded: saves a call per failed payment
    theirs = gateway.refunds_of(intent_id)
    by_key = {r.metadata.get("refund_key"): r for r in theirs if r.metadata.get("refund_key")}
    by_id = {r.id: r for r in theirs}
    ours_keys = {r.idempotency_key for r in ours}
    ours_ids = {r.stripe_refund_id for r in ours if r.stripe_refund_id}
    for refund in theirs:
        if refund.id not in ours_ids and refund.metadata.get("refund_key") not in ours_keys:
            _alert(found, REFUND_UNBOOKED, f"refund_unbooked:{refund.id}",
                   f"refund {refund.id} on intent {intent_id} is not in the books",
                   refund_id=refund.id, amount_cents=refund.amount, intent_id=intent_id)
    for row in ours:
        theirs_row = by_id.get(row.stripe_refund_id) or by_key.get(row.idempotency_key)
        if row.status == RefundStatus.SUCCEEDED and theirs_row is None:
            _alert(found, REFUND_MISSING, f"refund_missing:{row.id}",
                   f"refund {row.id} of payment {payment_id} is not at Stripe",
                   refund_id=row.id, payment_id=payment_id, amount_cents=row.amount_cents)
        elif row.status == RefundStatus.PENDING and theirs_row is not None \
                and theirs_row.status == "succeeded":
            _adopt_refund(row.id, theirs_row)
            found.repaired.append(f"refund {row.id} of payment {payment_id}: made at Stripe "
                                  f"({theirs_row.id}), its answer had been lost")


def _adopt_refund(refund_id: int, refund: Refund) -> None:
    with db.command_session() as session:
        row = session.get(OnlineRefund, refund_id)
        row.stripe_refund_id = refund.id
        row.status = RefundStatus.SUCCEEDED
        row.succeeded_at = clock.now()
        session.execute(sa.update(StripeJob).where(
            StripeJob.online_refund_id == refund_id, StripeJob.status == JobStatus.QUEUED)
            .values(status=JobStatus.DONE, finished_at=clock.now(), locked_until=None)
            .execution_options(synchronize_session=False))
        record_event(session, _actor(), "online_payment.refunded", "online_payment",
                     row.online_payment_id, redemption_id=row.redemption_id,
                     amount_cents=row.amount_cents, stripe_refund_id=refund.id,
                     source="reconcile")


def _orphan(found: Comparison, intent: Intent, gateway: Gateway) -> None:
    """An intent of ours that no payment holds: cancel it while it can still be paid; if it
    was paid, its payment takes it (when that payment never learnt its intent) or an operator
    must look."""
    if intent.status == "canceled":
        return
    payment_id = int(intent.metadata["online_payment_id"]) \
        if intent.metadata["online_payment_id"].isdigit() else None
    if intent.status in CANCELLABLE:
        try:
            gateway.cancel_intent(intent.id, idempotency_key=f"orphan-{intent.id}-cancel")
        except GatewayRefused:
            return  # it moved on meanwhile: the next run looks again
        with db.command_session() as session:
            record_event(session, _actor(), "online_payment.orphan_intent_cancelled",
                         "online_payment", payment_id or 0, intent_id=intent.id)
        found.repaired.append(f"intent {intent.id} (payment {payment_id}) belonged to no "
                              "payment: cancelled")
        return
    if intent.status == "succeeded" and payment_id is not None:
        with db.command_session() as session:
            payment = lock_payment(session, payment_id)
            if payment is not None and payment.stripe_payment_intent_id is None:
                payment.stripe_payment_intent_id = intent.id
                session.flush()
                outcome = apply_intent(session, payment, intent, actor=_actor(),
                                       source="reconcile")
                found.repaired.append(f"payment {payment_id}: its intent {intent.id} was paid "
                                      f"although the payment could not start: {outcome}")
                return
    if intent.status == "succeeded":
        _alert(found, ORPHAN_PAID, f"orphan_paid:{intent.id}",
               f"intent {intent.id} was paid but belongs to no payment",
               intent_id=intent.id, amount_cents=intent.amount_received or intent.amount)


def _replay_unknown_webhooks(found: Comparison, gateway: Gateway) -> None:
    """A webhook that arrived before its payment knew the intent is applied now."""
    with db.command_session() as session:
        waiting = session.execute(
            sa.select(StripeWebhookEvent.id, StripeWebhookEvent.payment_intent_id,
                      OnlinePayment.id)
            .join(OnlinePayment, OnlinePayment.stripe_payment_intent_id
                  == StripeWebhookEvent.payment_intent_id)
            .where(StripeWebhookEvent.outcome == "unknown_intent")).all()
    for record_id, intent_id, payment_id in waiting:
        intent = gateway.retrieve_intent(intent_id)
        with db.command_session() as session:
            payment = lock_payment(session, payment_id)
            outcome = apply_intent(session, payment, intent, actor=_actor(), source="reconcile")
            session.get(StripeWebhookEvent, record_id).outcome = f"replayed_{outcome}"[:40]
        found.repaired.append(f"webhook for intent {intent_id} (payment {payment_id}) applied "
                              f"late: {outcome}")


def _alert(found: Comparison, kind: str, key: str, line: str, **details) -> None:
    with db.command_session() as session:
        raise_alert(session, kind=kind, key=key, actor=_actor(), **details)
    found.alerts.append(line)


def open_jobs(session) -> dict[str, int]:
    """Queued jobs by kind, for the command's summary."""
    return {kind.value: count for kind, count in session.execute(
        sa.select(StripeJob.kind, sa.func.count()).where(StripeJob.status == JobStatus.QUEUED)
        .group_by(StripeJob.kind))}

