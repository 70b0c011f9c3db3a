"""What every change of a provider's state leaves behind: a decision row for the provider's
history, an audit event, and an e-mail to the provider's users in each user's language."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.accounts.models import Role, User
from voucher.audit.services import Actor, record_event
from voucher.mail.services import absolute_url, queue_email
from voucher.providers.models import DecisionAction, Provider, ProviderDecision, ProviderService


def record_decision(
    session: Session, provider: Provider, action: DecisionAction, *, actor: Actor,
    reason: str | None = None, offer: ProviderService | None = None, **data,
) -> ProviderDecision:
    """Write who did what, when and why, as a decision row and an audit event."""
    decision = ProviderDecision(provider_id=provider.id, action=action.value,
                                provider_service_id=offer.id if offer else None,
                                reason=reason or None, decided_by_user_id=actor.user_id)
    session.add(decision)
    session.flush()
    if offer is not None:
        data.setdefault("provider_service_id", offer.id)
        data.setdefault("service_type_id", offer.service_type_id)
    record_event(session, actor, f"provider.{action.value}", "provider", provider.id,
                 status=str(provider.status), reason=reason, decision_id=decision.id, **data)
    return decision


def provider_users(session: Session, provider: Provider) -> list[User]:
    return list(session.execute(
        sa.select(User).where(User.provider_id == provider.id, User.role == Role.PROVIDER,
                              User.is_active.is_(True)).order_by(User.id)).scalars())


def notify_provider(session: Session, provider: Provider, template: str, **context) -> None:
    """E-mail each active user of the provider, in the user's own language."""
    link = absolute_url("providers.my_application")
    for user in provider_users(session, provider):
        queue_email(session, to=user.email, template=f"providers/{template}",
                    language=user.language, provider=provider, user=user, link=link, **context)


def decisions_of(session: Session, provider: Provider) -> list[ProviderDecision]:
    """The provider's history, newest first."""
    return list(session.execute(
        sa.select(ProviderDecision).where(ProviderDecision.provider_id == provider.id)
        .order_by(ProviderDecision.at.desc(), ProviderDecision.id.desc())).scalars())
