"""Finding listed providers: approved, not suspended, offering an approved service.

One set of filters serves the public register, the register API and the client's choice of
provider: ``find_listed`` gives one row per offer (provider × service type),
``find_listed_providers`` one row per provider with all its listed offers. Both filter, sort
and page in the database (indexes on the service, area and language tables), so they never
load every provider.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from voucher.pages import count_rows
from voucher.providers.models import (
    Provider,
    ProviderLanguage,
    ProviderService,
    ProviderStatus,
    ServiceStatus,
    provider_municipalities,
)

SORTS = ("name", "price", "rating")


@dataclass(frozen=True)
class Listing:
    """One provider's approved offer of one service type, with today's price."""

    provider: Provider
    offer: ProviderService


@dataclass(frozen=True)
class ProviderListing:
    """A listed provider with its listed offers; ``price_cents`` is the lowest price among the
    offers that matched the search (the price of the chosen service when one was chosen)."""

    provider: Provider
    offers: list[ProviderService]
    price_cents: int


def _filters(*, service_type_id, municipality_id, language, text) -> list:
    """Conditions on Provider joined with ProviderService that make an offer listed and
    matching."""
    conditions = [Provider.status == ProviderStatus.APPROVED,
                  ProviderService.status == ServiceStatus.APPROVED,
                  ProviderService.current_price_cents.is_not(None)]
    if service_type_id is not None:
        conditions.append(ProviderService.service_type_id == service_type_id)
    if municipality_id is not None:
        conditions.append(sa.exists().where(
            provider_municipalities.c.provider_id == Provider.id,
            provider_municipalities.c.municipality_id == municipality_id))
    if language is not None:
        conditions.append(sa.exists().where(ProviderLanguage.provider_id == Provider.id,
                                            ProviderLanguage.language == language))
    if text and text.strip():
        pattern = "%" + text.strip().lower().replace("\\", "\\\\").replace("%", r"\%") \
            .replace("_", r"\_") + "%"
        conditions.append(sa.or_(
            sa.func.lower(Provider.legal_name).like(pattern, escape="\\"),
            sa.func.lower(sa.func.coalesce(Provider.marketing_name, "")).like(pattern,
                                                                              escape="\\"),
            sa.func.lower(ProviderService.description).like(pattern, escape="\\")))
    return conditions


def _sort_name():
    return sa.func.lower(sa.func.coalesce(Provider.marketing_name, Provider.legal_name))


def find_listed(
    session: Session, *, service_type_id: int | None = None, municipality_id: int | None = None,
    language: str | None = None, text: str | None = None, sort: str = "name",
    limit: int = 50, offset: int = 0,
) -> tuple[list[Listing], int]:
    """Listed offers matching the filters, sorted, one page of them and the total count.

    Without a service type every approved offer is a row (a provider offering two services
    appears twice); sorting by price is meaningful with a service type.
    """
    query = (
        sa.select(Provider, ProviderService)
        .join(ProviderService, ProviderService.provider_id == Provider.id)
        .where(*_filters(service_type_id=service_type_id, municipality_id=municipality_id,
                         language=language, text=text))
    )
    total = count_rows(session, query)
    name = _sort_name()
    order = ([ProviderService.current_price_cents, name] if sort == "price" else [name])
    rows = session.execute(
        query.order_by(*order, Provider.id, ProviderService.id).limit(limit).offset(offset)
    ).all()
    return [Listing(provider, offer) for provider, offer in rows], total


def find_listed_providers(
    session: Session, *, service_type_id: int | None = None, municipality_id: int | None = None,
    language: str | None = None, text: str | None = None, sort: str = "name",
    limit: int = 50, offset: int = 0,
) -> tuple[list[ProviderListing], int]:
    """Listed providers with a matching offer, one page of them and the total count.

    ``sort``: "name", "price" (lowest matching price first), or "rating" (best published
    rating first; providers without one after them, by name).
    """
    conditions = _filters(service_type_id=service_type_id, municipality_id=municipality_id,
                          language=language, text=text)
    joined = sa.select(Provider.id).join(ProviderService,
                                         ProviderService.provider_id == Provider.id)
    price = sa.func.min(ProviderService.current_price_cents)
    name = _sort_name()
    order = [price, name] if sort == "price" else [name]
    if sort == "rating":
        from voucher.feedback.services import published_ratings

        ratings = published_ratings()
        joined = joined.outerjoin(ratings, ratings.c.provider_id == Provider.id)
        order = [sa.nulls_last(sa.desc(sa.func.max(ratings.c.rating))), name]
    # One statement gives the page and, with a window over the groups, the total.
    page = session.execute(
        joined.add_columns(price, sa.func.count().over()).where(*conditions)
        .group_by(Provider.id).order_by(*order, Provider.id).limit(limit).offset(offset)
    ).all()
    if not page:
        total = 0 if offset == 0 else session.execute(
            joined.with_only_columns(sa.func.count(sa.distinct(Provider.id))).where(*conditions)
        ).scalar_one()
        return [], total
    total = page[0][2]
    loaded = {provider.id: provider for provider in session.execute(
        sa.select(Provider).where(Provider.id.in_([row[0] for row in page]))
        .options(selectinload(Provider.languages), selectinload(Provider.municipalities),
                 selectinload(Provider.services).selectinload(ProviderService.service_type))
    ).scalars()}
    listings = []
    for provider_id, price_cents, _total in page:
        provider = loaded[provider_id]
        offers = [offer for offer in provider.services
                  if offer.status == ServiceStatus.APPROVED
                  and offer.current_price_cents is not None]
        listings.append(ProviderListing(provider, offers, price_cents))
    return listings, total


def find_listed_provider(session: Session, provider_id: int) -> ProviderListing | None:
    """One listed provider with its listed offers, or None when it is not listed."""
    provider = session.get(Provider, provider_id)
    if provider is None or not provider.is_listed:
        return None
    offers = [offer for offer in provider.services
              if offer.status == ServiceStatus.APPROVED and offer.current_price_cents is not None]
    if not offers:
        return None
    return ProviderListing(provider, offers, min(o.current_price_cents for o in offers))


def ratings_for(session: Session, provider_ids: list[int]) -> dict[int, float]:
    """Average client ratings (0–10) of providers, for the register and its API; a provider
    with too few ratings has none (the pages show nothing, the API answers ``rating: null``)."""
    from voucher.feedback.services import average_ratings

    return average_ratings(session, provider_ids)
