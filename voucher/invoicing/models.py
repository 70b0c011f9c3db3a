"""Invoice, its immutable lines, and the gap-free invoice number sequence."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.db import Base, enum_type
from voucher.providers.models import Provider


class InvoiceStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"


class Invoice(Base):
    """A provider's claim for one month's service events. Never edited once sent: a rejected
    invoice keeps its lines (the events return to ``recorded``), and mistakes found later are
    corrected by correction events on a later invoice."""

    __tablename__ = "invoices"
    __table_args__ = (
        sa.CheckConstraint("line_count >= 0", name="line_count_not_negative"),
        sa.Index("ix_invoices_provider_period", "provider_id", "period"),
        sa.Index("ix_invoices_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: From a gap-free sequence (InvoiceNumberSequence), taken in the invoice's transaction.
    number: Mapped[int] = mapped_column(unique=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"))
    #: First day of the invoiced month.
    period: Mapped[dt.date]
    status: Mapped[InvoiceStatus] = mapped_column(
        enum_type(InvoiceStatus, "status"), default=InvoiceStatus.SUBMITTED)
    #: The provider's details as they were on the invoice.
    business_id: Mapped[str] = mapped_column(sa.String(9))
    provider_name: Mapped[str] = mapped_column(sa.String(200))
    iban: Mapped[str] = mapped_column(sa.String(34))
    bic: Mapped[str | None] = mapped_column(sa.String(11))
    #: Finnish payment reference (viitenumero) derived from the invoice number.
    reference: Mapped[str] = mapped_column(sa.String(25))
    #: Sum of the lines' voucher shares: what the authority pays (may be negative only if a
    #: month has corrections alone).
    voucher_total_cents: Mapped[int] = mapped_column(sa.BigInteger)
    client_total_cents: Mapped[int] = mapped_column(sa.BigInteger)
    line_count: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decided_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    paid_at: Mapped[dt.datetime | None]

    provider: Mapped[Provider] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.id")
    #: The settlement payment that paid it (by name: settlement imports invoicing); its bank
    #: status says whether the money arrived.
    payment = relationship("Payment", lazy="select", viewonly=True)


class InvoiceLine(Base):
    """A snapshot of one service event on an invoice."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    redemption_id: Mapped[int] = mapped_column(sa.ForeignKey("redemptions.id"), index=True)
    voucher_code: Mapped[str] = mapped_column(sa.String(32))
    service_date: Mapped[dt.date]
    units: Mapped[int] = mapped_column(sa.BigInteger)
    unit_price_cents: Mapped[int] = mapped_column(sa.BigInteger)
    voucher_pays_cents: Mapped[int] = mapped_column(sa.BigInteger)
    client_pays_cents: Mapped[int] = mapped_column(sa.BigInteger)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceNumberSequence(Base):
    """The last invoice number used (a single row, locked while a number is taken, so numbers
    have no gaps even when an invoice transaction rolls back)."""

    __tablename__ = "invoice_number_sequence"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    last_number: Mapped[int] = mapped_column(default=0)
