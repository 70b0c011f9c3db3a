"""Searching the audit trail by person, object and time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.audit.models import AuditEvent
from voucher.clients.identity import InvalidIdentityCode, identity_code_index
from voucher.clients.models import Client


@dataclass(frozen=True)
class AuditQuery:
    actor_email: str | None = None
    person: str | None = None  #: a henkilötunnus or a client number
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def client_number_for(session: Session, person: str) -> int:
    """The client number of a client number or identity code (-1: no such client)."""
    person = person.strip()
    if person.isdigit():
        return int(person)
    try:
        index = identity_code_index(person)
    except InvalidIdentityCode:
        return -1
    return session.execute(
        sa.select(Client.id).where(Client.identity_code_index == index)).scalar() or -1


def search_audit(session: Session, query: AuditQuery, *, page: int = 1, per_page: int = 50
                 ) -> tuple[list[tuple[AuditEvent, str | None]], int]:
    """Matching events, newest first, with the acting user's e-mail; and the total count."""
    conditions = []
    if query.actor_email:
        conditions.append(AuditEvent.actor_user_id.in_(
            sa.select(User.id).where(User.email == query.actor_email.strip().lower())))
    if query.person:
        conditions.append(AuditEvent.client_id == client_number_for(session, query.person))
    if query.object_type:
        conditions.append(AuditEvent.object_type == query.object_type.strip())
    if query.object_id:
        conditions.append(AuditEvent.object_id == query.object_id.strip())
    if query.action:
        action = query.action.strip()
        conditions.append(sa.or_(AuditEvent.action == action,
                                 AuditEvent.action.like(action + ".%")))
    if query.date_from:
        conditions.append(AuditEvent.at >= clock.start_of_day(query.date_from))
    if query.date_to:
        conditions.append(AuditEvent.at < clock.start_of_day(query.date_to + dt.timedelta(days=1)))
    total = session.execute(
        sa.select(sa.func.count()).select_from(AuditEvent).where(*conditions)).scalar_one()
    rows = session.execute(
        sa.select(AuditEvent, User.email)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(*conditions)
        .order_by(AuditEvent.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return [(event, email) for event, email in rows], total
