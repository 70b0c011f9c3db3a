"""A request for review of a voucher decision and the decision made on it."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.db import Base, enum_type
from voucher.vouchers.models import Voucher


class ReviewChannel(enum.StrEnum):
    ONLINE = "online"  #: the client (or their representative) in their own pages
    PAPER = "paper"  #: received by post or at the registry office, recorded by a case manager


class ReviewOutcome(enum.StrEnum):
    UPHELD = "upheld"  #: the decision stands
    CHANGED = "changed"  #: the decision is changed: the case manager makes the new decision
    DISMISSED = "dismissed"  #: not examined: too late, or not a request about this decision


class ReviewRequest(Base):
    """One request for review; decided once, with its own decision number and letter."""

    __tablename__ = "review_requests"
    __table_args__ = (
        sa.CheckConstraint("(outcome IS NULL) = (decided_at IS NULL)", name="decided_whole"),
        # One request of a decision waits at a time.
        sa.Index("ix_review_requests_one_open", "voucher_id", unique=True,
                 sqlite_where=sa.text("decided_at IS NULL"),
                 postgresql_where=sa.text("decided_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"))
    #: The number of the decision under review (the voucher's decision in force when the
    #: request came; a later change of decision has a number of its own).
    decision_number_reviewed: Mapped[str | None] = mapped_column(sa.String(32))
    channel: Mapped[ReviewChannel] = mapped_column(enum_type(ReviewChannel, "channel"))
    #: The day the authority received the request (online: the day it was filed).
    received_on: Mapped[dt.date]
    #: What the client asks to be changed, and why.
    request_text: Mapped[str] = mapped_column(sa.Text)
    #: Received after the time for a request ended (the deadline known then).
    late: Mapped[bool] = mapped_column(default=False)
    filed_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    filed_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    outcome: Mapped[ReviewOutcome | None] = mapped_column(enum_type(ReviewOutcome, "outcome"))
    reasoning: Mapped[str | None] = mapped_column(sa.Text)
    decision_number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    decided_at: Mapped[dt.datetime | None]
    decided_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    voucher: Mapped[Voucher] = relationship()
