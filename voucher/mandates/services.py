"""Recording, revoking and finding mandates. A mandate in force is one not revoked whose
days include today (Finnish time); every request of a representative checks it again, so an
expired or revoked mandate stops working at once."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.audit.services import Actor, record_event
from voucher.clients.identity import InvalidIdentityCode, identity_code_index, protect_identity_code
from voucher.clients.models import Client
from voucher.errors import DomainError, NotFound, ValidationFailed
from voucher.mandates.models import Mandate, MandateBasis


class MandateNotRevocable(DomainError):
    code = "mandate_not_revocable"
    status = 409
    message = _l("A guardianship appointed by the court cannot be revoked here. Contact your "
                 "case manager.")


def record_mandate(session: Session, *, client: Client, representative_code: str,
                   representative_name: str, basis: MandateBasis, may_choose_provider: bool,
                   may_pay: bool, may_give_feedback: bool, valid_from: dt.date,
                   valid_until: dt.date, user: User, actor: Actor,
                   representative_email: str | None = None,
                   notices_to_representative: bool = False) -> Mandate:
    """A case manager records who acts for the client. The representative is identified by
    identity code (their strong identification finds the mandate), never by name."""
    errors = {}
    try:
        protected = protect_identity_code(representative_code)
    except InvalidIdentityCode:
        errors["representative_code"] = str(_l("Check the personal identity code."))
    else:
        if protected.index == client.identity_code_index:
            errors["representative_code"] = str(_l("A client cannot represent themselves."))
    if notices_to_representative and not representative_email:
        errors["representative_email"] = str(_l("Enter the representative's e-mail address "
                                                "for the notices."))
    if valid_until < valid_from:
        errors["valid_until"] = str(_l("The end cannot be before the start."))
    if errors:
        raise ValidationFailed(errors)
    mandate = Mandate(
        client_id=client.id, representative_code_index=protected.index,
        representative_code_encrypted=protected.encrypted,
        representative_code_masked=protected.masked,
        representative_name=representative_name.strip()[:200], basis=basis,
        may_choose_provider=may_choose_provider, may_pay=may_pay,
        may_give_feedback=may_give_feedback, valid_from=valid_from, valid_until=valid_until,
        representative_email=(representative_email or "").strip().lower() or None,
        notices_to_representative=notices_to_representative, created_by_user_id=user.id)
    session.add(mandate)
    session.flush()
    record_event(session, actor, "mandate.recorded", "mandate", mandate.id, client_id=client.id,
                 basis=basis.value, valid_from=valid_from, valid_until=valid_until,
                 scopes=scopes_of(mandate), notices_to_representative=notices_to_representative)
    return mandate


def scopes_of(mandate: Mandate) -> list[str]:
    return [name for name, allowed in (("choose_provider", mandate.may_choose_provider),
                                       ("pay", mandate.may_pay),
                                       ("feedback", mandate.may_give_feedback)) if allowed]


def revoke_mandate(session: Session, mandate: Mandate, *, user: User, actor: Actor,
                   by_client: bool) -> None:
    """End a mandate now. The client may revoke one given with their consent, not a court's
    guardianship; a case manager may revoke either."""
    if mandate.revoked_at is not None:
        return
    if by_client and mandate.basis == MandateBasis.GUARDIAN:
        raise MandateNotRevocable()
    mandate.revoked_at = clock.now()
    mandate.revoked_by_user_id = user.id
    record_event(session, actor, "mandate.revoked", "mandate", mandate.id,
                 client_id=mandate.client_id, by_client=by_client)


def mandates_of_client(session: Session, client_id: int) -> list[Mandate]:
    return list(session.scalars(
        sa.select(Mandate).where(Mandate.client_id == client_id)
        .order_by(Mandate.revoked_at.is_not(None), Mandate.valid_until.desc(), Mandate.id)))


def mandate_of_client(session: Session, client_id: int, mandate_id: int) -> Mandate:
    mandate = session.get(Mandate, mandate_id)
    if mandate is None or mandate.client_id != client_id:
        raise NotFound()
    return mandate


def mandates_in_force_for(session: Session, identity_code: str) -> list[Mandate]:
    """The mandates in force of the person with this identity code (a representative who just
    identified), their clients not pseudonymised."""
    try:
        index = identity_code_index(identity_code)
    except InvalidIdentityCode:
        return []
    today = clock.today()
    return list(session.scalars(
        sa.select(Mandate).join(Client, Client.id == Mandate.client_id)
        .where(Mandate.representative_code_index == index, Mandate.revoked_at.is_(None),
               Mandate.valid_from <= today, Mandate.valid_until >= today,
               Client.pseudonymised_at.is_(None))
        .order_by(Client.last_name, Client.first_name, Mandate.id)))


def mandate_in_force(session: Session, mandate_id: int, client_id: int | None) -> Mandate | None:
    """The mandate a representative's session acts under, if it is still in force."""
    mandate = session.get(Mandate, mandate_id)
    if mandate is None or mandate.client_id != client_id or not mandate.in_force(clock.today()):
        return None
    return mandate


def mandate_still_in_force(session: Session, mandate_id: int) -> Mandate | None:
    mandate = session.get(Mandate, mandate_id)
    return mandate if mandate is not None and mandate.in_force(clock.today()) else None


def notice_address(session: Session, client: Client) -> str | None:
    """Where the client's notices go: the representative's address when a mandate in force
    says the client chose so, otherwise the client's own (None: by post)."""
    today = clock.today()
    chosen = session.scalars(
        sa.select(Mandate.representative_email).where(
            Mandate.client_id == client.id, Mandate.notices_to_representative.is_(True),
            Mandate.revoked_at.is_(None), Mandate.valid_from <= today,
            Mandate.valid_until >= today).order_by(Mandate.id.desc())).first()
    return chosen or client.email
