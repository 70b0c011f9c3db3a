"""Idempotency-Key: a retried request is answered with the first answer, and does nothing new.

The work runs first; its answer is then inserted under the key with ``ON CONFLICT DO NOTHING``
in the same transaction, one statement on the way that succeeds. A request whose key is taken
finds out there: a concurrent duplicate waits on the unique index until the first commits,
then rolls its own work back and replays the first answer (or is refused as a reuse when its
request differs). A duplicate of a request that took the voucher's last units fails on the
units instead, so a refusal also looks for a stored answer under its key before it is given.
Only successful answers are stored: a refused request leaves no record, and its key may be
retried.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from voucher.api.models import IdempotencyRecord
from voucher.errors import DomainError, ValidationFailed

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyRequired(DomainError):
    code = "idempotency_key_required"
    status = 400
    message = _l("This request needs an Idempotency-Key header (1–255 characters), e.g. a "
                 "UUID, so that retrying it can never record the same service twice.")


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    message = _l("This Idempotency-Key was already used for a different request. Use a new "
                 "key for every new service event.")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    #: The answer was given before, to the same request with this key.
    replayed: bool = False


def request_key() -> str:
    """The request's Idempotency-Key, validated."""
    key = request.headers.get(HEADER)
    if key is None or not key.strip():
        raise IdempotencyKeyRequired()
    if len(key) > MAX_KEY_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise ValidationFailed({HEADER: _("The key must be 1–255 printable characters.")})
    return key


def request_fingerprint() -> str:
    """SHA-256 of the method, the path and the body (JSON compared by content, so that key
    order and spacing do not matter)."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    except ValueError:
        body = raw.decode("latin-1")
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


@functools.cache
def _remember(dialect: str) -> sa.Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = IdempotencyRecord.__table__  # a Core statement: its parameters are not ORM rows
    return (insert(table)
            .values(provider_id=sa.bindparam("the_provider"), key=sa.bindparam("the_key"),
                    request_hash=sa.bindparam("fingerprint"),
                    response_status=sa.bindparam("status"),
                    response_body=sa.bindparam("body", type_=sa.JSON()))
            .on_conflict_do_nothing(index_elements=["provider_id", "key"])
            .returning(table.c.id))


@functools.cache
def _stored() -> sa.Select:
    return sa.select(IdempotencyRecord.request_hash, IdempotencyRecord.response_status,
                     IdempotencyRecord.response_body).where(
        IdempotencyRecord.provider_id == sa.bindparam("provider_id"),
        IdempotencyRecord.key == sa.bindparam("key"))


def _earlier_answer(session: Session, provider_id: int, key: str,
                    fingerprint: str) -> Answer | None:
    """The stored answer for the key (this request's own work is then rolled back), or None;
    IdempotencyKeyReused when it was given to a different request."""
    stored = session.execute(_stored(), {"provider_id": provider_id, "key": key}).one_or_none()
    if stored is None:
        return None
    session.rollback()
    if stored.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return Answer(stored.response_status, stored.response_body, replayed=True)


def run_once(session: Session, *, provider_id: int, key: str, fingerprint: str,
             work: Callable[[], tuple[dict, int]]) -> Answer:
    """Do ``work`` (returning the body and status) and remember its answer under the key, in
    the caller's transaction; or give the answer the same request got before."""
    try:
        body, status = work()
    except DomainError:
        earlier = _earlier_answer(session, provider_id, key, fingerprint)
        if earlier is None:
            raise
        return earlier
    stored = session.execute(_remember(session.get_bind().dialect.name), {
        "the_provider": provider_id, "the_key": key, "fingerprint": fingerprint,
        "status": status, "body": body,
    }).scalar_one_or_none()
    if stored is not None:
        return Answer(status, body)
    earlier = _earlier_answer(session, provider_id, key, fingerprint)
    if earlier is None:  # pragma: no cover - the conflicting record is committed by now
        raise RuntimeError("idempotency record vanished")
    return earlier
