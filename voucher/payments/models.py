"""Online payments of self-shares, the service events they cover, refunds and webhook events.

The database keeps the money safe whatever Stripe (or the local fake) does: an event is in at
most one live (pending or succeeded) payment, because its link row carries the event's id in
``live_redemption_id`` under a unique constraint while the payment is live; refunds of a payment
never exceed what it collected (a conditional update and a check constraint); and every webhook
event is processed once (its Stripe id is unique).
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.db import Base, enum_type


class OnlinePaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


#: The states in which a payment holds its events (they cannot be paid again).
LIVE_STATUSES = (OnlinePaymentStatus.PENDING, OnlinePaymentStatus.SUCCEEDED)


class OnlinePayment(Base):
    """A client's card payment of the self-shares of a set of service events (one provider, one
    month). Its state changes only when a verified webhook says so."""

    __tablename__ = "online_payments"
    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("refunded_cents >= 0 AND refunded_cents <= amount_cents",
                           name="refunds_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    #: First day of the month of the service events.
    period: Mapped[dt.date]
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    #: Sum of the refunds recorded for this payment (guarded: never above the amount).
    refunded_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status: Mapped[OnlinePaymentStatus] = mapped_column(
        enum_type(OnlinePaymentStatus, "status"), default=OnlinePaymentStatus.PENDING)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    #: Sent with the PaymentIntent's creation; real Stripe answers a retry with the same intent.
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Why the payment failed, in our words: "declined" (Stripe's message below), "unavailable"
    #: (Stripe did not answer when the payment was started), "abandoned" (left half-way),
    #: "canceled" (cancelled at Stripe).
    failure_code: Mapped[str | None] = mapped_column(sa.String(20))
    #: Stripe's message for the client when the payment failed.
    failure_message: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    succeeded_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]

    events: Mapped[list[OnlinePaymentEvent]] = relationship(
        back_populates="payment", order_by="OnlinePaymentEvent.redemption_id")


class OnlinePaymentEvent(Base):
    """A service event's self-share in an online payment."""

    __tablename__ = "online_payment_events"
    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("live_redemption_id IS NULL OR live_redemption_id = redemption_id",
                           name="live_is_the_event"),
        sa.UniqueConstraint("online_payment_id", "redemption_id"),
        sa.UniqueConstraint("live_redemption_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    online_payment_id: Mapped[int] = mapped_column(sa.ForeignKey("online_payments.id"))
    redemption_id: Mapped[int] = mapped_column(sa.ForeignKey("redemptions.id"), index=True)
    #: The event's id while the payment is pending or succeeded, NULL once it failed: unique,
    #: so that no event is ever in two live payments.
    live_redemption_id: Mapped[int | None] = mapped_column(sa.ForeignKey("redemptions.id"))
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    #: The settlement payment that passed this self-share on to the provider.
    payout_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)

    payment: Mapped[OnlinePayment] = relationship(back_populates="events")


class RefundStatus(enum.StrEnum):
    #: Recorded (the money is owed to the client); Stripe has not confirmed it yet.
    PENDING = "pending"
    SUCCEEDED = "succeeded"


class OnlineRefund(Base):
    """A self-share given back to the client's card: a service event paid online was voided or
    corrected. One per event. Recorded with the void or correction, made at Stripe afterwards
    by a job (``jobs``): ``pending`` until Stripe confirms it."""

    __tablename__ = "online_refunds"
    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.UniqueConstraint("redemption_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    online_payment_id: Mapped[int] = mapped_column(sa.ForeignKey("online_payments.id"),
                                                   index=True)
    redemption_id: Mapped[int] = mapped_column(sa.ForeignKey("redemptions.id"))
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    #: "void", "correction" or "not_due" (the event was no longer due when the money came).
    reason: Mapped[str] = mapped_column(sa.String(20))
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    #: Derived from the event, so that a retried refund is the same refund at Stripe.
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The settlement payment from which this refund was deducted.
    payout_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    status: Mapped[RefundStatus] = mapped_column(
        enum_type(RefundStatus, "status"), default=RefundStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    succeeded_at: Mapped[dt.datetime | None]

    payment: Mapped[OnlinePayment] = relationship()


class JobKind(enum.StrEnum):
    #: Create the PaymentIntent of a payment (done by the request that starts it).
    CREATE_INTENT = "create_intent"
    #: Pay the intent with the client's card (done by the request), then watch its outcome.
    CONFIRM_INTENT = "confirm_intent"
    #: Cancel an intent nobody finished.
    CANCEL_INTENT = "cancel_intent"
    #: Make a refund recorded as pending.
    REFUND = "refund"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    DONE = "done"
    #: Stripe refused it for good; an operator alert says what to do.
    FAILED = "failed"


class StripeJob(Base):
    """A call to Stripe, recorded in the same transaction as the business change it belongs
    to and made after the commit, outside any transaction: by the request when the person
    waits for the answer, otherwise by ``payments run-jobs`` with retries and back-off. A
    runner claims a job with a lease (``locked_until``), so that several servers never make
    the same call at once; the idempotency key makes a repeated call the same call."""

    __tablename__ = "stripe_jobs"
    __table_args__ = (
        sa.Index("ix_stripe_jobs_due", "status", "next_attempt_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(enum_type(JobKind, "kind"))
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus, "status"),
                                              default=JobStatus.QUEUED)
    online_payment_id: Mapped[int] = mapped_column(sa.ForeignKey("online_payments.id"),
                                                   index=True)
    online_refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("online_refunds.id"),
                                                         index=True)
    #: Sent to Stripe as the Idempotency-Key of the call (and kept in a refund's metadata).
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    #: What the call needs besides the rows (the card token of a confirmation).
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: What the person's page shows (a confirmation's outcome, the 3-D Secure secret).
    result: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: A runner holds the job until then; afterwards another may take it.
    locked_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    finished_at: Mapped[dt.datetime | None]


class StripeWebhookEvent(Base):
    """A webhook event from Stripe, recorded once by its id (duplicates are answered 200 and
    change nothing)."""

    __tablename__ = "stripe_webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    type: Mapped[str] = mapped_column(sa.String(100))
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255))
    #: What processing did: "succeeded", "failed", "ignored", …
    outcome: Mapped[str] = mapped_column(sa.String(40))
    received_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
