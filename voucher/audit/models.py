"""AuditEvent: who did what to which object, when; chained by hashes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from voucher import clock
from voucher.db import Base


class AuditEvent(Base):
    """One audited action. Rows are never updated or deleted (a PostgreSQL trigger refuses it);
    each stores the hash of the previous row, so any change breaks the chain.

    ``data`` holds ids, states and reasons, never names or identity codes, so that the trail can
    stay intact when a client's personal data is pseudonymised.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_object", "object_type", "object_id"),
        sa.Index("ix_audit_events_actor_at", "actor_user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
    #: The user who acted; NULL for the system (cron jobs, webhooks).
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: How the actor was known at the time ("user:12", "cli", "stripe-webhook").
    actor: Mapped[str] = mapped_column(sa.String(100))
    #: Dotted verb, e.g. "voucher.issued", "client.identity_code_viewed".
    action: Mapped[str] = mapped_column(sa.String(100), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(50))
    object_id: Mapped[str] = mapped_column(sa.String(64))
    #: The client the event concerns, so that a data export and a search by person find it.
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


class AuditChainHead(Base):
    """The newest link of the chain (a single row). On PostgreSQL an append updates it and
    inserts the event in one statement: the row lock orders concurrent appends, and the update
    reads the newest committed hash, so the chain never forks while the lock is held only
    from that statement to the commit."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    #: The hash before the newest event (its ``prev_hash``).
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    #: The hash of the newest event (the genesis hash while there are none).
    last_hash: Mapped[str] = mapped_column(sa.String(64))


class AuditText(Base):
    """Free text that a person typed into an audited action (a reason for a cancellation, a
    decline, a rejection), kept beside its event. The event's hashed ``data`` holds only a
    salted digest of the text, so retention can remove the text and its salt, leaving nothing
    to guess from, while the hash chain still verifies."""

    __tablename__ = "audit_texts"
    __table_args__ = (sa.UniqueConstraint("event_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("audit_events.id"), index=True)
    #: The name of the field in the event's data ("reason").
    key: Mapped[str] = mapped_column(sa.String(60))
    #: The client the event concerns: their retention removes the text.
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    salt: Mapped[str | None] = mapped_column(sa.String(32))
    text: Mapped[str | None] = mapped_column(sa.Text)
    removed_at: Mapped[dt.datetime | None]
