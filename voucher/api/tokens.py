"""Creating, checking and revoking API tokens."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.api.models import ApiToken
from voucher.audit.services import Actor, record_event
from voucher.errors import NotFound

TOKEN_PREFIX = "vch_"  # noqa: S105 (a marker, not a secret)
#: last_used_at is written at most this often, so that busy integrations do not turn every
#: read into a write.
_TOUCH_INTERVAL = dt.timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, *, provider_id: int, name: str, actor: Actor,
                 user_id: int | None = None) -> tuple[ApiToken, str]:
    """A new token for a provider; returns the row and the token, which is never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(provider_id=provider_id, name=name.strip()[:100] or "API",
                   token_hash=_hash(token), prefix=token[:12], created_by_user_id=user_id)
    session.add(row)
    session.flush()
    record_event(session, actor, "api_token.created", "api_token", row.id,
                 provider_id=provider_id)
    return row, token


@functools.cache
def _token_by_hash() -> sa.Select:
    """Built once: every API request runs it."""
    return sa.select(ApiToken).where(ApiToken.token_hash == sa.bindparam("token_hash"))


#: Token hash → its provider, for the rate limit's key (``provider_of_token``): a token's
#: provider never changes, so the key of a known token needs no query (it was a connection
#: and four round trips of every API request). Only tokens found active are kept, so a
#: made-up token cannot fill it; a token that fails ``authenticate_token`` is forgotten, so a
#: revoked one counts against its caller's address again after at most one request on each
#: server.
_providers_of_tokens: dict[str, int] = {}
_PROVIDERS_KEPT = 1_000


def provider_of_token(connect: Callable[[], sa.Connection], token: str) -> int | None:
    """The provider of an active token, or None; read on a connection of its own from
    ``connect`` when it is not known (the rate limit asks before the request's unit of work
    begins: on SQLite that unit holds the write lock the counter needs)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_hash = _hash(token)
    provider_id = _providers_of_tokens.get(token_hash)
    if provider_id is None:
        with connect() as connection:
            provider_id = connection.execute(
                sa.select(ApiToken.provider_id).where(ApiToken.token_hash == token_hash,
                                                      ApiToken.revoked_at.is_(None))).scalar()
        if provider_id is not None:
            if len(_providers_of_tokens) >= _PROVIDERS_KEPT:
                _providers_of_tokens.clear()
            _providers_of_tokens[token_hash] = provider_id
    return provider_id


def authenticate_token(session: Session, token: str) -> ApiToken | None:
    """The active token row for a bearer token, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_hash = _hash(token)
    row = session.execute(_token_by_hash(), {"token_hash": token_hash}).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        _providers_of_tokens.pop(token_hash, None)
        return None
    now = clock.now()
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_INTERVAL:
        row.last_used_at = now
    return row


def revoke_token(session: Session, row: ApiToken, *, actor: Actor) -> None:
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        _providers_of_tokens.pop(row.token_hash, None)
        record_event(session, actor, "api_token.revoked", "api_token", row.id,
                     provider_id=row.provider_id)


def provider_tokens(session: Session, provider_id: int) -> list[ApiToken]:
    """The provider's tokens, active ones first, newest first."""
    return list(session.execute(
        sa.select(ApiToken).where(ApiToken.provider_id == provider_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(),
                  ApiToken.id.desc())
    ).scalars())


def find_provider_token(session: Session, *, provider_id: int, token_id: int) -> ApiToken:
    """One of the provider's tokens; NotFound for anyone else's."""
    row = session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if row is None or row.provider_id != provider_id:
        raise NotFound()
    return row
