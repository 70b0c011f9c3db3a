"""Login sessions kept on the server, so that they end there and not only in a cookie.

The session cookie (signed, but held by the browser) carries a random token; the
``user_sessions`` row holds its hash. Every request checks the row (one query, together with
the user), so ending a row ends the session on every app server at once: logout, a password
change, turning two-factor authentication on or off, and an administrator's lock. A copied
cookie stops working when its row ends.

A login waiting for its second step has a row too (``awaiting_code``): it counts the wrong
codes of that pending login in the database, where a replayed cookie cannot reset them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User, UserSession

#: The key in the (signed) session cookie that holds the token of its row.
COOKIE_KEY = "session_token"
#: At the user's next login, rows that ended (or began) longer ago than this are deleted: the
#: table keeps recent history only, and no session outlives it.
KEEP_ROWS = dt.timedelta(days=30)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user: User, *, ip: str | None,
                 awaiting_code: bool = False) -> str:
    """Create a session row (or, with ``awaiting_code``, a pending login) and return the token
    for the cookie. Also deletes the user's rows older than ``KEEP_ROWS``."""
    now = clock.now()
    session.execute(sa.delete(UserSession).where(
        UserSession.user_id == user.id,
        sa.or_(UserSession.ended_at < now - KEEP_ROWS, UserSession.created_at < now - KEEP_ROWS)))
    token = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user.id, token_hash=_hash(token), ip=(ip or "")[:64] or None,
                            awaiting_code=awaiting_code, created_at=now))
    session.flush()
    return token


def find(session: Session, token: str | None, *, awaiting_code: bool = False
         ) -> UserSession | None:
    """The open row of a cookie's token (a session, or a pending login with
    ``awaiting_code``), or None."""
    if not token:
        return None
    return session.execute(
        sa.select(UserSession).where(UserSession.token_hash == _hash(token),
                                     UserSession.ended_at.is_(None),
                                     UserSession.awaiting_code.is_(awaiting_code))
    ).scalar_one_or_none()


def user_of(session: Session, *, user_id: int, version: int, token: str | None) -> User | None:
    """The user of a request's session: its row open, the user active, the session version
    (bumped when every session of the user must end) unchanged. One query."""
    if not token:
        return None
    return session.execute(_user_of_session(), {
        "user_id": user_id, "version": version, "token_hash": _hash(token)}
    ).scalar_one_or_none()


@functools.cache
def _user_of_session() -> sa.Select:
    """Built once: every request of a logged-in user runs it (building it took a third of the
    time of loading the user)."""
    return (sa.select(User).join(UserSession, UserSession.user_id == User.id)
            .where(User.id == sa.bindparam("user_id"),
                   User.session_version == sa.bindparam("version"),
                   User.is_active.is_(True),
                   UserSession.token_hash == sa.bindparam("token_hash"),
                   UserSession.ended_at.is_(None), UserSession.awaiting_code.is_(False)))


def end(session: Session, token: str | None, reason: str) -> None:
    """End one session (logout) or pending login."""
    if token:
        session.execute(sa.update(UserSession).where(
            UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
            .values(ended_at=clock.now(), end_reason=reason))


def end_all(session: Session, user: User, reason: str, *, keep: str | None = None) -> None:
    """End every session and pending login of the user, except the one whose token is
    ``keep`` (the browser that changed the password stays logged in). The session version is
    bumped too, so identities issued before stop matching."""
    query = sa.update(UserSession).where(UserSession.user_id == user.id,
                                         UserSession.ended_at.is_(None))
    if keep:
        query = query.where(UserSession.token_hash != _hash(keep))
    session.execute(query.values(ended_at=clock.now(), end_reason=reason))
    user.session_version += 1
