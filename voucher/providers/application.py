"""The provider's application: a draft saved half-done, submitted when complete.

What the provider may change depends on where the application is:

- draft, changes requested, rejected: everything but the business ID (the legal name only in a
  draft);
- waiting for review: nothing until the decision;
- approved or suspended: contact data, registers, insurance, area and languages freely; prices
  by the rules of ``pricing.set_offer_price``; new services are drafts until submitted; the
  bank account only through a change an administrator approves (``bank_accounts``);
- revoked: nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.catalogue.models import ServiceType
from voucher.errors import DomainError, ValidationFailed
from voucher.municipalities.models import Municipality
from voucher.providers import bank_accounts, identifiers, pricing
from voucher.providers.completeness import missing_items
from voucher.providers.models import (
    DecisionAction,
    Provider,
    ProviderLanguage,
    ProviderService,
    ProviderStatus,
    ServiceStatus,
)
from voucher.providers.notices import notify_provider, record_decision
from voucher.providers.review import refresh_review_request

#: Company, register and insurance data the application form edits.
DETAIL_FIELDS = (
    "legal_name", "marketing_name", "street_address", "postal_code", "city", "contact_person",
    "email", "phone", "website", "iban", "bic", "in_prepayment_register", "in_trade_register",
    "soteri_registered", "soteri_registration_number", "criminal_record_checks", "insurer",
    "insurance_policy_number", "insurance_valid_until",
)
LOCKED = (ProviderStatus.SUBMITTED, ProviderStatus.REVOKED)
#: States in which submitting sends the whole application (not only new services) for review.
APPLYING = (ProviderStatus.DRAFT, ProviderStatus.CHANGES_REQUESTED, ProviderStatus.REJECTED)
#: Offers the provider is still working on; submitting sends them for review.
OPEN_OFFERS = (ServiceStatus.DRAFT, ServiceStatus.CHANGES_REQUESTED)


class ApplicationLocked(DomainError):
    code = "application_locked"
    status = 409
    message = _l("The application is waiting for review and cannot be changed until the "
                 "decision.")


class ApplicationClosed(DomainError):
    code = "application_closed"
    status = 409
    message = _l("The approval has been revoked; the application can no longer be changed.")


class NothingToSubmit(DomainError):
    code = "nothing_to_submit"
    status = 409
    message = _l("There is nothing new to submit: add a service or change a price first.")


@dataclass(frozen=True)
class OfferInput:
    """What the provider typed for one service type."""

    service_type_id: int
    offered: bool
    price_cents: int | None
    description: str
    criteria_confirmed: bool


def ensure_editable(provider: Provider) -> None:
    if provider.status == ProviderStatus.REVOKED:
        raise ApplicationClosed()
    if provider.status == ProviderStatus.SUBMITTED:
        raise ApplicationLocked()


def offers_by_type(provider: Provider) -> dict[int, ProviderService]:
    return {offer.service_type_id: offer for offer in provider.services}


def _validate(session: Session, provider: Provider, details: dict,
              offers: list[OfferInput]) -> dict:
    """Check formats (drafts may be incomplete, but what is there must be right); return the
    details with identifiers in canonical form."""
    errors: dict[str, str] = {}
    details = dict(details)
    for field, check in (("iban", identifiers.bank_account), ("bic", identifiers.bank_code)):
        if details.get(field):
            try:
                details[field] = check(details[field])
            except ValidationFailed as exc:
                errors.update(exc.errors)
    existing = offers_by_type(provider)
    for item in offers:
        offer = existing.get(item.service_type_id)
        field = f"service_{item.service_type_id}_price"
        if offer is not None and offer.status == ServiceStatus.SUBMITTED:
            continue
        if offer is not None and offer.status == ServiceStatus.APPROVED and \
                item.price_cents is None:
            errors[field] = str(_l("An approved service must have a price."))
            continue
        service_type = offer.service_type if offer is not None else \
            session.get(ServiceType, item.service_type_id)
        if offer is None and item.offered and (service_type is None or
                                               not service_type.is_active):
            errors[f"service_{item.service_type_id}_offered"] = str(_l(
                "This service is not open for applications."))
            continue
        approved = offer is not None and offer.status == ServiceStatus.APPROVED
        if item.price_cents is not None and (item.offered or approved):
            try:
                pricing.check_price_cap(session, service_type, item.price_cents, field=field)
            except pricing.PriceAboveCap as exc:
                errors[field] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return details


def save_application(
    session: Session, provider: Provider, *, actor: Actor, details: dict,
    municipality_ids: list[int], languages: list[str], offers: list[OfferInput],
) -> None:
    """Save what the provider typed, complete or not. Formats are checked (business data and
    prices above the cap are refused); completeness is checked only on submission."""
    ensure_editable(provider)
    details = _validate(session, provider, details, offers)
    changed = []
    if bank_accounts.account_is_verified(provider) and ("iban" in details or "bic" in details):
        # An approved provider's account changes only with a second person's approval.
        bank_accounts.request_bank_account_change(
            session, provider, iban=details.pop("iban", provider.iban),
            bic=details.pop("bic", provider.bic), actor=actor)
    for name in DETAIL_FIELDS:
        if name not in details or (name == "legal_name" and
                                   provider.status != ProviderStatus.DRAFT):
            continue
        value = details[name]
        if isinstance(value, str):
            value = value.strip() or None
        if name == "legal_name" and not value:
            continue
        if getattr(provider, name) != value:
            setattr(provider, name, value)
            changed.append(name)
    area = list(session.execute(sa.select(Municipality).where(
        Municipality.id.in_(municipality_ids or [])).order_by(Municipality.code)).scalars())
    if {m.id for m in area} != {m.id for m in provider.municipalities}:
        provider.municipalities = area
        changed.append("municipalities")
    wanted = sorted({code for code in languages if code in ("fi", "sv", "en")})
    if wanted != sorted(provider.language_codes):
        provider.languages = [ProviderLanguage(language=code) for code in wanted]
        changed.append("languages")
    session.flush()
    for item in offers:
        changed.extend(_save_offer(session, provider, item, actor=actor))
    refresh_review_request(session, provider)
    if changed:
        record_event(session, actor, "provider.application_saved", "provider", provider.id,
                     status=str(provider.status), changed=changed)


def _save_offer(session: Session, provider: Provider, item: OfferInput, *,
                actor: Actor) -> list[str]:
    """Save one service type's row of the form; return what changed."""
    offer = offers_by_type(provider).get(item.service_type_id)
    key = f"service_{item.service_type_id}"
    if offer is not None and offer.status == ServiceStatus.SUBMITTED:
        return []
    if offer is not None and offer.status == ServiceStatus.APPROVED:
        return _save_approved_offer(session, provider, offer, item, actor=actor)
    if not item.offered:
        if offer is not None and offer.status in OPEN_OFFERS:
            offer.status = ServiceStatus.WITHDRAWN
            return [f"{key}_withdrawn"]
        return []
    created = offer is None
    if created:
        offer = ProviderService(provider_id=provider.id, service_type_id=item.service_type_id,
                                status=ServiceStatus.DRAFT, description="")
        session.add(offer)
        provider.services.append(offer)
        session.flush()
    before = (offer.status, offer.description, offer.criteria_confirmed)
    if offer.status in (ServiceStatus.REJECTED, ServiceStatus.WITHDRAWN):
        offer.status = ServiceStatus.DRAFT  # applying again
    offer.description = (item.description or "").strip()
    offer.criteria_confirmed = item.criteria_confirmed
    change = pricing.PriceChange.UNCHANGED
    if item.price_cents is not None:
        change = pricing.set_offer_price(session, offer, item.price_cents)
    if not created and change == pricing.PriceChange.UNCHANGED and \
            before == (offer.status, offer.description, offer.criteria_confirmed):
        return []
    return [key]


def _save_approved_offer(session: Session, provider: Provider, offer: ProviderService,
                         item: OfferInput, *, actor: Actor) -> list[str]:
    changed = []
    description = (item.description or "").strip()
    if description != offer.description:
        offer.description = description
        changed.append(f"service_{offer.service_type_id}_description")
    change = pricing.set_offer_price(session, offer, item.price_cents)
    if change in (pricing.PriceChange.INCREASE_REQUESTED, pricing.PriceChange.DECREASED):
        action = DecisionAction.PRICE_DECREASED if change == pricing.PriceChange.DECREASED \
            else DecisionAction.PRICE_INCREASE_REQUESTED
        record_decision(session, provider, action, actor=actor, offer=offer,
                        unit_price_cents=item.price_cents)
        notify_provider(session, provider, "price_changed", offer=offer, change=str(change),
                        price_cents=item.price_cents)
    if change != pricing.PriceChange.UNCHANGED:
        changed.append(f"service_{offer.service_type_id}_price")
    return changed


def submit_application(session: Session, provider: Provider, *, actor: Actor) -> None:
    """Send the application, or an approved provider's new services, for review.

    Everything required is checked at once; ``ValidationFailed`` lists every missing item.
    """
    ensure_editable(provider)
    missing = missing_items(session, provider)
    if missing:
        raise ValidationFailed(missing, message=_l(
            "The application is not complete yet. Fill in the missing items and submit again."))
    opened = [offer for offer in provider.services if offer.status in OPEN_OFFERS]
    applying = provider.status in APPLYING
    if not opened and not applying:
        raise NothingToSubmit()
    now = clock.now()
    for offer in opened:
        offer.status = ServiceStatus.SUBMITTED
    if applying:
        provider.status = ProviderStatus.SUBMITTED
        provider.status_reason = None
    provider.submitted_at = now
    refresh_review_request(session, provider)
    record_decision(session, provider, DecisionAction.SUBMITTED, actor=actor,
                    services=[offer.service_type_id for offer in opened])
    notify_provider(session, provider, "submitted", offers=opened)
