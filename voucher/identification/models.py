"""What strong identification remembers between requests, in the database (every app server
shares it): the requests sent to the identity provider and the message ids it answered."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from voucher import clock
from voucher.db import Base, enum_type


class SamlRequestKind(enum.StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"


class SamlRequest(Base):
    """An AuthnRequest or LogoutRequest sent to the identity provider. Its answer must name it
    in InResponseTo, arrive before ``expires_at`` and be the first answer to it."""

    __tablename__ = "saml_requests"
    __table_args__ = (sa.Index("ix_saml_requests_expires_at", "expires_at"),)

    #: The request's ID attribute (pysaml2's "id-…").
    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    kind: Mapped[SamlRequestKind] = mapped_column(enum_type(SamlRequestKind, "kind"))
    #: Where to go after the login (a path of this site), if the login page was given one.
    next_path: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[dt.datetime]
    #: Set when its answer was accepted (or refused after the checks): a second one is refused.
    answered_at: Mapped[dt.datetime | None]


class SamlSeenMessage(Base):
    """The ID of a Response or Assertion accepted from the identity provider: the same one
    again is a replay. Kept until ``expires_at`` (past the assertion's own validity)."""

    __tablename__ = "saml_seen_messages"
    __table_args__ = (sa.Index("ix_saml_seen_messages_expires_at", "expires_at"),)

    #: "response:<ID>" or "assertion:<ID>".
    id: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[dt.datetime]
