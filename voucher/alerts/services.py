"""Raising, listing and resolving operator alerts.

A domain registers the text of each kind it raises (``register_kind``); ``raise_alert`` records
one alert per key (finding the same thing again changes nothing), e-mails every active
administrator through the outbox in the same transaction, and audits it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import Role, User
from voucher.alerts.models import OperatorAlert
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError, NotFound
from voucher.mail.services import absolute_url, queue_email

#: kind → translated text with %(name)s placeholders filled from the alert's details.
_KINDS: dict[str, object] = {}


class AlreadyResolved(DomainError):
    code = "already_resolved"
    status = 409
    message = _l("This alert has already been resolved.")


def register_kind(kind: str, text) -> str:
    """Declare an alert kind and its text (a lazy string); returns the kind."""
    _KINDS[kind] = text
    return kind


def describe(alert: OperatorAlert) -> str:
    """The alert in the current language."""
    text = _KINDS.get(alert.kind)
    if text is None:
        return alert.kind
    try:
        return str(text) % (alert.details or {})
    except (KeyError, TypeError, ValueError):
        return str(text)


def raise_alert(session: Session, *, kind: str, key: str, actor: Actor | None = None,
                **details) -> OperatorAlert | None:
    """Record an alert unless one with the same key exists; returns the new alert or None."""
    if kind not in _KINDS:
        raise ValueError(f"unregistered alert kind {kind!r}")
    if session.execute(sa.select(OperatorAlert.id).where(OperatorAlert.key == key[:255])
                       ).scalar() is not None:
        return None
    alert = OperatorAlert(kind=kind, key=key[:255], details=details, raised_at=clock.now())
    try:
        with session.begin_nested():
            session.add(alert)
            session.flush()
    except sa.exc.IntegrityError:  # raised by a parallel run at the same moment
        return None
    record_event(session, actor or Actor.system("alerts"), "alert.raised", "operator_alert",
                 alert.id, kind=kind, key=alert.key)
    link = absolute_url("alerts.index")
    for admin in session.execute(sa.select(User).where(
            User.role == Role.ADMIN, User.is_active.is_(True)).order_by(User.id)).scalars():
        queue_email(session, to=admin.email, template="alerts/raised", language=admin.language,
                    user=admin, alert=alert, describe=describe, link=link)
    return alert


def open_alerts(session: Session) -> list[OperatorAlert]:
    return list(session.execute(sa.select(OperatorAlert).where(
        OperatorAlert.resolved_at.is_(None)).order_by(OperatorAlert.id.desc())).scalars())


def count_open(session: Session) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(OperatorAlert).where(
        OperatorAlert.resolved_at.is_(None))).scalar_one()


def resolved_alerts(session: Session, limit: int = 50) -> list[OperatorAlert]:
    return list(session.execute(sa.select(OperatorAlert).where(
        OperatorAlert.resolved_at.is_not(None)).order_by(OperatorAlert.resolved_at.desc())
        .limit(limit)).scalars())


def resolve_alert(session: Session, *, alert_id: int, note: str, actor: Actor) -> OperatorAlert:
    """An administrator says what was done about the alert."""
    alert = session.get(OperatorAlert, alert_id) if 0 < alert_id < 2**31 else None
    if alert is None:
        raise NotFound()
    changed = session.execute(
        sa.update(OperatorAlert)
        .where(OperatorAlert.id == alert.id, OperatorAlert.resolved_at.is_(None))
        .values(resolved_at=clock.now(), resolved_by_user_id=actor.user_id,
                resolution_note=note.strip()[:1000])
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise AlreadyResolved()
    session.refresh(alert)
    record_event(session, actor, "alert.resolved", "operator_alert", alert.id, kind=alert.kind)
    return alert
