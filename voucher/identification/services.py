"""Strong identification: remembering the requests sent to the identity provider, refusing
replays, and matching the identified person to their client record.

A person is found only through the identity-code index (the HMAC of their personal identity
code), never by name. Someone who has no client record gets a page saying whom to contact; of
them only an audit event is kept, with the masked code (``150344-****``), never the whole one.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import Role, User
from voucher.audit.services import Actor, record_event
from voucher.clients.identity import (
    InvalidIdentityCode,
    identity_code_index,
    mask_identity_code,
    normalize_identity_code,
)
from voucher.clients.models import Client
from voucher.errors import DomainError
from voucher.identification.models import SamlRequest, SamlRequestKind, SamlSeenMessage
from voucher.identification.saml import Identification, IdentificationFailed, UnsolicitedAnswer

#: How long the ids of accepted messages are remembered: longer than any assertion is valid.
KEEP_SEEN = dt.timedelta(days=1)


class NoClientRecord(DomainError):
    """The identified person is not a client: nothing is stored about them but the audit
    event."""

    code = "no_client_record"
    status = 403
    message = _l("You were identified, but you are not a client of the service-voucher "
                 "service.")


class ClientAccountLocked(DomainError):
    code = "client_account_locked"
    status = 403
    message = _l("Your account has been locked. Contact your case manager.")


def remember_request(session: Session, *, request_id: str, kind: SamlRequestKind,
                     minutes: int, next_path: str | None = None) -> None:
    """Keep a request sent to the identity provider, for the check of its answer. Expired
    rows are deleted on the way."""
    now = clock.now()
    session.execute(sa.delete(SamlRequest).where(SamlRequest.expires_at < now - KEEP_SEEN))
    session.add(SamlRequest(id=request_id, kind=kind, next_path=next_path, created_at=now,
                            expires_at=now + dt.timedelta(minutes=minutes)))
    session.flush()


def outstanding_request(session: Session, request_id: str | None, kind: SamlRequestKind
                        ) -> SamlRequest | None:
    """The request an answer names, if it is still waiting for its (first) answer."""
    if not request_id:
        return None
    return session.execute(sa.select(SamlRequest).where(
        SamlRequest.id == request_id, SamlRequest.kind == kind,
        SamlRequest.answered_at.is_(None), SamlRequest.expires_at > clock.now())
    ).scalar_one_or_none()


def claim_answer(session: Session, *, request_id: str, kind: SamlRequestKind,
                 message_ids: list[str]) -> SamlRequest:
    """Mark the request answered and remember the answer's message ids, once: a second
    answer to the same request, or a Response or Assertion ID seen before, is a replay
    (IdentificationFailed). The conditional UPDATE decides between two servers answering at
    once; the unique ids decide between two requests."""
    now = clock.now()
    claimed = session.execute(
        sa.update(SamlRequest)
        .where(SamlRequest.id == request_id, SamlRequest.kind == kind,
               SamlRequest.answered_at.is_(None), SamlRequest.expires_at > now)
        .values(answered_at=now)
    ).rowcount
    if claimed != 1:
        raise UnsolicitedAnswer()
    session.execute(sa.delete(SamlSeenMessage).where(SamlSeenMessage.expires_at < now))
    keys = [key for key in message_ids if key]
    seen = session.execute(sa.select(SamlSeenMessage.id).where(
        SamlSeenMessage.id.in_(keys))).first()
    if seen is not None:
        raise IdentificationFailed()
    try:
        with session.begin_nested():
            session.add_all(SamlSeenMessage(id=key, seen_at=now, expires_at=now + KEEP_SEEN)
                            for key in keys)
    except sa.exc.IntegrityError as exc:
        raise IdentificationFailed() from exc
    return session.get(SamlRequest, request_id)


def message_ids(identification: Identification) -> list[str]:
    return [f"response:{identification.response_id}"[:120],
            f"assertion:{identification.assertion_id}"[:120]]


def masked_code(identity_code: str) -> str:
    """The form of a code that may be written down (audit): birth date and century sign."""
    try:
        return mask_identity_code(normalize_identity_code(identity_code))
    except InvalidIdentityCode:
        return "invalid"


def find_client(session: Session, identity_code: str) -> Client | None:
    """The client with this identity code, found by the index only (never by name)."""
    try:
        index = identity_code_index(identity_code)
    except InvalidIdentityCode as exc:
        raise IdentificationFailed() from exc
    return session.execute(sa.select(Client).where(
        Client.identity_code_index == index, Client.pseudonymised_at.is_(None))
    ).scalar_one_or_none()


def account_of(session: Session, client: Client, *, actor: Actor) -> User:
    """The client's login account; a client without one gets it here (no password, no e-mail
    login: a placeholder address under ``.invalid``, as retention uses)."""
    user = session.execute(sa.select(User).where(User.client_id == client.id)
                           ).scalar_one_or_none()
    if user is None:
        user = User(email=f"identified-client-{client.id}@invalid", password_hash=None,
                    role=Role.CLIENT, display_name=client.full_name[:200],
                    language=client.language, client_id=client.id)
        session.add(user)
        session.flush()
        record_event(session, actor, "user.created_by_identification", "user", user.id,
                     client_id=client.id)
    if not user.is_active or user.role != Role.CLIENT:
        raise ClientAccountLocked()
    return user


def identify_client(session: Session, identification: Identification, *, actor: Actor
                    ) -> User:
    """The client user of the identified person, found through the identity-code index.
    NoClientRecord when the person is not a client; the caller records
    ``record_unknown_person`` in a unit that outlives the refusal."""
    client = find_client(session, identification.identity_code)
    if client is None:
        raise NoClientRecord()
    user = account_of(session, client, actor=actor)
    record_event(session, actor, "user.identified", "user", user.id, client_id=client.id,
                 level=identification.level)
    return user


def record_identified(session: Session, user: User, client: Client, *, level: str,
                      actor: Actor) -> None:
    record_event(session, actor, "user.identified", "user", user.id, client_id=client.id,
                 level=level)


def record_acting(session: Session, mandate, *, level: str, actor: Actor) -> None:
    """A representative logs in for a client: audited on the client, naming the mandate."""
    record_event(session, actor, "mandate.representative_logged_in", "mandate", mandate.id,
                 client_id=mandate.client_id, level=level,
                 representative=mandate.representative_code_masked)


def record_unknown_person(session: Session, identification: Identification, *,
                          actor: Actor) -> None:
    """The audit event of someone identified who is not a client: the masked code only."""
    record_event(session, actor, "identification.no_client_record", "identification",
                 masked_code(identification.identity_code), level=identification.level)


def record_refused_answer(session: Session, *, request_id: str | None, kind: SamlRequestKind,
                          message_ids: list[str], actor: Actor, reason: str) -> None:
    """After a refused answer: its request can no longer be answered, its ids stay seen, and
    the audit trail says that an answer was refused (the reason's code, nothing about the
    person)."""
    now = clock.now()
    if request_id:
        session.execute(sa.update(SamlRequest).where(
            SamlRequest.id == request_id, SamlRequest.answered_at.is_(None))
            .values(answered_at=now))
    for key in message_ids:
        if key and session.get(SamlSeenMessage, key) is None:
            session.add(SamlSeenMessage(id=key, seen_at=now, expires_at=now + KEEP_SEEN))
    record_event(session, actor, "identification.refused", "identification",
                 kind.value, reason=reason)
