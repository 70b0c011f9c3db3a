"""Review of applications by administrators: the queue and the decisions.

Each service type is decided on its own: approved, rejected, or changes requested with a
message. A provider is approved when at least one of its services is. Only administrators
decide, and never on a provider they belong to.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from voucher import clock
from voucher.accounts.models import Role, User
from voucher.audit.services import Actor
from voucher.errors import DomainError, PermissionDenied, ValidationFailed
from voucher.i18n import localized
from voucher.providers import pricing
from voucher.providers.models import (
    DecisionAction,
    PriceStatus,
    Provider,
    ProviderPrice,
    ProviderService,
    ProviderStatus,
    ServiceStatus,
)
from voucher.providers.notices import notify_provider, record_decision


class Verdict(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class NothingToReview(DomainError):
    code = "nothing_to_review"
    status = 409
    message = _l("Nothing of this provider is waiting for review.")


@dataclass(frozen=True)
class ReviewItem:
    """A service applied for (with its proposed price) or an approved service's price
    increase."""

    offer: ProviderService
    price: ProviderPrice | None
    is_price_increase: bool


def pending_items(session: Session, provider: Provider,
                  pending: dict[int, ProviderPrice] | None = None) -> list[ReviewItem]:
    """``pending``: the pending prices of the provider's offers when already read
    (``pricing.pending_prices``); otherwise one query reads them."""
    if pending is None:
        pending = pricing.pending_prices(session, provider.services)
    items = []
    for offer in provider.services:
        if offer.status == ServiceStatus.SUBMITTED:
            items.append(ReviewItem(offer, pending.get(offer.id), False))
        elif offer.status == ServiceStatus.APPROVED:
            proposal = pending.get(offer.id)
            if proposal is not None:
                items.append(ReviewItem(offer, proposal, True))
    return items


def refresh_review_request(session: Session, provider: Provider) -> None:
    """Keep ``review_requested_at`` (the queue's order) set while anything waits."""
    waits = provider.status != ProviderStatus.REVOKED and (
        provider.status == ProviderStatus.SUBMITTED or bool(pending_items(session, provider)))
    if waits and provider.review_requested_at is None:
        provider.review_requested_at = clock.now()
    elif not waits:
        provider.review_requested_at = None


def review_queue(session: Session) -> list[tuple[Provider, list[ReviewItem]]]:
    """Providers with something waiting for review, the longest-waiting first."""
    providers = session.execute(
        sa.select(Provider).where(Provider.review_requested_at.is_not(None))
        .options(selectinload(Provider.services).selectinload(ProviderService.service_type))
        .order_by(Provider.review_requested_at, Provider.id)
    ).scalars().all()
    pending = pricing.pending_prices(session, [offer for provider in providers
                                               for offer in provider.services])
    return [(provider, pending_items(session, provider, pending)) for provider in providers]


def waited(provider: Provider) -> dt.timedelta:
    return clock.now() - (provider.review_requested_at or clock.now())


def require_reviewer(session: Session, actor: Actor, provider: Provider) -> User:
    """Only an administrator decides, and never on a provider they belong to."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None or user.role != Role.ADMIN or user.provider_id == provider.id:
        raise PermissionDenied()
    return user


def _check_verdicts(session, items, verdicts) -> None:
    errors = {}
    for item in items:
        name = localized(item.offer.service_type, "name")
        verdict, reason = verdicts.get(item.offer.id, (None, ""))
        if verdict is None or (item.is_price_increase and verdict == Verdict.REQUEST_CHANGES):
            errors[f"decision_{item.offer.id}"] = str(_l("Choose a decision for %(service)s.",
                                                         service=name))
        elif verdict != Verdict.APPROVE and not (reason or "").strip():
            errors[f"reason_{item.offer.id}"] = str(_l(
                "Give the reason for %(service)s: the provider sees it.", service=name))
        elif verdict == Verdict.APPROVE and item.price is not None:
            try:
                pricing.check_price_cap(session, item.offer.service_type,
                                        item.price.unit_price_cents)
            except pricing.PriceAboveCap as exc:
                errors[f"decision_{item.offer.id}"] = str(exc)
        if verdict == Verdict.APPROVE and item.price is None:
            errors[f"decision_{item.offer.id}"] = str(_l(
                "%(service)s has no price to approve: request changes.", service=name))
    if errors:
        raise ValidationFailed(errors)


def _decide_price(price: ProviderPrice, approve: bool, actor: Actor) -> None:
    price.status = PriceStatus.APPROVED if approve else PriceStatus.REJECTED
    price.decided_at = clock.now()
    price.decided_by_user_id = actor.user_id
    if approve:  # in force from the decision on, never before it
        price.valid_from = max(price.valid_from, clock.today())


def _decide_item(session: Session, provider: Provider, item: ReviewItem, verdict: Verdict,
                 reason: str, actor: Actor) -> DecisionAction:
    offer, price = item.offer, item.price
    approve = verdict == Verdict.APPROVE
    if item.is_price_increase:
        _decide_price(price, approve, actor)
        action = DecisionAction.PRICE_APPROVED if approve else DecisionAction.PRICE_REJECTED
    else:
        offer.decided_at = clock.now()
        offer.decision_reason = reason or None
        if verdict == Verdict.REQUEST_CHANGES:
            offer.status = ServiceStatus.CHANGES_REQUESTED
            action = DecisionAction.SERVICE_CHANGES_REQUESTED
        else:
            offer.status = ServiceStatus.APPROVED if approve else ServiceStatus.REJECTED
            if price is not None:
                _decide_price(price, approve, actor)
            action = DecisionAction.SERVICE_APPROVED if approve else \
                DecisionAction.SERVICE_REJECTED
    session.flush()
    pricing.refresh_current_price(session, offer)
    record_decision(session, provider, action, actor=actor, reason=reason, offer=offer,
                    unit_price_cents=price.unit_price_cents if price else None)
    return action


def _status_after_review(provider: Provider) -> ProviderStatus:
    statuses = {offer.status for offer in provider.services}
    if provider.status == ProviderStatus.SUSPENDED:
        return ProviderStatus.SUSPENDED
    if ServiceStatus.APPROVED in statuses:
        return ProviderStatus.APPROVED
    if ServiceStatus.CHANGES_REQUESTED in statuses:
        return ProviderStatus.CHANGES_REQUESTED
    return ProviderStatus.REJECTED


_PROVIDER_ACTIONS = {ProviderStatus.APPROVED: DecisionAction.APPROVED,
                     ProviderStatus.REJECTED: DecisionAction.REJECTED,
                     ProviderStatus.CHANGES_REQUESTED: DecisionAction.CHANGES_REQUESTED}


def decide_review(
    session: Session, provider: Provider, *, actor: Actor,
    verdicts: dict[int, tuple[Verdict | None, str]], message: str = "",
) -> None:
    """Decide everything that waits: each service applied for and each price increase.

    ``verdicts`` maps the offer id to (verdict, reason); a rejection or a request for changes
    needs a reason. The provider gets one e-mail with every result; a rejection carries the
    reasons and the instructions for a request for review.
    """
    require_reviewer(session, actor, provider)
    items = pending_items(session, provider)
    if not items or provider.status == ProviderStatus.REVOKED:
        raise NothingToReview()
    _check_verdicts(session, items, verdicts)
    message = (message or "").strip()
    results = []
    for item in items:
        verdict, reason = verdicts[item.offer.id]
        reason = (reason or "").strip()
        action = _decide_item(session, provider, item, verdict, reason, actor)
        results.append({"offer": item.offer, "action": action, "reason": reason,
                        "price_cents": item.price.unit_price_cents if item.price else None})
    status = _status_after_review(provider)
    if status != provider.status:
        provider.status = status
        provider.decided_at = clock.now()
        provider.status_reason = message or None
        record_decision(session, provider, _PROVIDER_ACTIONS[status], actor=actor,
                        reason=message)
    elif message:  # the provider's state stays; the message goes to its history
        record_decision(session, provider, DecisionAction.MESSAGE, actor=actor, reason=message)
    refresh_review_request(session, provider)
    rejected = any(r["action"] in (DecisionAction.SERVICE_REJECTED,
                                   DecisionAction.PRICE_REJECTED) for r in results)
    notify_provider(session, provider, "review_decision", results=results, message=message,
                    appeal=rejected)
