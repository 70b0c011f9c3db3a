"""The provider's sites: offices and other places of business, each with its municipality."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.audit.services import Actor, record_event
from voucher.errors import NotFound
from voucher.municipalities.models import Municipality
from voucher.providers.application import ensure_editable
from voucher.providers.models import Provider, ProviderSite


def add_site(session: Session, provider: Provider, *, actor: Actor, name: str,
             street_address: str, postal_code: str, city: str,
             municipality_id: int | None) -> ProviderSite:
    """Add a site; ``municipality_id`` None means outside the member municipalities."""
    ensure_editable(provider)
    if municipality_id is not None and session.get(Municipality, municipality_id) is None:
        raise NotFound()
    site = ProviderSite(provider_id=provider.id, name=name.strip(),
                        street_address=street_address.strip(), postal_code=postal_code.strip(),
                        city=city.strip(), municipality_id=municipality_id)
    session.add(site)
    provider.sites.append(site)
    session.flush()
    record_event(session, actor, "provider.site_added", "provider", provider.id, site_id=site.id)
    return site


def remove_site(session: Session, provider: Provider, site_id: int, *, actor: Actor) -> None:
    ensure_editable(provider)
    site = session.execute(sa.select(ProviderSite).where(
        ProviderSite.id == site_id, ProviderSite.provider_id == provider.id)).scalar_one_or_none()
    if site is None:
        raise NotFound()
    provider.sites.remove(site)
    session.flush()
    record_event(session, actor, "provider.site_removed", "provider", provider.id, site_id=site_id)
