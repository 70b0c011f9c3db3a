"""Supervision of approved providers: suspension, reinstatement, revocation, and what has
expired.

A suspended provider is hidden from the register until reinstated; a revoked approval is
permanent (the company may apply again only as a new decision on a new application). Both
carry a reason the provider sees; a revocation notice carries the appeal instructions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from voucher import clock
from voucher.audit.services import Actor
from voucher.errors import DomainError, ValidationFailed
from voucher.labels import label
from voucher.providers.models import (
    DecisionAction,
    Provider,
    ProviderDocument,
    ProviderStatus,
)
from voucher.providers.notices import notify_provider, record_decision
from voucher.providers.review import require_reviewer

#: Providers whose insurance and documents the expiry watch follows.
WATCHED = (ProviderStatus.SUBMITTED, ProviderStatus.CHANGES_REQUESTED, ProviderStatus.APPROVED,
           ProviderStatus.SUSPENDED)


#: The only state in which a provider records service events and invoices.
ACTIVE = (ProviderStatus.APPROVED,)


class ProviderNotActive(DomainError):
    code = "provider_not_active"
    status = 409
    message = _l("Your company's approval is “%(status)s”: no service events can be recorded "
                 "and no invoices sent. Your service events, invoices and what you are still "
                 "owed stay visible.")


def ensure_provider_active(session: Session, provider_id: int | None) -> Provider:
    """The one check before anything is recorded or invoiced (portal form, CSV import, API,
    corrections, monthly invoices): a suspended or revoked provider (or one not approved yet)
    records nothing new. What it recorded before stays, is invoiced if already invoiced, and
    is paid when its approved invoices are settled."""
    provider = session.get(Provider, provider_id) if provider_id is not None else None
    if provider is None or provider.status not in ACTIVE:
        raise ProviderNotActive(status=label(provider.status) if provider else "–")
    return provider


class WrongProviderState(DomainError):
    code = "wrong_provider_state"
    status = 409
    message = _l("This cannot be done while the provider's state is “%(status)s”.")


def _change_state(session: Session, provider: Provider, *, actor: Actor, reason: str,
                  allowed: tuple, to: ProviderStatus, action: DecisionAction,
                  template: str) -> None:
    require_reviewer(session, actor, provider)
    if provider.status not in allowed:
        raise WrongProviderState(status=label(provider.status))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": str(_l("Give the reason: the provider sees it."))})
    provider.status = to
    provider.status_reason = reason
    provider.decided_at = clock.now()
    if to == ProviderStatus.REVOKED:
        provider.review_requested_at = None
    record_decision(session, provider, action, actor=actor, reason=reason)
    notify_provider(session, provider, template, reason=reason)


def suspend_provider(session: Session, provider: Provider, *, actor: Actor, reason: str) -> None:
    """Hide an approved provider from the register for now; its approvals stay."""
    _change_state(session, provider, actor=actor, reason=reason,
                  allowed=(ProviderStatus.APPROVED,), to=ProviderStatus.SUSPENDED,
                  action=DecisionAction.SUSPENDED, template="suspended")


def reinstate_provider(session: Session, provider: Provider, *, actor: Actor,
                       reason: str) -> None:
    """Lift a suspension: the provider is listed again with its approved services."""
    _change_state(session, provider, actor=actor, reason=reason,
                  allowed=(ProviderStatus.SUSPENDED,), to=ProviderStatus.APPROVED,
                  action=DecisionAction.REINSTATED, template="reinstated")


def revoke_provider(session: Session, provider: Provider, *, actor: Actor, reason: str) -> None:
    """Revoke the approval for good; the notice carries the appeal instructions."""
    _change_state(session, provider, actor=actor, reason=reason,
                  allowed=(ProviderStatus.APPROVED, ProviderStatus.SUSPENDED),
                  to=ProviderStatus.REVOKED, action=DecisionAction.REVOKED, template="revoked")


@dataclass(frozen=True)
class ExpiringItem:
    """The liability insurance (``document`` None) or a document with a validity date."""

    provider: Provider
    key: str
    valid_until: dt.date
    document: ProviderDocument | None = None


def dated_items(provider: Provider) -> list[ExpiringItem]:
    """The provider's insurance and current documents that have a validity date."""
    items = []
    if provider.insurance_valid_until:
        items.append(ExpiringItem(provider, "insurance", provider.insurance_valid_until))
    for document in provider.documents:
        if document.removed_at is None and document.valid_until:
            items.append(ExpiringItem(provider, f"document:{document.id}", document.valid_until,
                                      document))
    return items


def _dated_before(day: dt.date):
    """Providers followed by the watch with the insurance or a document ending before
    ``day``."""
    document_ends = sa.exists().where(ProviderDocument.provider_id == Provider.id,
                                      ProviderDocument.removed_at.is_(None),
                                      ProviderDocument.valid_until < day)
    return (sa.select(Provider)
            .where(Provider.status.in_(WATCHED),
                   sa.or_(Provider.insurance_valid_until < day, document_ends))
            .options(selectinload(Provider.documents))
            .order_by(Provider.id))


def providers_ending_before(session: Session, day: dt.date) -> list[Provider]:
    return list(session.execute(_dated_before(day)).scalars())


def expired_items(provider: Provider, today: dt.date | None = None) -> list[ExpiringItem]:
    """What of the provider has expired: the administrator's flag."""
    today = today or clock.today()
    return [item for item in dated_items(provider) if item.valid_until < today]


def flagged_providers(session: Session) -> list[tuple[Provider, list[ExpiringItem]]]:
    """Providers with an expired insurance or document, for the administrators' attention."""
    today = clock.today()
    return [(provider, expired_items(provider, today))
            for provider in providers_ending_before(session, today)]
