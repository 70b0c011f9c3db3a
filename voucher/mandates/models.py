"""Mandate: a representative may act for a client."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.clients.models import Client
from voucher.db import Base, enum_type


class MandateBasis(enum.StrEnum):
    #: A guardian (edunvalvoja) appointed by the court; the client cannot revoke it here.
    GUARDIAN = "guardian"
    #: A relative or other person with the client's consent; the client may revoke it.
    CONSENT = "consent"


class MandateScope(enum.StrEnum):
    """What a representative may do besides seeing the client's vouchers and events."""

    CHOOSE_PROVIDER = "choose_provider"
    PAY = "pay"
    FEEDBACK = "feedback"


class Mandate(Base):
    """Who acts for which client, on what basis, with what scope, valid on which days."""

    __tablename__ = "mandates"
    __table_args__ = (
        sa.CheckConstraint("valid_until >= valid_from", name="valid_period"),
        sa.CheckConstraint("NOT notices_to_representative OR representative_email IS NOT NULL",
                           name="notices_need_an_address"),
        sa.Index("ix_mandates_representative", "representative_code_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    #: HMAC of the representative's normalised identity code: how a login finds the mandate.
    representative_code_index: Mapped[str] = mapped_column(sa.String(64))
    #: Fernet token of the representative's identity code.
    representative_code_encrypted: Mapped[str] = mapped_column(sa.Text)
    #: Shown instead of the code, e.g. "120375-****".
    representative_code_masked: Mapped[str] = mapped_column(sa.String(11))
    representative_name: Mapped[str] = mapped_column(sa.String(200))
    basis: Mapped[MandateBasis] = mapped_column(enum_type(MandateBasis, "basis"))
    may_choose_provider: Mapped[bool] = mapped_column(default=False)
    may_pay: Mapped[bool] = mapped_column(default=False)
    may_give_feedback: Mapped[bool] = mapped_column(default=False)
    #: The representative's e-mail address, for notices when the client chose so.
    representative_email: Mapped[str | None] = mapped_column(sa.String(254))
    #: The client's notices (vouchers, decisions) go to the representative instead.
    notices_to_representative: Mapped[bool] = mapped_column(default=False)
    #: Days in Finnish time, both included.
    valid_from: Mapped[dt.date]
    valid_until: Mapped[dt.date]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    client: Mapped[Client] = relationship()

    def allows(self, scope: MandateScope) -> bool:
        return {MandateScope.CHOOSE_PROVIDER: self.may_choose_provider,
                MandateScope.PAY: self.may_pay,
                MandateScope.FEEDBACK: self.may_give_feedback}[scope]

    def in_force(self, today: dt.date) -> bool:
        return self.revoked_at is None and self.valid_from <= today <= self.valid_until
