"""What a resident pays at a provider, said plainly on its public page: the price, what a
service voucher of the service's full value pays (the catalogue's value in force today), and
what is left for the client, by the same rule as the client's own provider choice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from voucher.catalogue.rates import full_value_cents, rates_in_force, self_share_per_unit
from voucher.providers.models import ProviderService


@dataclass(frozen=True)
class PlainPrice:
    offer: ProviderService
    #: What a voucher of the full value pays per unit; for an income-related service, the
    #: most it pays (the client's decision gives their own value).
    voucher_pays_cents: int
    client_pays_cents: int

    @property
    def income_related(self) -> bool:
        return self.offer.service_type.income_related


def plain_prices(session: Session, offers: list[ProviderService],
                 today: dt.date) -> list[PlainPrice]:
    """The offers that have a voucher value in force today, with what the voucher and the
    client would pay."""
    rates = rates_in_force(session, {o.service_type_id for o in offers}, today)
    prices = []
    for offer in offers:
        if offer.service_type_id in rates:
            value = full_value_cents(offer.service_type, rates[offer.service_type_id])
            prices.append(PlainPrice(offer, value,
                                     self_share_per_unit(offer.current_price_cents, value)))
    return prices
