"""Changes of an approved provider's payout account: requested, then approved by a second person.

A provider that has been approved (approved or suspended) cannot change the account it is paid
to by saving its application: the new IBAN and BIC become a ``BankAccountChange`` that an
administrator approves or rejects with a reason. Four eyes: the approver is an administrator,
not the person who asked and not a user of the provider. Every request and decision e-mails
each user of the provider (so that a change made with a stolen login is noticed) and the
request e-mails the administrators; the audit trail and the provider's history show the old
and the new account masked. Until the approval, the provider's verified account
(``Provider.iban``, ``Provider.bic``) stays as it is, and settlement pays only that account.

A provider whose application has not been approved yet enters its account in the application,
which is reviewed with everything else (``application.save_application``).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from voucher import clock
from voucher.accounts.models import Role, User
from voucher.audit.services import Actor
from voucher.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from voucher.mail.services import absolute_url, queue_email
from voucher.providers.models import (
    BankAccountChange,
    BankAccountChangeStatus,
    DecisionAction,
    Provider,
    ProviderStatus,
)
from voucher.providers.notices import provider_users, record_decision

#: States in which the provider has been approved, so its account is a verified one.
VERIFIED_STATES = (ProviderStatus.APPROVED, ProviderStatus.SUSPENDED)
MAX_REASON_LENGTH = 2000


class ChangeAlreadyDecided(DomainError):
    code = "bank_account_change_decided"
    status = 409
    message = _l("This change of bank account has already been decided or withdrawn.")


def mask_iban(iban: str | None) -> str:
    """'FI4950009420028730' → 'FI49 **** **** **87 30': the country, the check digits and the
    last four characters, in groups of four."""
    compact = (iban or "").replace(" ", "").upper()
    if len(compact) <= 8:
        return "*" * len(compact)
    masked = compact[:4] + "*" * (len(compact) - 8) + compact[-4:]
    return " ".join(masked[i:i + 4] for i in range(0, len(masked), 4))


def masked_account(iban: str | None, bic: str | None) -> str:
    """The account as the audit trail and e-mails show it."""
    if not iban:
        return "–"
    return f"{mask_iban(iban)} ({bic})" if bic else mask_iban(iban)


def account_is_verified(provider: Provider) -> bool:
    """Whether the provider's account was checked in an approval (so changes need one)."""
    return provider.status in VERIFIED_STATES


def pending_change(session: Session, provider: Provider) -> BankAccountChange | None:
    return session.execute(
        sa.select(BankAccountChange).where(
            BankAccountChange.provider_id == provider.id,
            BankAccountChange.status == BankAccountChangeStatus.PENDING)
    ).scalar_one_or_none()


def pending_changes(session: Session) -> list[BankAccountChange]:
    """Every change waiting for a decision, oldest first (the administrators' list)."""
    return list(session.execute(
        sa.select(BankAccountChange)
        .where(BankAccountChange.status == BankAccountChangeStatus.PENDING)
        .options(joinedload(BankAccountChange.provider))
        .order_by(BankAccountChange.requested_at, BankAccountChange.id)).scalars())


def _administrators(session: Session) -> list[User]:
    return list(session.execute(sa.select(User).where(
        User.role == Role.ADMIN, User.is_active.is_(True)).order_by(User.id)).scalars())


def _notify(session: Session, change: BankAccountChange, template: str, *,
            admins: bool) -> None:
    """E-mail every user of the provider (and, for a request, every administrator)."""
    provider = change.provider
    context = dict(provider=provider, change=change,
                   old_account=masked_account(change.old_iban, change.old_bic),
                   new_account=masked_account(change.iban, change.bic))
    link = absolute_url("providers.my_application")
    for user in provider_users(session, provider):
        queue_email(session, to=user.email, template=f"providers/{template}",
                    language=user.language, user=user, link=link, **context)
    if admins:
        link = absolute_url("providers.admin_provider", provider_id=provider.id)
        for user in _administrators(session):
            queue_email(session, to=user.email, template="providers/bank_account_change_review",
                        language=user.language, user=user, link=link, **context)


def _withdraw(session: Session, change: BankAccountChange) -> None:
    change.status = BankAccountChangeStatus.WITHDRAWN
    change.decided_at = clock.now()
    session.flush()


def request_bank_account_change(session: Session, provider: Provider, *, iban: str | None,
                                bic: str | None, actor: Actor) -> BankAccountChange | None:
    """The provider asks to be paid to another account (IBAN and BIC in canonical form).

    The same account as the verified one withdraws a pending request; the same account as the
    pending request changes nothing; another account replaces the pending request. Returns the
    request waiting for approval, if any. Settlement keeps paying the verified account."""
    iban = iban or None
    bic = bic or None
    if not iban:
        raise ValidationFailed({"iban": str(_l(
            "An approved provider must have a bank account. To change it, enter the new IBAN."))})
    pending = pending_change(session, provider)
    if (iban, bic) == (provider.iban, provider.bic):
        if pending is not None:
            _withdraw(session, pending)
            record_decision(session, provider, DecisionAction.BANK_ACCOUNT_CHANGE_WITHDRAWN,
                            actor=actor, change_id=pending.id,
                            old_account=masked_account(pending.old_iban, pending.old_bic),
                            new_account=masked_account(pending.iban, pending.bic))
        return None
    if pending is not None:
        if (iban, bic) == (pending.iban, pending.bic):
            return pending
        _withdraw(session, pending)
    change = BankAccountChange(provider_id=provider.id, provider=provider,
                               old_iban=provider.iban, old_bic=provider.bic, iban=iban, bic=bic,
                               status=BankAccountChangeStatus.PENDING,
                               requested_at=clock.now(), requested_by_user_id=actor.user_id)
    session.add(change)
    session.flush()
    record_decision(session, provider, DecisionAction.BANK_ACCOUNT_CHANGE_REQUESTED,
                    actor=actor, change_id=change.id,
                    replaces_change_id=pending.id if pending is not None else None,
                    old_account=masked_account(change.old_iban, change.old_bic),
                    new_account=masked_account(change.iban, change.bic))
    _notify(session, change, "bank_account_change_requested", admins=True)
    return change


def find_change(session: Session, change_id: int) -> BankAccountChange:
    change = session.execute(
        sa.select(BankAccountChange).where(BankAccountChange.id == change_id)
        .options(joinedload(BankAccountChange.provider))
    ).scalar_one_or_none() if 0 < change_id < 2**31 else None
    if change is None:
        raise NotFound()
    return change


def _require_second_person(session: Session, actor: Actor, change: BankAccountChange) -> User:
    """An administrator who neither asked for the change nor belongs to the provider."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if (user is None or user.role != Role.ADMIN or user.provider_id == change.provider_id
            or user.id == change.requested_by_user_id):
        raise PermissionDenied()
    return user


def _decide(session: Session, change: BankAccountChange, status: BankAccountChangeStatus,
            user: User, reason: str | None) -> None:
    """Pending → decided, as one conditional update (two administrators cannot both decide)."""
    decided = session.execute(
        sa.update(BankAccountChange)
        .where(BankAccountChange.id == change.id,
               BankAccountChange.status == BankAccountChangeStatus.PENDING)
        .values(status=status, decided_at=clock.now(), decided_by_user_id=user.id,
                decision_reason=reason or None)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(change)
    if decided != 1:
        raise ChangeAlreadyDecided()


def _reason(text: str | None, *, required: bool) -> str | None:
    reason = (text or "").strip()
    if required and not reason:
        raise ValidationFailed({"reason": str(_l(
            "Give the reason: the provider's users see it."))})
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationFailed({"reason": str(_l(
            "The reason can be at most %(max)d characters long.", max=MAX_REASON_LENGTH))})
    return reason or None


def approve_bank_account_change(session: Session, change: BankAccountChange, *, actor: Actor,
                                reason: str | None = None) -> None:
    """The new account becomes the verified one: the next settlement pays it."""
    user = _require_second_person(session, actor, change)
    reason = _reason(reason, required=False)
    _decide(session, change, BankAccountChangeStatus.APPROVED, user, reason)
    provider = change.provider
    if (provider.iban, provider.bic) != (change.old_iban, change.old_bic):
        raise ChangeAlreadyDecided()  # cannot happen: the account changes only here
    provider.iban, provider.bic = change.iban, change.bic
    record_decision(session, provider, DecisionAction.BANK_ACCOUNT_CHANGE_APPROVED,
                    actor=actor, reason=reason, change_id=change.id,
                    old_account=masked_account(change.old_iban, change.old_bic),
                    new_account=masked_account(change.iban, change.bic))
    _notify(session, change, "bank_account_change_decided", admins=False)


def reject_bank_account_change(session: Session, change: BankAccountChange, *, actor: Actor,
                               reason: str) -> None:
    """The verified account stays; the provider's users read why."""
    user = _require_second_person(session, actor, change)
    reason = _reason(reason, required=True)
    _decide(session, change, BankAccountChangeStatus.REJECTED, user, reason)
    record_decision(session, change.provider, DecisionAction.BANK_ACCOUNT_CHANGE_REJECTED,
                    actor=actor, reason=reason, change_id=change.id,
                    old_account=masked_account(change.old_iban, change.old_bic),
                    new_account=masked_account(change.iban, change.bic))
    _notify(session, change, "bank_account_change_decided", admins=False)
