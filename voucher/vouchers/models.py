"""Voucher, its unit periods, the provider assignments and the issuing policy."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.catalogue.models import ServiceType
from voucher.clients.models import Client
from voucher.db import Base, enum_type
from voucher.money import units_times_cents
from voucher.municipalities.models import Municipality
from voucher.providers.models import Provider


class VoucherStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    ISSUED = "issued"
    ASSIGNED = "assigned"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


#: States in which a voucher holds a live commitment and may still be used or assigned.
ACTIVE_STATUSES = (VoucherStatus.ISSUED, VoucherStatus.ASSIGNED)
#: States after which nothing more can be recorded on a voucher.
CLOSED_STATUSES = (VoucherStatus.EXHAUSTED, VoucherStatus.EXPIRED, VoucherStatus.CANCELLED)


class Recurrence(enum.StrEnum):
    #: ``units_per_period`` units in all, for the whole validity.
    TOTAL = "total"
    #: ``units_per_period`` units each calendar month; unused units do not carry over.
    MONTHLY = "monthly"


class ValueBasis(enum.StrEnum):
    FIXED = "fixed"
    INCOME_RELATED = "income_related"
    FREE_FOR_CLIENT = "free_for_client"


class Voucher(Base):
    """A decision that a client may buy a service up to a value per unit."""

    __tablename__ = "vouchers"
    __table_args__ = (
        sa.CheckConstraint("units_per_period > 0", name="units_positive"),
        sa.CheckConstraint("units_used >= 0 AND units_used <= units_granted",
                           name="units_used_within_grant"),
        sa.CheckConstraint("valid_until >= valid_from", name="validity_in_order"),
        sa.CheckConstraint("unit_value_cents >= 0", name="value_not_negative"),
        sa.CheckConstraint("committed_cents >= 0", name="commitment_not_negative"),
        # Four eyes: nobody approves their own decision.
        sa.CheckConstraint(
            "approved_by_user_id IS NULL OR approved_by_user_id <> created_by_user_id",
            name="four_eyes"),
        sa.Index("ix_vouchers_provider_status", "provider_id", "status"),
        sa.Index("ix_vouchers_status_valid_until", "status", "valid_until"),
        sa.Index("ix_vouchers_municipality_status", "municipality_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The decision's number, unique in the authority, given when it is issued
    #: (decision_numbers.py). Every issued decision has one; a CHECK will say so once the
    #: release before numbering is gone (see migration 0015).
    decision_number: Mapped[str | None] = mapped_column(sa.String(32), unique=True, index=True)
    #: The electronic voucher: ≥ 80 random bits, no ambiguous characters, grouped for reading.
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    #: Short second code on the decision letter; with the voucher code it activates the voucher.
    confirmation_code: Mapped[str] = mapped_column(sa.String(12))
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_types.id"))
    #: The client's home municipality at the decision: its budget pays.
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"))
    value_basis: Mapped[ValueBasis] = mapped_column(enum_type(ValueBasis, "value_basis"))
    #: What the voucher pays per unit. For a service free for the client: the price cap.
    unit_value_cents: Mapped[int] = mapped_column(sa.BigInteger)
    #: The first day on which ``unit_value_cents`` applies, when a change of decision set it
    #: from that day on; service dates before it take their value from ``VoucherValue``
    #: (NULL: the whole validity).
    value_from: Mapped[dt.date | None]
    #: Set when the case manager raised the value for this client; the written reason.
    value_raise_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: The value computation as shown on the decision (inputs, table used, steps, result).
    calculation: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    recurrence: Mapped[Recurrence] = mapped_column(enum_type(Recurrence, "recurrence"))
    #: Units (hundredths) per month for a monthly voucher, in all for a total voucher.
    units_per_period: Mapped[int] = mapped_column(sa.BigInteger)
    #: All units the voucher grants over its validity (hundredths).
    units_granted: Mapped[int] = mapped_column(sa.BigInteger)
    units_used: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    valid_from: Mapped[dt.date]
    valid_until: Mapped[dt.date]
    #: units_granted × unit_value, committed against the budgets when issued.
    committed_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status: Mapped[VoucherStatus] = mapped_column(
        enum_type(VoucherStatus, "status"), default=VoucherStatus.DRAFT)
    #: The case manager's need assessment (free text).
    need_assessment: Mapped[str] = mapped_column(sa.Text)
    #: The accepted provider; only it can record service events.
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id"))
    created_by_user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    approved_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    issued_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: The day the client refused the voucher (it is then cancelled).
    refused_on: Mapped[dt.date | None]
    #: When the voucher became exhausted or expired.
    closed_at: Mapped[dt.datetime | None]

    client: Mapped[Client] = relationship()
    service_type: Mapped[ServiceType] = relationship()
    municipality: Mapped[Municipality] = relationship()
    provider: Mapped[Provider | None] = relationship()
    periods: Mapped[list[VoucherPeriod]] = relationship(
        back_populates="voucher", order_by="VoucherPeriod.starts_on",
        cascade="all, delete-orphan")

    @property
    def units_remaining(self) -> int:
        return self.units_granted - self.units_used

    @property
    def total_value_cents(self) -> int:
        """The decision's total value: all units granted at the unit value."""
        return units_times_cents(self.units_granted, self.unit_value_cents)

    def __repr__(self) -> str:
        return f"<Voucher {self.id} {self.status}>"


class VoucherValue(Base):
    """The unit value a decision set from a day on (written when a change of decision changes
    the value; the first row is the value of the decision it changed, from the validity's
    start). A service dated ``day`` is worth the value of the newest row starting on or
    before it: a later change from an earlier day overrides what an earlier change set."""

    __tablename__ = "voucher_values"
    __table_args__ = (sa.CheckConstraint("unit_value_cents >= 0", name="value_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="CASCADE"),
                                            index=True)
    starts_on: Mapped[dt.date]
    unit_value_cents: Mapped[int] = mapped_column(sa.BigInteger)
    #: The decision that set it.
    decision_number: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class DeliveryMethod(enum.StrEnum):
    ELECTRONIC = "electronic"  #: e-mail notice, the letter in the client's own pages
    POST = "post"  #: printed in the post room's batch and posted


class DecisionDelivery(Base):
    """How a decision reaches its client and when it counts as received (Administrative
    Procedure Act 434/2003, section 59: electronically on the third day after sending, by
    post on the seventh), the start of the 30 days for a request for review."""

    __tablename__ = "decision_deliveries"
    __table_args__ = (
        # One delivery of the voucher's own decision, and one of each change decision.
        sa.Index("uq_decision_deliveries_voucher_decision", "voucher_id", unique=True,
                 sqlite_where=sa.text("voucher_change_id IS NULL"),
                 postgresql_where=sa.text("voucher_change_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="CASCADE"))
    #: The change decision delivered (``changes.models.VoucherChange``); NULL: the voucher's
    #: issuing decision.
    voucher_change_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("voucher_changes.id", ondelete="CASCADE"), unique=True)
    method: Mapped[DeliveryMethod] = mapped_column(enum_type(DeliveryMethod, "method"))
    queued_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: E-mailed, or posted (None while the letter waits in the post room's queue).
    sent_on: Mapped[dt.date | None]
    received_on: Mapped[dt.date | None]
    posted_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    voucher: Mapped[Voucher] = relationship()


class VoucherReminder(Base):
    """A reminder sent about a voucher (reminders.py): one per kind and date it is about (the
    validity's end, or the month), so that none is sent twice."""

    __tablename__ = "voucher_reminders"
    __table_args__ = (sa.UniqueConstraint("voucher_id", "kind", "about"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    about: Mapped[dt.date]
    sent_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class DecisionNumberSequence(Base):
    """The last decision number used in a year (one row per year)."""

    __tablename__ = "decision_number_sequence"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class VoucherPeriod(Base):
    """The units available in one stretch of the validity: the whole validity for a total
    voucher, one calendar month for a monthly voucher. Service events take units from the
    period of their date with a conditional update, so units can never be overdrawn."""

    __tablename__ = "voucher_periods"
    __table_args__ = (
        sa.UniqueConstraint("voucher_id", "starts_on"),
        sa.CheckConstraint("units_granted > 0", name="granted_positive"),
        sa.CheckConstraint("units_used >= 0 AND units_used <= units_granted",
                           name="used_within_granted"),
        sa.CheckConstraint("ends_on >= starts_on", name="in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="CASCADE"))
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    units_granted: Mapped[int] = mapped_column(sa.BigInteger)
    units_used: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    voucher: Mapped[Voucher] = relationship(back_populates="periods")

    @property
    def units_remaining(self) -> int:
        return self.units_granted - self.units_used


class AssignmentStatus(enum.StrEnum):
    PROPOSED = "proposed"  #: chosen by or for the client, waiting for the provider
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ENDED = "ended"  #: the client changed provider, or the voucher closed


class VoucherAssignment(Base):
    """A choice of provider for a voucher and the provider's answer."""

    __tablename__ = "voucher_assignments"
    __table_args__ = (
        # At most one provider in charge (accepted) and one request waiting (proposed) per
        # voucher: when the client changes provider, the current one goes on serving until the
        # new one accepts.
        sa.Index("uq_voucher_assignments_accepted", "voucher_id", unique=True,
                 sqlite_where=sa.text("status = 'accepted'"),
                 postgresql_where=sa.text("status = 'accepted'")),
        sa.Index("uq_voucher_assignments_proposed", "voucher_id", unique=True,
                 sqlite_where=sa.text("status = 'proposed'"),
                 postgresql_where=sa.text("status = 'proposed'")),
        sa.Index("ix_voucher_assignments_provider_status", "provider_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"))
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"))
    status: Mapped[AssignmentStatus] = mapped_column(
        enum_type(AssignmentStatus, "status"), default=AssignmentStatus.PROPOSED)
    #: "client", "case_manager" or "activation" (the provider entered both codes).
    chosen_via: Mapped[str] = mapped_column(sa.String(20))
    chosen_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    chosen_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    responded_at: Mapped[dt.datetime | None]
    responded_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    ended_at: Mapped[dt.datetime | None]

    voucher: Mapped[Voucher] = relationship()
    provider: Mapped[Provider] = relationship()


class VoucherPolicy(Base):
    """Authority-wide issuing rules, set by the administrator (a single row)."""

    __tablename__ = "voucher_policy"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    #: Decisions whose total value (committed amount) is above this need a second case
    #: manager's approval.
    four_eyes_threshold_cents: Mapped[int] = mapped_column(sa.BigInteger, default=300_000)
