"""Redemption: a delivered service, its split into voucher share and self-share."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.db import Base, enum_type
from voucher.vouchers.models import Voucher


class RedemptionStatus(enum.StrEnum):
    RECORDED = "recorded"
    INVOICED = "invoiced"
    SETTLED = "settled"
    VOID = "void"


class ClientShareStatus(enum.StrEnum):
    DUE = "due"
    PAID_ONLINE = "paid_online"
    #: The provider bills the client itself (its choice, or the online payment time ran out).
    BILLED_BY_PROVIDER = "billed_by_provider"
    REFUNDED = "refunded"


class Redemption(Base):
    """A service event. ``voucher_pays = min(price, value) × units``, ``client_pays`` the rest.

    A correction reverses an invoiced event: it references it, has negative units and amounts,
    and appears on the next invoice as a negative line, so sent invoices are never edited.
    """

    __tablename__ = "redemptions"
    __table_args__ = (
        sa.CheckConstraint("unit_price_cents >= 0", name="price_not_negative"),
        sa.CheckConstraint(
            "(corrects_id IS NULL AND units > 0 AND voucher_pays_cents >= 0 "
            "AND client_pays_cents >= 0) OR "
            "(corrects_id IS NOT NULL AND units < 0 AND voucher_pays_cents <= 0 "
            "AND client_pays_cents <= 0)",
            name="sign_by_kind"),
        sa.CheckConstraint(
            "(client_pays_cents > 0) = (client_share_status IS NOT NULL)",
            name="client_share_status_when_self_share"),
        sa.UniqueConstraint("corrects_id"),
        sa.Index("uq_redemptions_replaces_id", "replaces_id", unique=True),
        # A form sent twice (a double click, a reload) records once.
        sa.UniqueConstraint("provider_id", "submission_key"),
        sa.Index("ix_redemptions_provider_status_date", "provider_id", "status", "service_date"),
        sa.Index("ix_redemptions_voucher_status", "voucher_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"))
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"))
    #: The voucher period whose units this event took (or gave back, for a correction).
    voucher_period_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_periods.id"))
    service_date: Mapped[dt.date]
    #: Hundredths of a unit; negative for a correction.
    units: Mapped[int] = mapped_column(sa.BigInteger)
    unit_price_cents: Mapped[int] = mapped_column(sa.BigInteger)
    #: The voucher's unit value when recorded (for a free service: the price cap).
    unit_value_cents: Mapped[int] = mapped_column(sa.BigInteger)
    voucher_pays_cents: Mapped[int] = mapped_column(sa.BigInteger)
    client_pays_cents: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[RedemptionStatus] = mapped_column(
        enum_type(RedemptionStatus, "status"), default=RedemptionStatus.RECORDED)
    #: The invoiced event this correction reverses.
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("redemptions.id"))
    #: The event this one replaces at the value of a change of decision (the replaced event
    #: was voided, or reversed by a correction); it goes on the provider's next invoice.
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("redemptions.id"))
    #: The change of decision that made this correction or replacement.
    voucher_change_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher_changes.id"),
                                                          index=True)
    #: The provider's own pseudonymous staff id (never a name), for continuity of care.
    caregiver_ref: Mapped[str | None] = mapped_column(sa.String(64))
    note: Mapped[str | None] = mapped_column(sa.Text)
    #: "portal", "csv" or "api".
    source: Mapped[str] = mapped_column(sa.String(10))
    #: NULL when there is no self-share to pay.
    client_share_status: Mapped[ClientShareStatus | None] = mapped_column(
        enum_type(ClientShareStatus, "client_share_status"))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: The portal form's one-time key (NULL from the API, which has its Idempotency-Key, and
    #: from a CSV file).
    submission_key: Mapped[str | None] = mapped_column(sa.String(64))
    voided_at: Mapped[dt.datetime | None]
    voided_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    voucher: Mapped[Voucher] = relationship()
    corrects: Mapped[Redemption | None] = relationship(remote_side="Redemption.id",
                                                       foreign_keys=[corrects_id])

    @property
    def is_correction(self) -> bool:
        return self.corrects_id is not None


#: The events table once more, for an event's corrections: a plain table alias made once (an
#: ORM alias made for each statement cost 1.5 ms a call to adapt its columns, a fifth of the
#: CPU of an invoice, which makes two).
CORRECTION = Redemption.__table__.alias("correction")


def not_corrected() -> sa.ColumnElement[bool]:
    """The event (``Redemption``) has no correction reversing it: a corrected event's
    self-share is no longer due (the correction and any replacement stand for it)."""
    return ~sa.exists().where(CORRECTION.c.corrects_id == Redemption.id)


class CsvImport(Base):
    """A CSV file of service events that was recorded, by its SHA-256: the same file sent
    again is recognised and recorded again only when the provider says so."""

    __tablename__ = "csv_imports"
    __table_args__ = (sa.Index("ix_csv_imports_provider_sha256", "provider_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    events: Mapped[int] = mapped_column(sa.Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    imported_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
