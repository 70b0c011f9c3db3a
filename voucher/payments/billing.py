"""Self-shares the provider bills itself: its own choice, or the client did not pay online within
SELF_SHARE_PAY_DAYS of the month's invoice (the ``payments bill-unpaid`` command, daily), and
card payments left half-way.
Events held by a pending online payment are left alone; conditional updates make a webhook and
the billing that race each other end in one state only."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError
from voucher.payments.job_queue import record_job
from voucher.payments.models import (
    JobKind,
    OnlinePayment,
    OnlinePaymentEvent,
    OnlinePaymentStatus,
    StripeJob,
)
from voucher.payments.services import next_month, pay_time_over
from voucher.redemptions.models import (
    ClientShareStatus,
    Redemption,
    RedemptionStatus,
    not_corrected,
)
from voucher.vouchers.models import Voucher


class NothingToBill(DomainError):
    code = "nothing_to_bill"
    status = 409
    message = _l("There are no self-shares due for this client and month that are not being "
                 "paid online right now.")


def _billable(*conditions):
    not_held = ~sa.exists(sa.select(OnlinePaymentEvent.id).where(
        OnlinePaymentEvent.live_redemption_id == Redemption.id))
    return sa.and_(Redemption.client_share_status == ClientShareStatus.DUE,
                   Redemption.status != RedemptionStatus.VOID, not_corrected(), not_held,
                   *conditions)


def _mark(session: Session, ids: list[int]) -> int:
    if not ids:
        return 0
    return session.execute(
        sa.update(Redemption).where(Redemption.id.in_(ids), _billable())
        .values(client_share_status=ClientShareStatus.BILLED_BY_PROVIDER)
        .execution_options(synchronize_session=False)).rowcount


def bill_by_provider(session: Session, *, provider_id: int, client_id: int, period: dt.date,
                     actor: Actor) -> int:
    """The provider bills a client's due self-shares of a month itself; returns how many."""
    end = next_month(period)
    ids = list(session.execute(
        sa.select(Redemption.id).join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(_billable(Redemption.provider_id == provider_id, Voucher.client_id == client_id,
                         Redemption.service_date >= period, Redemption.service_date < end))
    ).scalars())
    billed = _mark(session, ids)
    if not billed:
        raise NothingToBill()
    record_event(session, actor, "self_share.billed_by_provider", "provider", provider_id,
                 client_id=client_id, period=period, redemption_ids=ids)
    return billed


#: A payment still waiting for its card after this long was left half-way.
ABANDONED_AFTER = dt.timedelta(days=1)


def abandon_stale_payments(session: Session, *, actor: Actor) -> int:
    """Pending payments nobody finished within ABANDONED_AFTER: a job cancels the intent at
    Stripe and, once Stripe says it is cancelled (no money can come on it any more), the
    payment fails and lets its events go, to be paid anew or billed by the provider. An intent
    paid meanwhile is recorded as paid instead. Returns how many cancellations were queued."""
    stale = session.execute(sa.select(OnlinePayment).where(
        OnlinePayment.status == OnlinePaymentStatus.PENDING,
        OnlinePayment.stripe_payment_intent_id.is_not(None),
        OnlinePayment.created_at < clock.now() - ABANDONED_AFTER,
        ~sa.exists(sa.select(StripeJob.id).where(
            StripeJob.online_payment_id == OnlinePayment.id,
            StripeJob.kind == JobKind.CANCEL_INTENT)))
        .order_by(OnlinePayment.id)).scalars().all()
    for payment in stale:
        record_job(session, kind=JobKind.CANCEL_INTENT, payment_id=payment.id,
                   key=f"cancel-{payment.id}")
        record_event(session, actor, "online_payment.cancel_requested", "online_payment",
                     payment.id, client_id=payment.client_id)
    return len(stale)


def bill_unpaid(session: Session, *, days: int, actor: Actor) -> int:
    """Self-shares still due after their ``services.pay_by`` day (``days`` after the day of
    the invoice that carries their event) go to the provider to bill; returns how many."""
    ids = list(session.execute(sa.select(Redemption.id).where(
        _billable(pay_time_over(days)))).scalars())
    billed = _mark(session, ids)
    if billed:
        record_event(session, actor, "self_share.billed_unpaid", "redemption", ids[0],
                     days=days, count=billed)
    return billed
