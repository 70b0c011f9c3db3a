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
    #: The bank has given its word on every payment (accepted, rejected or returned): set by
    #: an imported status report or debit notification, never by a click.
    CONFIRMED = "confirmed"


class PaymentBankStatus(enum.StrEnum):
    """What the bank has said of one payment (``bank_feedback``); the allowed moves are in
    ``BANK_TRANSITIONS``."""

    AWAITING = "awaiting"  #: no word from the bank yet
    ACCEPTED = "accepted"  #: accepted (pain.002) or debited from the authority's account
    REJECTED = "rejected"  #: refused by the bank (pain.002 RJCT): never paid
    RETURNED = "returned"  #: paid, then sent back by the provider's bank (camt.054)


#: From each state, the states the bank's later word may move a payment to. Rejected and
#: returned are final: a file that arrives late cannot make a failed payment paid again.
BANK_TRANSITIONS = {
    PaymentBankStatus.AWAITING: {PaymentBankStatus.ACCEPTED, PaymentBankStatus.REJECTED,
                                 PaymentBankStatus.RETURNED},
    PaymentBankStatus.ACCEPTED: {PaymentBankStatus.REJECTED, PaymentBankStatus.RETURNED},
    PaymentBankStatus.REJECTED: set(),
    PaymentBankStatus.RETURNED: set(),
}
#: The bank's word that the money did not reach the provider: the payment is paid again.
FAILED = (PaymentBankStatus.REJECTED, PaymentBankStatus.RETURNED)


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
    #: The pain.001 document exactly as generated.
    sepa_xml: Mapped[str] = mapped_column(sa.Text)
    #: Its message definition: pain.001.001.09, or .03 for a bank that still wants that.
    file_format: Mapped[str] = mapped_column(sa.String(20), default="pain.001.001.09",
                                             server_default="pain.001.001.03")
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
        #: A failed payment is paid again at most once (an index: SQLite cannot ALTER in a
        #: unique constraint).
        sa.Index("uq_payments_repays_payment_id", "repays_payment_id", unique=True),
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
    #: The batch's message id and the payment's number in it: unique, and what the bank's
    #: status reports and debit notifications name the payment by.
    end_to_end_id: Mapped[str] = mapped_column(sa.String(35), unique=True)
    bank_status: Mapped[PaymentBankStatus] = mapped_column(
        enum_type(PaymentBankStatus, "bank_status"), default=PaymentBankStatus.AWAITING,
        server_default=PaymentBankStatus.AWAITING.value)
    #: When the bank status last changed, and the bank's reason (an ISO 20022 external
    #: reason code such as AC04, and its additional information).
    bank_status_at: Mapped[dt.datetime | None]
    bank_reason_code: Mapped[str | None] = mapped_column(sa.String(35))
    bank_reason_text: Mapped[str | None] = mapped_column(sa.String(500))
    #: A payment that pays again a rejected or returned one (same invoices, same amounts;
    #: no new spending). Each failed payment is paid again at most once.
    repays_payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"))
    #: An administrator let a failed payment go to the same account again (the bank's reason
    #: did not concern the account); otherwise it waits for the provider's corrected account.
    retry_approved_at: Mapped[dt.datetime | None]
    retry_approved_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    batch: Mapped[PaymentBatch] = relationship(back_populates="payments")
    #: The payment that paid this one again, once it has been (loaded only where shown).
    repaid_by: Mapped[Payment | None] = relationship(
        primaryjoin="Payment.id == foreign(Payment.repays_payment_id)", uselist=False,
        viewonly=True)

    @property
    def failed(self) -> bool:
        return self.bank_status in FAILED


#: Another payment, in a statement about a payment: the one that pays it again after the bank
#: rejected or returned it (``repays_payment_id``): a plain table alias, made once (an ORM
#: alias made for each statement costs a millisecond or more to adapt).
REPAYMENT = Payment.__table__.alias("repayment")


class BankFeedbackFile(Base):
    """A bank file imported: a pain.002 status report or a camt.054 debit notification, kept
    byte for byte. Its SHA-256 is unique: the same file imported again changes nothing."""

    __tablename__ = "bank_feedback_files"
    __table_args__ = (sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    #: The ISO 20022 message definition, e.g. pain.002.001.10 or camt.054.001.08.
    message_type: Mapped[str] = mapped_column(sa.String(40))
    #: The bank's message id (GrpHdr/MsgId).
    message_id: Mapped[str] = mapped_column(sa.String(35))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    #: "upload" (the settlement page) or "folder" (``settlement import-bank-files``).
    source: Mapped[str] = mapped_column(sa.String(10))
    #: Counts of the statuses by their effect: {"applied": n, "unchanged": n, ...}.
    summary: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    imported_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    imported_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    statuses: Mapped[list[PaymentBankStatusReport]] = relationship(
        back_populates="file", order_by="PaymentBankStatusReport.id")


class PaymentBankStatusReport(Base):
    """One payment status a bank file gave, and what it did: ``applied`` (moved the payment),
    ``unchanged`` (it already had that state), ``final`` (the payment had already failed for
    good), ``pending`` (the bank has only received it), ``unknown`` (no payment has that
    end-to-end id) or ``amount_differs`` (the bank's amount is not the payment's)."""

    __tablename__ = "payment_bank_status_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("bank_feedback_files.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    end_to_end_id: Mapped[str] = mapped_column(sa.String(35))
    #: The state the bank reports (accepted, rejected, returned), NULL for a pending status.
    status: Mapped[PaymentBankStatus | None] = mapped_column(
        enum_type(PaymentBankStatus, "status"))
    #: The bank's own code: TxSts (ACCP, RJCT, ...) or the entry's status (BOOK, ...).
    bank_code: Mapped[str] = mapped_column(sa.String(10))
    reason_code: Mapped[str | None] = mapped_column(sa.String(35))
    reason_text: Mapped[str | None] = mapped_column(sa.String(500))
    amount_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    effect: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    file: Mapped[BankFeedbackFile] = relationship(back_populates="statuses")
    payment: Mapped[Payment | None] = relationship()
