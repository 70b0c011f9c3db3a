"""Recording and verifying the audit trail.

``record_event`` only queues the event on the session, with the transaction (or savepoint) it
was queued in. Just before the transaction commits, the queued events are chained to the newest
stored event under a lock, so that concurrent transactions append one after another and the
chain never forks; if the transaction rolls back, its events vanish with it, and a savepoint
that rolls back drops only the events queued inside it.

On PostgreSQL each event is appended by one statement that moves the chain head (a single
row, whose lock orders the appends and whose update sees the newest committed hash), computes
the hash in the database and inserts the event; the lock is then held only until the commit
that follows. The hash is the same SHA-256 over canonical JSON that ``event_hash`` computes:
"prev" sorts last among the fields, so the JSON is a fixed head, the previous hash, and '"}'.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.models import AuditChainHead, AuditEvent, AuditText
from voucher.db import queue_for_commit, register_queue, take_queued

GENESIS_HASH = "0" * 64
_PENDING = register_queue("audit_pending")
#: The key under which an event's data holds the digest of a free text (see AuditText).
TEXT_DIGEST = "text_sha256"


class FreeText(str):
    """Marks a value of ``record_event`` as free text a person typed: it is kept beside the
    event (AuditText), removable at retention, and the chain hashes only its salted digest."""

    def __new__(cls, value: str | None):
        return super().__new__(cls, value or "")


def text_digest(salt: str, text: str) -> str:
    return hashlib.sha256((salt + text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (id and label) or the system."""

    user_id: int | None
    label: str
    ip: str | None = None
    request_id: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(user_id=None, label=label)

    @classmethod
    def of_user(cls, user, ip: str | None = None, request_id: str | None = None) -> Actor:
        return cls(user_id=user.id, label=f"user:{user.id}", ip=ip, request_id=request_id)


def record_event(
    session: Session,
    actor: Actor | None,
    action: str,
    obj_type: str,
    obj_id,
    *,
    client_id: int | None = None,
    **data,
) -> None:
    """Queue an audit event; it is written, chained, in the same transaction's commit."""
    actor = actor or Actor.system()
    texts = []
    for key, value in list(data.items()):
        if isinstance(value, FreeText) and value:
            salt = secrets.token_hex(16)
            texts.append({"key": key, "salt": salt, "text": str(value), "client_id": client_id})
            data[key] = {TEXT_DIGEST: text_digest(salt, str(value))}
    queue_for_commit(session, _PENDING, {
        "texts": texts,
        "at": clock.now(),
        "actor_user_id": actor.user_id,
        "actor": actor.label,
        "action": action,
        "object_type": obj_type,
        "object_id": str(obj_id),
        "client_id": client_id,
        "data": _jsonable(data),
        "ip": actor.ip,
        "request_id": actor.request_id,
    })


def _jsonable(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str, sort_keys=True))


def _canonical_fields(fields: dict) -> dict:
    return {
        "at": fields["at"].isoformat(timespec="microseconds"),
        "actor_user_id": fields["actor_user_id"],
        "actor": fields["actor"],
        "action": fields["action"],
        "object_type": fields["object_type"],
        "object_id": fields["object_id"],
        "client_id": fields["client_id"],
        "data": fields["data"],
    }


def _canonical_json(value: dict) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, fields: dict) -> str:
    """SHA-256 over the previous hash and the event's fields in canonical JSON."""
    canonical = _canonical_json({"prev": prev_hash, **_canonical_fields(fields)})
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def canonical_parts(fields: dict) -> tuple[str, str]:
    """(head, tail) with head + prev_hash + tail == the canonical JSON that event_hash hashes
    ("prev" is the last key in sorted order)."""
    without_prev = _canonical_json(_canonical_fields(fields))
    return without_prev[:-1] + ',"prev":"', '"}'


_EVENT_COLUMNS = ("at", "actor_user_id", "actor", "action", "object_type", "object_id",
                  "client_id", "data", "ip", "request_id")


@functools.cache
def _chained_insert() -> sa.Insert:
    """Move the chain head to the event and insert the event, in one statement (built once;
    the event's fields and its canonical JSON head and tail are its parameters)."""
    text = sa.Text()
    digest = sa.func.encode(sa.func.sha256(sa.func.convert_to(
        sa.func.concat(sa.bindparam("json_head", type_=text), AuditChainHead.last_hash,
                       sa.bindparam("json_tail", type_=text)), "UTF8")), "hex")
    moved = (sa.update(AuditChainHead).where(AuditChainHead.id == 1)
             .values(prev_hash=AuditChainHead.last_hash, last_hash=digest)
             .returning(AuditChainHead.prev_hash, AuditChainHead.last_hash)
             .cte("moved"))
    table = AuditEvent.__table__  # a Core statement: its parameters are not ORM rows
    values = [sa.bindparam(name, type_=table.c[name].type) for name in _EVENT_COLUMNS]
    return sa.insert(table).from_select(
        [*_EVENT_COLUMNS, "prev_hash", "hash"],
        sa.select(*values, moved.c.prev_hash, moved.c.last_hash)).returning(table.c.id)


@event.listens_for(Session, "before_commit")
def _append_pending_events(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint is released: its events wait for the real commit
    pending = take_queued(session, _PENDING)
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.flush()  # everything else first: the chain's lock is then held only briefly
        for fields in pending:
            texts = fields.pop("texts")
            json_head, json_tail = canonical_parts(fields)
            appended = session.execute(_chained_insert(), {
                **fields, "json_head": json_head, "json_tail": json_tail}).scalar_one_or_none()
            if appended is None:
                raise RuntimeError("the audit chain head row is missing")
            _store_texts(session, appended, texts)
        return
    # SQLite runs one writer at a time, so the newest hash cannot change under us.
    prev = session.execute(
        sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar() or GENESIS_HASH
    before_last = prev
    for fields in pending:
        texts = fields.pop("texts")
        digest = event_hash(prev, fields)
        stored = AuditEvent(**fields, prev_hash=prev, hash=digest)
        session.add(stored)
        if texts:
            session.flush()
            _store_texts(session, stored.id, texts)
        before_last, prev = prev, digest
    session.execute(sa.update(AuditChainHead).where(AuditChainHead.id == 1)
                    .values(prev_hash=before_last, last_hash=prev))
    session.flush()


def _store_texts(session: Session, event_id: int, texts: list[dict]) -> None:
    if texts:
        session.execute(sa.insert(AuditText), [{**t, "event_id": event_id} for t in texts])


def readable_data(session: Session, events) -> dict[int, dict]:
    """Each event's data as people read it: a free text in place of its digest, or None where
    retention has removed it."""
    ids = [e.id for e in events]
    texts = {(t.event_id, t.key): t.text for t in session.execute(
        sa.select(AuditText).where(AuditText.event_id.in_(ids))).scalars()} if ids else {}
    return {e.id: {key: texts.get((e.id, key)) if _is_digest(value) else value
                   for key, value in (e.data or {}).items()} for e in events}


def _is_digest(value) -> bool:
    return isinstance(value, dict) and set(value) == {TEXT_DIGEST}


def _altered_texts(session: Session, events) -> set[int]:
    """The events among ``events`` whose kept free text no longer matches its digest."""
    by_id = {e.id: e for e in events}
    altered = set()
    for text in session.execute(sa.select(AuditText).where(
            AuditText.event_id.in_(list(by_id)), AuditText.text.is_not(None))).scalars():
        recorded = (by_id[text.event_id].data or {}).get(text.key)
        if not _is_digest(recorded) or \
                recorded[TEXT_DIGEST] != text_digest(text.salt or "", text.text):
            altered.add(text.event_id)
    return altered


def remove_client_texts(session: Session, client_id: int) -> int:
    """Retention: the client's free texts and their salts go; the digests in the chain stay."""
    return session.execute(
        sa.update(AuditText).where(AuditText.client_id == client_id,
                                   AuditText.removed_at.is_(None))
        .values(text=None, salt=None, removed_at=clock.now())).rowcount


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(session: Session, batch_size: int = 5000) -> ChainReport:
    """Walk the whole trail in id order; name the first event whose link or hash is wrong."""
    prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = session.execute(
            sa.select(AuditEvent).where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id).limit(batch_size)
        ).scalars().all()
        if not rows:
            return ChainReport(checked=checked)
        altered = _altered_texts(session, rows)
        for row in rows:
            if row.prev_hash != prev:
                return ChainReport(checked, row.id, "previous-hash link does not match")
            fields = {c: getattr(row, c) for c in (
                "at", "actor_user_id", "actor", "action", "object_type", "object_id",
                "client_id", "data")}
            if event_hash(prev, fields) != row.hash:
                return ChainReport(checked, row.id, "content does not match its hash")
            if row.id in altered:
                return ChainReport(checked, row.id, "a free text does not match its digest")
            prev = row.hash
            checked += 1
            last_id = row.id
        session.expunge_all()
