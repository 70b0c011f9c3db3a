"""Prices with their validity: "the approved price on date D" is always answerable.

Price changes follow the rules of ``set_offer_price``: decreases at once, increases after
approval, never above the service type's price cap.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

import voucher.catalogue.labels  # noqa: F401  (unit names in messages)
from voucher import clock
from voucher.catalogue.models import ServiceType
from voucher.catalogue.rates import NoRateInForce, rate_on
from voucher.errors import DomainError
from voucher.i18n import current_language
from voucher.labels import label
from voucher.money import format_cents
from voucher.providers.models import PriceStatus, ProviderPrice, ProviderService, ServiceStatus


def approved_price_on(session: Session, provider_service_id: int, day: dt.date) -> int | None:
    """The approved unit price in force on ``day`` (the newest approved price that started on
    or before it), or None when there is none."""
    return session.execute(
        sa.select(ProviderPrice.unit_price_cents)
        .where(ProviderPrice.provider_service_id == provider_service_id,
               ProviderPrice.status == PriceStatus.APPROVED,
               ProviderPrice.valid_from <= day)
        .order_by(ProviderPrice.valid_from.desc(), ProviderPrice.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def provider_service_for(
    session: Session, provider_id: int, service_type_id: int
) -> ProviderService | None:
    """The provider's offer of a service type, approved or not."""
    return session.execute(
        sa.select(ProviderService).where(ProviderService.provider_id == provider_id,
                                         ProviderService.service_type_id == service_type_id)
    ).scalar_one_or_none()


def approved_price_for(
    session: Session, provider_id: int, service_type_id: int, day: dt.date
) -> int | None:
    """The provider's approved price of a service type on ``day``; None when the service is
    not approved or has no price in force then."""
    offer = provider_service_for(session, provider_id, service_type_id)
    if offer is None or offer.status != ServiceStatus.APPROVED:
        return None
    return approved_price_on(session, offer.id, day)


def refresh_current_price(session: Session, offer: ProviderService) -> None:
    """Keep ``current_price_cents`` (used by the register's search and sort) equal to the
    approved price in force today."""
    offer.current_price_cents = (
        approved_price_on(session, offer.id, clock.today())
        if offer.status == ServiceStatus.APPROVED else None
    )


class PriceAboveCap(DomainError):
    code = "price_above_cap"
    status = 422
    message = _l("The price is above the price cap of %(cap)s per %(unit)s in force for this "
                 "service. Enter at most %(cap)s.")


def check_price_cap(session: Session, service_type: ServiceType, price_cents: int,
                    *, field: str | None = None) -> None:
    """Refuse a price above the service type's cap in force today."""
    try:
        cap = rate_on(session, service_type.id, clock.today()).price_cap_cents
    except NoRateInForce:
        return
    if cap is not None and price_cents > cap:
        raise PriceAboveCap(field=field, cap=format_cents(cap, current_language()),
                            unit=label(service_type.unit))


def pending_price(session: Session, offer: ProviderService) -> ProviderPrice | None:
    """The price the provider proposed and the authority has not yet decided."""
    return session.execute(
        sa.select(ProviderPrice).where(ProviderPrice.provider_service_id == offer.id,
                                       ProviderPrice.status == PriceStatus.PENDING)
        .order_by(ProviderPrice.id.desc()).limit(1)
    ).scalar_one_or_none()


def pending_prices(session: Session, offers) -> dict[int, ProviderPrice]:
    """``pending_price`` of each offer, in one query: offer id → its newest pending price."""
    ids = [offer.id for offer in offers]
    if not ids:
        return {}
    newest = {}
    for price in session.execute(
            sa.select(ProviderPrice).where(ProviderPrice.provider_service_id.in_(ids),
                                           ProviderPrice.status == PriceStatus.PENDING)
            .order_by(ProviderPrice.id)).scalars():
        newest[price.provider_service_id] = price  # a later one replaces an earlier one
    return newest


class PriceChange(enum.StrEnum):
    UNCHANGED = "unchanged"
    PROPOSED = "proposed"
    INCREASE_REQUESTED = "increase_requested"
    INCREASE_WITHDRAWN = "increase_withdrawn"
    DECREASED = "decreased"


def set_offer_price(session: Session, offer: ProviderService, price_cents: int) -> PriceChange:
    """Apply a price the provider typed.

    Before the service is approved the price is a proposal, reviewed with the service. After
    approval a decrease takes effect at once (an approved price from today), while an increase
    waits for approval and the old price stays in force until then. A proposal not yet decided
    is the provider's to change or withdraw; decided prices are never changed.
    """
    proposal = pending_price(session, offer)
    if offer.status != ServiceStatus.APPROVED:
        if proposal is None:
            session.add(ProviderPrice(provider_service_id=offer.id, unit_price_cents=price_cents,
                                      valid_from=clock.today()))
        elif proposal.unit_price_cents == price_cents:
            return PriceChange.UNCHANGED
        else:
            proposal.unit_price_cents = price_cents
            proposal.requested_at = clock.now()
        session.flush()
        return PriceChange.PROPOSED
    current = approved_price_on(session, offer.id, clock.today())
    if proposal is not None and proposal.unit_price_cents == price_cents:
        return PriceChange.UNCHANGED
    if current is not None and price_cents == current:
        if proposal is None:
            return PriceChange.UNCHANGED
        session.delete(proposal)
        session.flush()
        return PriceChange.INCREASE_WITHDRAWN
    if current is None or price_cents > current:
        if proposal is None:
            proposal = ProviderPrice(provider_service_id=offer.id, unit_price_cents=price_cents,
                                     valid_from=clock.today())
            session.add(proposal)
        proposal.unit_price_cents = price_cents
        proposal.requested_at = clock.now()
        session.flush()
        return PriceChange.INCREASE_REQUESTED
    if proposal is not None:
        session.delete(proposal)
    session.add(ProviderPrice(provider_service_id=offer.id, unit_price_cents=price_cents,
                              valid_from=clock.today(), status=PriceStatus.APPROVED,
                              decided_at=clock.now()))
    session.flush()
    refresh_current_price(session, offer)
    return PriceChange.DECREASED


def approved_price_subquery(provider_id, service_type_id, day: dt.date) -> sa.ScalarSelect:
    """``approved_price_for`` as a scalar subquery (the arguments may be columns), so that a
    caller can load the price together with the row it belongs to in one round trip."""
    return (
        sa.select(ProviderPrice.unit_price_cents)
        .join(ProviderService, ProviderService.id == ProviderPrice.provider_service_id)
        .where(ProviderService.provider_id == provider_id,
               ProviderService.service_type_id == service_type_id,
               ProviderService.status == ServiceStatus.APPROVED,
               ProviderPrice.status == PriceStatus.APPROVED,
               ProviderPrice.valid_from <= day)
        .order_by(ProviderPrice.valid_from.desc(), ProviderPrice.id.desc())
        .limit(1)
        .scalar_subquery()
    )
