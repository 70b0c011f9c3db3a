"""The provider's statement of self-shares: what its clients still owe, what they paid online
and the authority has not yet passed on, and the settlement payments (voucher shares and
self-shares shown separately, with the bank's word on each; a rejected or returned payment is
an open item until it is paid again)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.orm import Session, joinedload

from voucher.clients.models import Client
from voucher.payments.models import (
    OnlinePayment,
    OnlinePaymentEvent,
    OnlinePaymentStatus,
    OnlineRefund,
    RefundStatus,
)
from voucher.payments.services import month_of
from voucher.redemptions.models import (
    ClientShareStatus,
    Redemption,
    RedemptionStatus,
    not_corrected,
)
from voucher.settlement.bank_feedback import failed_payments
from voucher.settlement.models import Payment, PaymentBatch
from voucher.vouchers.models import Voucher


@dataclass
class ClientMonth:
    client: Client
    period: dt.date
    total_cents: int = 0
    count: int = 0
    #: Some of the events are in a payment under way: the provider cannot bill them now.
    paying_online: bool = False


@dataclass
class Statement:
    due: list[ClientMonth] = field(default_factory=list)
    #: Self-shares paid online that no settlement payment has passed on yet, and refunds.
    collected_cents: int = 0
    refunded_cents: int = 0
    #: Of ``refunded_cents``, what Stripe has not yet confirmed (deducted all the same).
    refund_pending_cents: int = 0
    #: (payment, batch) newest first.
    payments: list[tuple[Payment, PaymentBatch]] = field(default_factory=list)
    #: Payments the bank rejected or returned, not yet paid again (open items).
    failed: list[Payment] = field(default_factory=list)
    #: Service events a change of decision re-valued: (replacement, the event it replaces),
    #: newest first; the difference is paid, or recovered, with the invoice that carries them.
    revalued: list[tuple[Redemption, Redemption]] = field(default_factory=list)

    @property
    def to_be_paid_cents(self) -> int:
        return self.collected_cents - self.refunded_cents


def statement(session: Session, provider_id: int) -> Statement:
    result = Statement()
    held = set(session.execute(sa.select(OnlinePaymentEvent.live_redemption_id).join(
        OnlinePayment).where(OnlinePayment.provider_id == provider_id,
                             OnlinePayment.status == OnlinePaymentStatus.PENDING,
                             OnlinePaymentEvent.live_redemption_id.is_not(None))).scalars())
    groups: dict[tuple[int, dt.date], ClientMonth] = {}
    for event in session.execute(
            sa.select(Redemption).join(Voucher, Voucher.id == Redemption.voucher_id)
            .where(Redemption.provider_id == provider_id,
                   Redemption.client_share_status == ClientShareStatus.DUE,
                   Redemption.status != RedemptionStatus.VOID, not_corrected())
            .options(joinedload(Redemption.voucher).joinedload(Voucher.client))
            .order_by(Redemption.service_date)).scalars():
        key = (event.voucher.client_id, month_of(event.service_date))
        group = groups.setdefault(key, ClientMonth(event.voucher.client, key[1]))
        group.total_cents += event.client_pays_cents
        group.count += 1
        group.paying_online = group.paying_online or event.id in held
    result.due = sorted(groups.values(), key=lambda g: (g.period, g.client.last_name))
    result.collected_cents = int(session.execute(
        sa.select(sa.func.sum(OnlinePaymentEvent.amount_cents)).join(OnlinePayment)
        .where(OnlinePayment.provider_id == provider_id,
               OnlinePayment.status == OnlinePaymentStatus.SUCCEEDED,
               OnlinePaymentEvent.payout_id.is_(None))).scalar() or 0)
    for status, amount in session.execute(
            sa.select(OnlineRefund.status, sa.func.sum(OnlineRefund.amount_cents))
            .join(OnlinePayment).where(OnlinePayment.provider_id == provider_id,
                                       OnlineRefund.payout_id.is_(None))
            .group_by(OnlineRefund.status)):
        result.refunded_cents += int(amount or 0)
        if status == RefundStatus.PENDING:
            result.refund_pending_cents += int(amount or 0)
    replaced = sa.orm.aliased(Redemption)
    result.revalued = [tuple(row) for row in session.execute(
        sa.select(Redemption, replaced).join(replaced, replaced.id == Redemption.replaces_id)
        .where(Redemption.provider_id == provider_id, Redemption.voucher_change_id.is_not(None))
        .options(joinedload(Redemption.voucher).joinedload(Voucher.client))
        .order_by(Redemption.id.desc()).limit(50))]
    result.payments = list(session.execute(
        sa.select(Payment, PaymentBatch).join(PaymentBatch, PaymentBatch.id == Payment.batch_id)
        .where(Payment.provider_id == provider_id).order_by(Payment.id.desc()).limit(50)).all())
    result.failed = failed_payments(session, provider_id)
    return result
