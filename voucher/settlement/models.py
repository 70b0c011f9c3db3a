"""PaymentBatch (one settlement run) and its payments, one per provider."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.db import Base, enum_type


class BatchStatus(enum.StrEnum):
    CREATED = "created"
    SENT = "sent"  #: the SEPA file was handed to the bank
    CONFIRMED = "confirmed"  #: the bank confirmed the payments


class PaymentBatch(Base):
    """The result of one settlement run: payments sent to the bank together."""

    __tablename__ = "payment_batches"
    __table_args__ = (sa.CheckConstraint("total_cents >= 0", name="total_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SEPA message id (MsgId) of the pain.001 file.
    message_id: Mapped[str] = mapped_column(sa.String(35), unique=True)
    #: Invoices approved up to this date were included (NULL: all approved invoices).
    up_to: Mapped[dt.date | None]
    status: Mapped[BatchStatus] = mapped_column(
        enum_type(BatchStatus, "status"), default=BatchStatus.CREATED)
    total_cents: Mapped[int] = mapped_column(sa.BigInteger)
    payment_count: Mapped[int]
    #: The requested execution date (ReqdExctnDt) of the credit transfers.
    execution_on: Mapped[dt.date]
    #: The pain.001.001.03 document exactly as generated.
    sepa_xml: Mapped[str] = mapped_column(sa.Text)
    #: Approved invoices the run left unpaid and why: [{"invoice_id", "number", "provider",
    #: "reason", "params"}]. They wait for a later run.
    held_invoices: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    sent_at: Mapped[dt.datetime | None]
    sent_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_at: Mapped[dt.datetime | None]
    confirmed_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    payments: Mapped[list[Payment]] = relationship(
        back_populates="batch", order_by="Payment.id")


class Payment(Base):
    """One credit transfer to a provider: the voucher shares of its invoices (plus, once the
    online payment exists, the self-shares collected for it)."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("self_share_cents >= 0", name="self_share_not_negative"),
        sa.CheckConstraint("amount_cents = voucher_share_cents + self_share_cents",
                           name="amount_adds_up"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("payment_batches.id"), index=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    voucher_share_cents: Mapped[int] = mapped_column(sa.BigInteger)
    self_share_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    creditor_name: Mapped[str] = mapped_column(sa.String(200))
    iban: Mapped[str] = mapped_column(sa.String(34))
    bic: Mapped[str | None] = mapped_column(sa.String(11))
    #: Structured creditor reference, when the payment covers a single invoice.
    reference: Mapped[str | None] = mapped_column(sa.String(25))
    #: Unstructured remittance information: the invoice numbers.
    remittance_info: Mapped[str] = mapped_column(sa.String(140))
    end_to_end_id: Mapped[str] = mapped_column(sa.String(35), unique=True)

    batch: Mapped[PaymentBatch] = relationship(back_populates="payments")
