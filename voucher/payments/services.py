"""Paying self-shares online: what a client owes, starting a payment, confirming the card.

A payment covers the due self-shares of one client at one provider for one month. Starting it
links the events to it under the unique ``live_redemption_id``, so the same event can never be
in two pending or succeeded payments, even when two tabs (or two servers) start at once; the
second start finds the first pending payment and continues it. Nothing here calls Stripe: the
calls are recorded as jobs and made by the request right after its commit (``job_queue``). The
payment's state, and the events' ``client_share_status``, change only when Stripe says so: a
verified webhook, or the intent read from Stripe by a job (``intents``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError, NotFound
from voucher.invoicing.models import Invoice, InvoiceLine, InvoiceStatus
from voucher.payments.job_queue import record_job
from voucher.payments.models import (
    JobKind,
    OnlinePayment,
    OnlinePaymentEvent,
    OnlinePaymentStatus,
    OnlineRefund,
    StripeJob,
)
from voucher.providers.models import Provider
from voucher.redemptions.models import (
    ClientShareStatus,
    Redemption,
    RedemptionStatus,
    not_corrected,
)
from voucher.vouchers.models import Voucher


class NothingToPay(DomainError):
    code = "nothing_to_pay"
    status = 409
    message = _l("There are no self-shares due for this provider and month.")


class PaymentNotPending(DomainError):
    code = "payment_not_pending"
    status = 409
    message = _l("This payment is no longer waiting for a card: see its state below.")


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(period: dt.date) -> dt.date:
    """The first day of the month after ``period``'s."""
    return (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@dataclass
class DueGroup:
    """The self-shares a client owes one provider for one month."""

    provider: Provider
    period: dt.date
    events: list[Redemption] = field(default_factory=list)
    #: A payment already under way for (some of) these events.
    pending_payment_id: int | None = None
    #: The last day to pay online before the provider bills the self-shares itself; None
    #: while the month is not invoiced yet (the pay time starts with the invoice).
    pay_by: dt.date | None = None

    @property
    def total_cents(self) -> int:
        return sum(e.client_pays_cents for e in self.events)


def _due_events(session: Session, client_id: int, *, provider_id: int | None = None,
                period: dt.date | None = None) -> list[Redemption]:
    query = (sa.select(Redemption).join(Voucher, Voucher.id == Redemption.voucher_id)
             .where(Voucher.client_id == client_id,
                    Redemption.client_share_status == ClientShareStatus.DUE,
                    Redemption.status != RedemptionStatus.VOID,
                    Redemption.corrects_id.is_(None), not_corrected())
             .options(joinedload(Redemption.voucher).joinedload(Voucher.service_type))
             .order_by(Redemption.service_date, Redemption.id))
    if provider_id is not None:
        query = query.where(Redemption.provider_id == provider_id)
    if period is not None:
        query = query.where(Redemption.service_date >= period,
                            Redemption.service_date < next_month(period))
    return list(session.execute(query).scalars())


def invoiced_at() -> sa.ScalarSelect:
    """When the event (``Redemption``) reached an invoice that was not rejected: the client's
    time to pay its self-share online runs from then (``billing.bill_unpaid``)."""
    return (sa.select(sa.func.min(Invoice.created_at))
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(InvoiceLine.redemption_id == Redemption.id,
                   Invoice.status != InvoiceStatus.REJECTED)
            .scalar_subquery())


def pay_by(invoiced: dt.datetime, pay_days: int) -> dt.date:
    """The last day to pay online: ``pay_days`` after the day of the invoice (Finnish time)."""
    return clock.local(invoiced).date() + dt.timedelta(days=pay_days)


def pay_time_over(pay_days: int) -> sa.ColumnElement[bool]:
    """The event's self-share may no longer be paid online: its ``pay_by`` day has passed
    (with no pay time, as soon as it is invoiced)."""
    if pay_days <= 0:
        return invoiced_at() <= clock.now()
    return invoiced_at() < clock.start_of_day(clock.today() - dt.timedelta(days=pay_days))


def _live_payments_of(session: Session, redemption_ids: list[int]) -> dict[int, int]:
    """Event id → the live payment holding it."""
    if not redemption_ids:
        return {}
    return dict(session.execute(
        sa.select(OnlinePaymentEvent.live_redemption_id, OnlinePaymentEvent.online_payment_id)
        .where(OnlinePaymentEvent.live_redemption_id.in_(redemption_ids))).all())


def due_self_shares(session: Session, client_id: int, *,
                    pay_days: int | None = None) -> list[DueGroup]:
    """What the client owes, per provider and month (oldest first); with ``pay_days``
    (SELF_SHARE_PAY_DAYS) each month's last day to pay online."""
    events = _due_events(session, client_id)
    held = _live_payments_of(session, [e.id for e in events])
    invoiced = {}
    if pay_days is not None and events:
        invoiced = dict(session.execute(sa.select(Redemption.id, invoiced_at()).where(
            Redemption.id.in_([e.id for e in events]))).all())
    providers = {p.id: p for p in session.execute(sa.select(Provider).where(
        Provider.id.in_({e.provider_id for e in events}))).scalars()}
    groups: dict[tuple[int, dt.date], DueGroup] = {}
    for event in events:
        key = (event.provider_id, month_of(event.service_date))
        group = groups.setdefault(key, DueGroup(providers[event.provider_id], key[1]))
        group.events.append(event)
        if event.id in held:
            group.pending_payment_id = held[event.id]
        if invoiced.get(event.id) is not None:
            day = pay_by(invoiced[event.id], pay_days)
            group.pay_by = day if group.pay_by is None else min(group.pay_by, day)
    return sorted(groups.values(), key=lambda g: (g.period, g.provider.name))


def client_payments(session: Session, client_id: int, limit: int = 50) -> list[OnlinePayment]:
    """The client's payments, newest first."""
    return list(session.execute(
        sa.select(OnlinePayment).where(OnlinePayment.client_id == client_id)
        .options(joinedload(OnlinePayment.events))
        .order_by(OnlinePayment.id.desc()).limit(limit)).unique().scalars())


def refunds_of(session: Session, payment_ids: list[int]) -> dict[int, list[OnlineRefund]]:
    if not payment_ids:
        return {}
    found: dict[int, list[OnlineRefund]] = {}
    for refund in session.execute(sa.select(OnlineRefund).where(
            OnlineRefund.online_payment_id.in_(payment_ids)).order_by(OnlineRefund.id)).scalars():
        found.setdefault(refund.online_payment_id, []).append(refund)
    return found


def find_client_payment(session: Session, *, client_id: int, payment_id: int) -> OnlinePayment:
    """One of the client's payments; NotFound for anyone else's."""
    payment = session.execute(
        sa.select(OnlinePayment).where(OnlinePayment.id == payment_id,
                                       OnlinePayment.client_id == client_id)
    ).scalar_one_or_none() if 0 < payment_id < 2**31 else None
    if payment is None:
        raise NotFound()
    return payment


def start_payment(session: Session, *, client_id: int, provider_id: int, period: dt.date,
                  actor: Actor) -> OnlinePayment:
    """Start paying the client's due self-shares at a provider for a month: a pending payment
    holding the events, whose PaymentIntent the request creates right after the commit. When
    some of the events are already in a pending payment, that payment is continued instead
    (one pending payment per set of events)."""
    events = _due_events(session, client_id, provider_id=provider_id, period=month_of(period))
    if not events:
        raise NothingToPay()
    held = _live_payments_of(session, [e.id for e in events])
    if held:
        return find_client_payment(session, client_id=client_id,
                                   payment_id=min(held.values()))
    payment = OnlinePayment(
        client_id=client_id, provider_id=provider_id, period=month_of(period),
        amount_cents=sum(e.client_pays_cents for e in events), refunded_cents=0,
        status=OnlinePaymentStatus.PENDING, idempotency_key=f"pay-{secrets.token_hex(16)}",
        created_by_user_id=actor.user_id)
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
            session.add_all([OnlinePaymentEvent(
                online_payment_id=payment.id, redemption_id=e.id, live_redemption_id=e.id,
                amount_cents=e.client_pays_cents) for e in events])
            session.flush()
    except sa.exc.IntegrityError:
        # A parallel start took (some of) the events first: continue that payment.
        held = _live_payments_of(session, [e.id for e in events])
        if not held:
            raise
        return find_client_payment(session, client_id=client_id,
                                   payment_id=min(held.values()))
    record_job(session, kind=JobKind.CREATE_INTENT, payment_id=payment.id,
               key=payment.idempotency_key, by_request=True)
    record_event(session, actor, "online_payment.started", "online_payment", payment.id,
                 client_id=client_id, provider_id=provider_id, period=payment.period,
                 amount_cents=payment.amount_cents,
                 redemption_ids=[e.id for e in events])
    return payment


def request_confirmation(session: Session, *, payment: OnlinePayment, token: str,
                         actor: Actor) -> StripeJob:
    """Pay a pending payment with the card of a Stripe.js token: recorded now, sent to Stripe
    by the request right after the commit; the job's ``result`` then tells the page what
    Stripe answered (succeeded, 3-D Secure needed, declined, no answer)."""
    if payment.status != OnlinePaymentStatus.PENDING or not payment.stripe_payment_intent_id:
        raise PaymentNotPending()
    job = record_job(session, kind=JobKind.CONFIRM_INTENT, payment_id=payment.id,
                     key=f"confirm-{payment.id}-{secrets.token_hex(8)}",
                     params={"token": token}, by_request=True)
    record_event(session, actor, "online_payment.confirm_requested", "online_payment",
                 payment.id, client_id=payment.client_id, job_id=job.id)
    return job


def confirmation_of(session: Session, payment: OnlinePayment,
                    job_id: int | None) -> StripeJob | None:
    """The payment's confirmation attempt ``job_id``, for its page (None for anything else)."""
    if job_id is None:
        return None
    return session.execute(sa.select(StripeJob).where(
        StripeJob.id == job_id, StripeJob.online_payment_id == payment.id,
        StripeJob.kind == JobKind.CONFIRM_INTENT)).scalar_one_or_none()


def payment_events(session: Session, payment: OnlinePayment) -> list[Redemption]:
    """The service events a payment covers."""
    return list(session.execute(
        sa.select(Redemption).join(OnlinePaymentEvent,
                                   OnlinePaymentEvent.redemption_id == Redemption.id)
        .where(OnlinePaymentEvent.online_payment_id == payment.id)
        .options(joinedload(Redemption.voucher).joinedload(Voucher.service_type))
        .order_by(Redemption.service_date, Redemption.id)).scalars())
