"""Passing collected self-shares on to providers with the settlement.

A settlement payment to a provider adds the self-shares its clients paid online that no payment
has passed on yet, minus the refunds not yet deducted (a refund after a payout is deducted from
the next one). When a provider's refunds outweigh its new self-shares, both wait for a later
run. Rows are claimed by id with ``payout_id IS NULL``, so a webhook arriving during the run
cannot slip in uncounted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.payments.models import (
    OnlinePayment,
    OnlinePaymentEvent,
    OnlinePaymentStatus,
    OnlineRefund,
)


@dataclass
class SelfSharePayout:
    """What one provider's payment passes on: the net amount and the rows it settles."""

    provider_id: int
    collected_cents: int = 0
    refunded_cents: int = 0
    link_ids: list[int] = field(default_factory=list)
    refund_ids: list[int] = field(default_factory=list)

    @property
    def net_cents(self) -> int:
        return self.collected_cents - self.refunded_cents


def unsettled_self_shares(session: Session, provider_ids) -> dict[int, SelfSharePayout]:
    """Per provider (of those given): collected self-shares and refunds not yet settled.
    Providers whose refunds exceed their collected self-shares are left out (they wait)."""
    provider_ids = sorted(set(provider_ids))
    if not provider_ids:
        return {}
    payouts: dict[int, SelfSharePayout] = {}
    for link_id, provider_id, amount in session.execute(
            sa.select(OnlinePaymentEvent.id, OnlinePayment.provider_id,
                      OnlinePaymentEvent.amount_cents)
            .join(OnlinePayment, OnlinePayment.id == OnlinePaymentEvent.online_payment_id)
            .where(OnlinePayment.status == OnlinePaymentStatus.SUCCEEDED,
                   OnlinePaymentEvent.payout_id.is_(None),
                   OnlinePayment.provider_id.in_(provider_ids))):
        payout = payouts.setdefault(provider_id, SelfSharePayout(provider_id))
        payout.collected_cents += int(amount)
        payout.link_ids.append(link_id)
    for refund_id, provider_id, amount in session.execute(
            sa.select(OnlineRefund.id, OnlinePayment.provider_id, OnlineRefund.amount_cents)
            .join(OnlinePayment, OnlinePayment.id == OnlineRefund.online_payment_id)
            .where(OnlineRefund.payout_id.is_(None),
                   OnlinePayment.provider_id.in_(provider_ids))):
        payout = payouts.setdefault(provider_id, SelfSharePayout(provider_id))
        payout.refunded_cents += int(amount)
        payout.refund_ids.append(refund_id)
    return {p: payout for p, payout in payouts.items() if payout.net_cents >= 0}


def claim_for_payment(session: Session, payout: SelfSharePayout, payment_id: int) -> None:
    """Mark the payout's rows as passed on by a settlement payment; fails loudly when another
    run claimed any of them first."""
    for model, ids in ((OnlinePaymentEvent, payout.link_ids), (OnlineRefund, payout.refund_ids)):
        if not ids:
            continue
        claimed = session.execute(
            sa.update(model).where(model.id.in_(ids), model.payout_id.is_(None))
            .values(payout_id=payment_id)
            .execution_options(synchronize_session=False)).rowcount
        if claimed != len(ids):
            raise RuntimeError(f"{len(ids) - claimed} self-share rows were settled meanwhile")


def self_share_events_of(session: Session, payment_id: int):
    """The self-share rows a settlement payment passed on: (link or refund, payment)."""
    links = session.execute(
        sa.select(OnlinePaymentEvent, OnlinePayment)
        .join(OnlinePayment, OnlinePayment.id == OnlinePaymentEvent.online_payment_id)
        .where(OnlinePaymentEvent.payout_id == payment_id)
        .order_by(OnlinePaymentEvent.redemption_id)).all()
    refunds = session.execute(
        sa.select(OnlineRefund, OnlinePayment)
        .join(OnlinePayment, OnlinePayment.id == OnlineRefund.online_payment_id)
        .where(OnlineRefund.payout_id == payment_id).order_by(OnlineRefund.id)).all()
    return links, refunds
