"""Provider self-registration: anyone may create a provider account and an application draft.

One provider per business ID: the second registration of the same ID is refused with a clear
message (also when two people register at the same moment: the unique constraint decides).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher.accounts import passwords
from voucher.accounts.models import Role, User
from voucher.accounts.services import (
    EmailTaken,
    create_user,
    find_user_by_email,
    normalize_email,
)
from voucher.audit.services import Actor
from voucher.errors import DomainError, ValidationFailed
from voucher.providers import identifiers
from voucher.providers.models import DecisionAction, Provider
from voucher.providers.notices import record_decision


class BusinessIdTaken(DomainError):
    code = "business_id_taken"
    status = 409
    message = _l("A provider with this business ID is already registered. If it is your "
                 "company, ask your colleague who registered it, or contact the authority.")


def _find_by_business_id(session: Session, business_id: str) -> Provider | None:
    return session.execute(
        sa.select(Provider).where(Provider.business_id == business_id)).scalar_one_or_none()


def register_provider(
    session: Session, *, business_id: str, legal_name: str, contact_person: str, email: str,
    password: str, language: str, actor: Actor,
) -> tuple[Provider, User]:
    """Create the provider (a draft application) and its first user, who may log in at once.

    Every problem with the input is reported at once, field by field.
    """
    errors: dict[str, str] = {}
    try:
        business_id = identifiers.business_id(business_id)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    email = normalize_email(email)
    problems = passwords.password_problems(password, email=email)
    if problems:
        errors["password"] = " ".join(problems)
    if errors:
        raise ValidationFailed(errors)
    if _find_by_business_id(session, business_id) is not None:
        raise BusinessIdTaken(field="business_id")
    if find_user_by_email(session, email) is not None:
        raise EmailTaken(field="email")
    provider = Provider(business_id=business_id, legal_name=legal_name.strip(),
                        contact_person=contact_person.strip(), email=email)
    try:
        with session.begin_nested():
            session.add(provider)
            session.flush()
    except sa.exc.IntegrityError as exc:  # registered by someone else a moment ago
        raise BusinessIdTaken(field="business_id") from exc
    user = create_user(session, email=email, role=Role.PROVIDER, display_name=contact_person,
                       actor=actor, language=language, password=password,
                       provider_id=provider.id)
    record_decision(session, provider, DecisionAction.REGISTERED,
                    actor=Actor(user.id, f"user:{user.id}", actor.ip, actor.request_id))
    return provider, user
