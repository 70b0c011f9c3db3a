"""Registering and finding clients; their identity codes and logins.

A case manager sees only clients of the municipalities assigned to them: everyone else's are
"not found". The personal identity code is stored encrypted with a keyed index for uniqueness;
people see it masked, and each time someone has the whole code shown, an audit event says who.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import db
from voucher.accounts.models import Role, User, case_manager_municipalities
from voucher.accounts.services import create_user, invite_user
from voucher.audit.services import Actor, record_event
from voucher.clients.identity import (
    InvalidIdentityCode,
    decrypt_identity_code,
    identity_code_index,
    protect_identity_code,
)
from voucher.clients.models import Client
from voucher.errors import DomainError, NotFound, ValidationFailed
from voucher.pages import Page, paginate


class DuplicateClient(DomainError):
    code = "duplicate_client"
    status = 409
    message = _l("A client with this personal identity code is already registered in your "
                 "municipalities. Search for the client with the code.")


class RegisteredElsewhere(DomainError):
    """The person is a client of a municipality the case manager does not serve: they learn
    no more than that they cannot register them, and the attempt is audited."""

    code = "registered_elsewhere"
    status = 409
    message = _l("This person cannot be registered in your municipalities. If they have moved "
                 "to one of them, ask an administrator to move their client record. This "
                 "attempt has been recorded.")


class InvitationNotPossible(DomainError):
    code = "invitation_not_possible"
    status = 409


@dataclass
class ClientDetails:
    """Everything about a client except the identity code."""

    first_name: str
    last_name: str
    municipality_id: int
    language: str = "fi"
    email: str | None = None
    phone: str | None = None
    street_address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    household_size: int | None = None
    gross_monthly_income_cents: int | None = None


def _municipality_ids(session: Session, user: User) -> set[int]:
    return set(session.execute(
        sa.select(case_manager_municipalities.c.municipality_id)
        .where(case_manager_municipalities.c.user_id == user.id)).scalars())


def _scoped(query: sa.Select, user: User) -> sa.Select:
    if user.role != Role.CASE_MANAGER:
        return query.where(sa.false())
    return query.where(Client.municipality_id.in_(
        sa.select(case_manager_municipalities.c.municipality_id)
        .where(case_manager_municipalities.c.user_id == user.id)))


def client_for_staff(session: Session, user: User, client_id: int) -> Client:
    """A client of the case manager's municipalities, or NotFound."""
    found = session.execute(_scoped(sa.select(Client).where(Client.id == client_id), user)
                            ).scalar_one_or_none()
    if found is None or found.pseudonymised_at is not None:
        raise NotFound()
    return found


def find_clients(session: Session, user: User, *, text: str = "", page: int = 1) -> Page:
    """Clients in the user's municipalities, by name or by whole identity code."""
    query = _scoped(sa.select(Client).where(Client.pseudonymised_at.is_(None)), user)
    text = (text or "").strip()
    if text:
        try:
            query = query.where(Client.identity_code_index == identity_code_index(text))
        except InvalidIdentityCode:
            pattern = "%" + text.lower().replace("%", r"\%").replace("_", r"\_") + "%"
            query = query.where(sa.func.lower(Client.first_name + " " + Client.last_name)
                                .like(pattern, escape="\\"))
    return paginate(session, query.order_by(Client.last_name, Client.first_name, Client.id),
                    page)


def _clean(details: ClientDetails) -> ClientDetails:
    for field in fields(details):
        value = getattr(details, field.name)
        if isinstance(value, str):
            setattr(details, field.name, value.strip() or None)
    if details.email:
        details.email = details.email.lower()
    return details


def _check_municipality(session: Session, user: User, details: ClientDetails) -> None:
    if details.municipality_id not in _municipality_ids(session, user):
        raise ValidationFailed({"municipality": str(_l(
            "Choose one of your municipalities."))})


def register_client(session: Session, *, identity_code: str, details: ClientDetails,
                    user: User, actor: Actor) -> Client:
    """Register a client of one of the case manager's municipalities."""
    try:
        protected = protect_identity_code(identity_code)
    except InvalidIdentityCode as exc:
        raise ValidationFailed({"identity_code": str(_l(
            "This is not a valid personal identity code. Check the date, the century sign and "
            "the check character (e.g. 131052-308T)."))}) from exc
    details = _clean(details)
    _check_municipality(session, user, details)
    existing = session.execute(sa.select(Client.id, Client.municipality_id).where(
        Client.identity_code_index == protected.index)).first()
    if existing:
        _refuse_duplicate(session, existing, user=user, actor=actor)
    client = Client(identity_code_encrypted=protected.encrypted,
                    identity_code_index=protected.index, identity_code_masked=protected.masked,
                    created_by_user_id=actor.user_id, **vars(details))
    session.add(client)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError as exc:  # registered at the same moment by someone else
        raise DuplicateClient(field="identity_code") from exc
    record_event(session, actor, "client.registered", "client", client.id, client_id=client.id,
                 municipality_id=client.municipality_id)
    return client


def _refuse_duplicate(session: Session, existing, *, user: User, actor: Actor) -> None:
    """Refuse a second registration, saying only what the case manager may know (whether the
    client is one of their own), and audit the attempt although the request is refused: a
    search by identity code outside one's municipalities leaves a trace."""
    own = existing.municipality_id in _municipality_ids(session, user)
    db.keep_despite_refusal(lambda lasting: record_event(
        lasting, actor, "client.registration_refused", "client", existing.id,
        client_id=existing.id, reason="already_registered" if own else "registered_elsewhere"))
    raise (DuplicateClient if own else RegisteredElsewhere)(field="identity_code")


def update_client(session: Session, client: Client, *, details: ClientDetails, user: User,
                  actor: Actor) -> list[str]:
    """Change a client's details; returns the names of the fields that changed."""
    details = _clean(details)
    _check_municipality(session, user, details)
    changed = [name for name, value in vars(details).items() if getattr(client, name) != value]
    for name in changed:
        setattr(client, name, getattr(details, name))
    session.flush()
    if changed:
        record_event(session, actor, "client.updated", "client", client.id, client_id=client.id,
                     fields=changed)
    return changed


def record_client_viewed(session: Session, client: Client, actor: Actor) -> None:
    """Opening a client's page is a view of personal data."""
    record_event(session, actor, "client.viewed", "client", client.id, client_id=client.id)


def reveal_identity_code(session: Session, client: Client, *, actor: Actor,
                         purpose: str = "shown") -> str:
    """The whole identity code, for someone who must see it; the view is audited."""
    if client.identity_code_encrypted is None:
        raise NotFound()
    record_event(session, actor, "client.identity_code_viewed", "client", client.id,
                 client_id=client.id, purpose=purpose)
    return decrypt_identity_code(client.identity_code_encrypted)


def client_account(session: Session, client_id: int) -> User | None:
    """The client's login, if they have one."""
    return session.execute(
        sa.select(User).where(User.client_id == client_id, User.role == Role.CLIENT)
    ).scalar_one_or_none()


def invite_client(session: Session, client: Client, *, actor: Actor, days: int,
                  link_limits: dict | None = None) -> User:
    """Give the client a login: an e-mail with a link to set a password (sent again while the
    password has not been set, within the accounts' link limits)."""
    if not client.email:
        raise InvitationNotPossible(_l(
            "The client has no e-mail address. Add one to send a login invitation."),
            field="email")
    account = client_account(session, client.id)
    if account is not None and account.password_hash is not None:
        raise InvitationNotPossible(_l(
            "The client already has a login. They can reset their password on the login page."))
    if account is None:
        account = create_user(session, email=client.email, role=Role.CLIENT,
                              display_name=client.full_name, actor=actor,
                              language=client.language, client_id=client.id)
    invite_user(session, account, days=days, actor=actor, limits=link_limits)
    return account
