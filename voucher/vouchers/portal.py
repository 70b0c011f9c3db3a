"""What the client sees of a voucher, and their self-share at a given provider."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.catalogue.rates import self_share_per_unit
from voucher.money import units_times_cents
from voucher.providers.models import Provider, ProviderService, ServiceStatus
from voucher.vouchers import queries
from voucher.vouchers.models import (
    ACTIVE_STATUSES,
    AssignmentStatus,
    Recurrence,
    Voucher,
    VoucherAssignment,
    VoucherPeriod,
)
from voucher.vouchers.units import period_for


@dataclass
class ClientOverview:
    voucher: Voucher
    #: The provider's request waiting for an answer, and the latest answer if it was "no".
    waiting: VoucherAssignment | None
    declined: VoucherAssignment | None
    #: For a monthly voucher: this month's period (units left this month).
    this_month: VoucherPeriod | None
    remaining_value_cents: int

    @property
    def can_choose(self) -> bool:
        return self.voucher.status in ACTIVE_STATUSES and \
            self.voucher.valid_until >= clock.today()


def client_overview(session: Session, voucher: Voucher) -> ClientOverview:
    assignments = queries.assignments_of(session, voucher.id)
    waiting = next((a for a in assignments if a.status == AssignmentStatus.PROPOSED), None)
    last = assignments[-1] if assignments else None
    declined = last if last is not None and last.status == AssignmentStatus.DECLINED else None
    this_month = period_for(session, voucher.id, clock.today()) \
        if voucher.recurrence == Recurrence.MONTHLY else None
    return ClientOverview(voucher, waiting, declined, this_month,
                          units_times_cents(voucher.units_remaining, voucher.unit_value_cents))


@dataclass(frozen=True)
class SelfShareAt:
    voucher: Voucher
    unit_price_cents: int
    self_share_per_unit_cents: int
    self_share_total_cents: int


def self_shares_at(session: Session, user: User, provider: Provider) -> list[SelfShareAt]:
    """The client's self-share at this provider for each of their current vouchers whose
    service it offers in the client's municipality (for the public provider page)."""
    if user.client_id is None or not provider.is_listed:
        return []
    serves = {m.id for m in provider.municipalities}
    offers = {o.service_type_id: o for o in session.execute(
        sa.select(ProviderService).where(ProviderService.provider_id == provider.id,
                                         ProviderService.status == ServiceStatus.APPROVED,
                                         ProviderService.current_price_cents.is_not(None))
    ).scalars()}
    result = []
    for voucher in queries.client_vouchers(session, user):
        offer = offers.get(voucher.service_type_id)
        if voucher.status not in ACTIVE_STATUSES or offer is None or \
                voucher.client.municipality_id not in serves:
            continue
        share = self_share_per_unit(offer.current_price_cents, voucher.unit_value_cents)
        result.append(SelfShareAt(voucher, offer.current_price_cents, share,
                                  units_times_cents(voucher.units_remaining, share)))
    return result
