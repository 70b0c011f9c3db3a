"""The client's choice of provider, and the provider's answer.

The client (or a case manager on their behalf) sees the listed providers of the voucher's
service in the client's municipality with the client's own self-share, ``max(0, price − value)``
per unit and for the units left, and chooses one. The provider accepts or declines with a
reason; only an accepted provider is in charge (``Voucher.provider_id``) and can record service
events. A client who changes provider keeps the current one until the new one accepts.

A client who never logs in hands the decision letter to a provider instead: the provider
activates the voucher with the voucher code and the confirmation code, which counts as the
client's choice and the provider's acceptance at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor, FreeText, record_event
from voucher.catalogue.rates import self_share_per_unit
from voucher.errors import ConcurrentUpdate, DomainError, ValidationFailed
from voucher.money import units_times_cents
from voucher.providers.listing import find_listed
from voucher.providers.models import Provider, ProviderService
from voucher.vouchers import notices, states
from voucher.vouchers.codes import confirmation_matches, normalize_voucher_code
from voucher.vouchers.models import (
    ACTIVE_STATUSES,
    AssignmentStatus,
    Voucher,
    VoucherAssignment,
    VoucherStatus,
)

#: Sort orders of the comparison; self-share follows price (it is price minus a fixed value).
SORTS = {"self_share": "price", "price": "price", "name": "name"}
MAX_LISTED = 500
#: Failed activations one provider user may make in an hour before being stopped.
MAX_ACTIVATION_FAILURES = 10


class ChoiceRefused(DomainError):
    code = "choice_refused"
    status = 409


class ActivationFailed(DomainError):
    code = "activation_failed"
    status = 422
    message = _l("No usable voucher has this voucher code and confirmation code. Check both "
                 "codes on the decision letter.")


class TooManyActivationAttempts(DomainError):
    code = "too_many_attempts"
    status = 429
    message = _l("Too many failed activations in the last hour. Try again later.")


@dataclass(frozen=True)
class ProviderOption:
    provider: Provider
    offer: ProviderService
    unit_price_cents: int
    self_share_per_unit_cents: int
    #: The self-share for all the units the voucher has left, at today's price.
    self_share_total_cents: int


def provider_options(
    session: Session, voucher: Voucher, *, sort: str = "self_share",
    language: str | None = None,
) -> list[ProviderOption]:
    """The listed providers of the voucher's service in the client's municipality."""
    listings, _total = find_listed(
        session, service_type_id=voucher.service_type_id,
        municipality_id=voucher.client.municipality_id, language=language,
        sort=SORTS.get(sort, "price"), limit=MAX_LISTED)
    options = []
    for listing in listings:
        price = listing.offer.current_price_cents
        share = self_share_per_unit(price, voucher.unit_value_cents)
        options.append(ProviderOption(listing.provider, listing.offer, price, share,
                                      units_times_cents(voucher.units_remaining, share)))
    return options


def open_assignment(session: Session, voucher_id: int,
                    status: AssignmentStatus) -> VoucherAssignment | None:
    """The voucher's proposed (waiting) or accepted (in charge) assignment."""
    return session.execute(
        sa.select(VoucherAssignment).where(VoucherAssignment.voucher_id == voucher_id,
                                           VoucherAssignment.status == status)
    ).scalar_one_or_none()


def _require_choosable(voucher: Voucher) -> None:
    states.require_status(voucher, *ACTIVE_STATUSES)
    if voucher.valid_until < clock.today():
        raise ChoiceRefused(_l("The voucher's validity has ended."))


def _require_listed(session: Session, voucher: Voucher, provider_id: int) -> None:
    if not any(o.provider.id == provider_id for o in provider_options(session, voucher)):
        raise ChoiceRefused(_l(
            "The provider is not an approved provider of this service in the client's "
            "municipality."), field="provider")


def _flush(session: Session) -> None:
    """Flush; two people changing one voucher's provider at once meet the unique indexes."""
    try:
        session.flush()
    except sa.exc.IntegrityError as exc:
        raise ConcurrentUpdate() from exc


def _move_assignment(session: Session, assignment: VoucherAssignment, expected: AssignmentStatus,
                     status: AssignmentStatus, **values) -> None:
    """Change an assignment's state only if it is still ``expected`` (a conditional UPDATE):
    an answer racing a withdrawal, or two answers, cannot both win."""
    _flush(session)
    try:
        moved = session.execute(
            sa.update(VoucherAssignment)
            .where(VoucherAssignment.id == assignment.id, VoucherAssignment.status == expected)
            .values(status=status, **values).execution_options(synchronize_session=False)
        ).rowcount
    except sa.exc.IntegrityError as exc:
        raise ConcurrentUpdate() from exc
    session.refresh(assignment)
    if moved != 1:
        raise ChoiceRefused(_l("The request is no longer waiting for an answer."))


def choose_provider(session: Session, voucher: Voucher, *, provider_id: int, actor: Actor,
                    via: str) -> VoucherAssignment:
    """Ask a provider to take the voucher (``via``: "client" or "case_manager"). A request
    still waiting for another provider's answer is withdrawn."""
    _require_choosable(voucher)
    if voucher.provider_id == provider_id:
        raise ChoiceRefused(_l("This provider is already in charge of the voucher."))
    _require_listed(session, voucher, provider_id)
    waiting = open_assignment(session, voucher.id, AssignmentStatus.PROPOSED)
    if waiting is not None and waiting.provider_id == provider_id:
        raise ChoiceRefused(_l("This provider has already been asked and has not answered "
                               "yet."))
    if waiting is not None:
        _move_assignment(session, waiting, AssignmentStatus.PROPOSED, AssignmentStatus.ENDED,
                         ended_at=clock.now())
        notices.notify_provider(session, waiting.provider, voucher, "request_withdrawn")
    assignment = VoucherAssignment(voucher_id=voucher.id, provider_id=provider_id,
                                   status=AssignmentStatus.PROPOSED, chosen_via=via,
                                   chosen_by_user_id=actor.user_id, chosen_at=clock.now())
    session.add(assignment)
    _flush(session)
    record_event(session, actor, "voucher.provider_chosen", "voucher", voucher.id,
                 client_id=voucher.client_id, provider_id=provider_id, via=via,
                 assignment_id=assignment.id)
    notices.notify_provider(session, assignment.provider, voucher, "request_new")
    return assignment


def _take_charge(session: Session, voucher: Voucher, assignment: VoucherAssignment,
                 actor: Actor) -> None:
    """Make ``assignment`` the accepted one: the previous provider's assignment ends."""
    previous = open_assignment(session, voucher.id, AssignmentStatus.ACCEPTED)
    if previous is not None:
        _move_assignment(session, previous, AssignmentStatus.ACCEPTED, AssignmentStatus.ENDED,
                         ended_at=clock.now())
        notices.notify_provider(session, previous.provider, voucher, "assignment_ended")
    _move_assignment(session, assignment, AssignmentStatus.PROPOSED, AssignmentStatus.ACCEPTED,
                     responded_at=clock.now(), responded_by_user_id=actor.user_id)
    if voucher.status == VoucherStatus.ISSUED:
        states.move(session, voucher, VoucherStatus.ASSIGNED, provider_id=assignment.provider_id)
    else:
        states.update_in_state(session, voucher, provider_id=assignment.provider_id)
    record_event(session, actor, "voucher.assigned", "voucher", voucher.id,
                 client_id=voucher.client_id, provider_id=assignment.provider_id,
                 previous_provider_id=previous.provider_id if previous else None)


def accept_request(session: Session, assignment: VoucherAssignment, *, actor: Actor) -> None:
    """The provider takes the client: the voucher is assigned to it and usable."""
    voucher = assignment.voucher
    _require_choosable(voucher)
    _take_charge(session, voucher, assignment, actor)
    record_event(session, actor, "voucher.request_accepted", "voucher", voucher.id,
                 client_id=voucher.client_id, assignment_id=assignment.id)
    notices.notify_client(session, voucher, "request_accepted", provider=assignment.provider)
    if assignment.chosen_via == "case_manager":
        notices.notify_user(session, _user(session, assignment.chosen_by_user_id), voucher,
                            "request_answered", provider=assignment.provider, accepted=True)


def decline_request(session: Session, assignment: VoucherAssignment, *, reason: str,
                    actor: Actor) -> None:
    """The provider declines with a reason; the client chooses again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": str(_l("Write the reason for declining."))})
    _move_assignment(session, assignment, AssignmentStatus.PROPOSED, AssignmentStatus.DECLINED,
                     decline_reason=reason, responded_at=clock.now(),
                     responded_by_user_id=actor.user_id)
    voucher = assignment.voucher
    record_event(session, actor, "voucher.request_declined", "voucher", voucher.id,
                 client_id=voucher.client_id, assignment_id=assignment.id,
                 reason=FreeText(reason))
    notices.notify_client(session, voucher, "request_declined", provider=assignment.provider,
                          reason=reason)
    if assignment.chosen_via == "case_manager":
        notices.notify_user(session, _user(session, assignment.chosen_by_user_id), voucher,
                            "request_answered", provider=assignment.provider, accepted=False,
                            reason=reason)


def _user(session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id else None


def recent_activation_failures(session: Session, user_id: int) -> int:
    since = clock.now() - dt.timedelta(hours=1)
    return session.execute(
        sa.select(sa.func.count()).select_from(AuditEvent)
        .where(AuditEvent.actor_user_id == user_id, AuditEvent.at >= since,
               AuditEvent.action == "voucher.activation_failed")
    ).scalar_one()


def record_failed_activation(session: Session, *, provider_id: int, actor: Actor) -> None:
    """A wrong pair of codes counts towards MAX_ACTIVATION_FAILURES an hour (the audit event
    ``voucher.activation_failed`` is the count)."""
    record_event(session, actor, "voucher.activation_failed", "provider", provider_id)


def activate_voucher(session: Session, *, provider: Provider, code: str,
                     confirmation_code: str, actor: Actor) -> Voucher:
    """The provider activates a voucher from the client's decision letter. A wrong pair of
    codes is refused (ActivationFailed) without saying which one was wrong; the caller counts
    it with ``record_failed_activation`` in a unit that outlives the refusal."""
    if recent_activation_failures(session, actor.user_id) >= MAX_ACTIVATION_FAILURES:
        raise TooManyActivationAttempts()
    normalized = normalize_voucher_code(code)
    voucher = session.execute(sa.select(Voucher).where(Voucher.code == normalized)
                              ).scalar_one_or_none() if normalized else None
    if voucher is None or not confirmation_matches(voucher.confirmation_code,
                                                   confirmation_code):
        raise ActivationFailed(field="code")
    if voucher.provider_id == provider.id:
        raise ChoiceRefused(_l("The voucher is already in use with your company."))
    if voucher.status == VoucherStatus.ASSIGNED:
        raise ChoiceRefused(_l(
            "The voucher is in use with another provider. The client, or their case manager, "
            "can change the provider."))
    _require_choosable(voucher)
    if not any(o.provider.id == provider.id for o in provider_options(session, voucher)):
        raise ChoiceRefused(_l(
            "Your company is not an approved provider of this service in the client's "
            "municipality."))
    waiting = open_assignment(session, voucher.id, AssignmentStatus.PROPOSED)
    if waiting is not None and waiting.provider_id != provider.id:
        _move_assignment(session, waiting, AssignmentStatus.PROPOSED, AssignmentStatus.ENDED,
                         ended_at=clock.now())
        notices.notify_provider(session, waiting.provider, voucher, "request_withdrawn")
        waiting = None
    assignment = waiting or VoucherAssignment(
        voucher_id=voucher.id, provider_id=provider.id, chosen_via="activation",
        chosen_by_user_id=actor.user_id, chosen_at=clock.now())
    session.add(assignment)
    _take_charge(session, voucher, assignment, actor)
    record_event(session, actor, "voucher.activated", "voucher", voucher.id,
                 client_id=voucher.client_id, provider_id=provider.id)
    notices.notify_client(session, voucher, "activated", provider=provider)
    return voucher
