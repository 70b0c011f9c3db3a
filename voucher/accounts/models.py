"""User accounts, roles, one-time links and login attempts."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.db import Base, enum_type
from voucher.municipalities.models import Municipality


class Role(enum.StrEnum):
    ADMIN = "admin"
    CASE_MANAGER = "case_manager"
    PROVIDER = "provider"
    CLIENT = "client"


LANGUAGES = ("fi", "sv", "en")

case_manager_municipalities = sa.Table(
    "case_manager_municipalities",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("municipality_id", sa.ForeignKey("municipalities.id"), primary_key=True),
)


class User(Base):
    """A person who logs in. Provider users belong to a provider, client users to a client,
    case managers to one or more municipalities."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("role <> 'provider' OR provider_id IS NOT NULL", name="provider_user"),
        sa.CheckConstraint("role <> 'client' OR client_id IS NOT NULL", name="client_user"),
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    #: Argon2id hash; NULL until an invited user sets a password.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    display_name: Mapped[str] = mapped_column(sa.String(200))
    language: Mapped[str] = mapped_column(sa.String(2), default="fi")
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Bumped on password change: every other session of the user stops being valid.
    session_version: Mapped[int] = mapped_column(default=1)
    #: Fernet-encrypted TOTP secret once two-factor authentication is set up.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    #: The last TOTP time step accepted, so a code cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: No longer set: failed logins now slow down further attempts instead of locking the
    #: account (voucher/accounts/throttling.py); kept so that older rows still read.
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    last_login_at: Mapped[dt.datetime | None]
    password_changed_at: Mapped[dt.datetime | None]

    municipalities: Mapped[list[Municipality]] = relationship(
        secondary=case_manager_municipalities, order_by=Municipality.code
    )

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """Session identity: user id plus session version, so a password change logs out
        every other session."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.CASE_MANAGER)

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret_encrypted is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class TokenPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose, not a password)
    INVITATION = "invitation"


class UserToken(Base):
    """A single-use, expiring link (password reset, invitation). Only its hash is stored."""

    __tablename__ = "user_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_type(TokenPurpose, "purpose"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    #: The address that asked for the link (a reset form, an inviting staff member): links
    #: e-mailed per address are limited too.
    requested_ip: Mapped[str | None] = mapped_column(sa.String(64), index=True)

    user: Mapped[User] = relationship()


class AttemptKind(enum.StrEnum):
    PASSWORD = "password"  # noqa: S105 (a kind of attempt, not a password)
    CODE = "code"  #: the second step (TOTP)


class LoginAttempt(Base):
    """One login attempt, for throttling per account, per account and address, and per
    address (voucher/accounts/throttling.py)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        sa.Index("ix_login_attempts_email_at", "email", "at"),
        sa.Index("ix_login_attempts_ip_at", "ip", "at"),
        sa.Index("ix_login_attempts_email_ip_at", "email", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    ip: Mapped[str] = mapped_column(sa.String(64))
    succeeded: Mapped[bool]
    kind: Mapped[AttemptKind] = mapped_column(enum_type(AttemptKind, "kind"),
                                              default=AttemptKind.PASSWORD,
                                              server_default=AttemptKind.PASSWORD.value)
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class UserSession(Base):
    """One login session, kept on the server so that it can be ended there: the browser's
    cookie holds a random token, this row only its hash. A session is valid while its row is
    not ended (logout, password or two-factor change, an administrator's lock, too many wrong
    codes) and the user's ``session_version`` still matches the cookie's. A row awaiting the
    second login step (the password was right, the code not yet given) is not a session yet,
    but it counts the wrong codes of that pending login."""

    __tablename__ = "user_sessions"
    __table_args__ = (
        sa.CheckConstraint("failed_codes >= 0", name="failed_codes_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the token in the session cookie.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: True while the login waits for the second step (the TOTP code).
    awaiting_code: Mapped[bool] = mapped_column(default=False)
    #: Wrong codes given in this pending login.
    failed_codes: Mapped[int] = mapped_column(default=0)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    ended_at: Mapped[dt.datetime | None]
    #: logout, password_changed, two_factor_changed, locked, too_many_codes, second_step_passed…
    end_reason: Mapped[str | None] = mapped_column(sa.String(32))
