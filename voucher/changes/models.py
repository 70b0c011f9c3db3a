"""VoucherChange: a proposed change of a voucher decision and, once approved, the decision
that changes it."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.db import Base, enum_type
from voucher.vouchers.models import Voucher


class ChangeStatus(enum.StrEnum):
    PROPOSED = "proposed"  #: waiting for a second case manager
    APPROVED = "approved"  #: the change decision is made and in force
    REJECTED = "rejected"  #: another case manager did not approve it
    WITHDRAWN = "withdrawn"  #: its proposer took it back


class VoucherChange(Base):
    """A change of units, value, validity or service of a voucher from ``starts_on``.

    ``before`` is the decision changed, as it was (its number, date, makers and terms), so that
    it stays readable; ``after`` the new terms. The voucher row always holds the decision in
    force. Approved, the change has its own decision number and letter."""

    __tablename__ = "voucher_changes"
    __table_args__ = (
        # Four eyes: nobody approves (or rejects) their own proposal; they withdraw it.
        sa.CheckConstraint(
            "status NOT IN ('approved', 'rejected') OR decided_by_user_id <> proposed_by_user_id",
            name="four_eyes"),
        sa.CheckConstraint("(status = 'proposed') = (decided_at IS NULL)", name="decided_whole"),
        sa.CheckConstraint("(status = 'approved') = (decision_number IS NOT NULL)",
                           name="approved_numbered"),
        # One proposal of a voucher waits at a time.
        sa.Index("uq_voucher_changes_one_proposed", "voucher_id", unique=True,
                 sqlite_where=sa.text("status = 'proposed'"),
                 postgresql_where=sa.text("status = 'proposed'")),
        sa.Index("ix_voucher_changes_voucher_status", "voucher_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"))
    status: Mapped[ChangeStatus] = mapped_column(enum_type(ChangeStatus, "status"),
                                                 default=ChangeStatus.PROPOSED)
    #: The change decision's own number, given when it is approved.
    decision_number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    #: The number of the decision this one changes (the voucher's decision in force when it
    #: was proposed; approving refuses when another change came in between).
    changes_decision_number: Mapped[str] = mapped_column(sa.String(32))
    #: From this day on the new terms apply (at most 12 months back, not in the future).
    starts_on: Mapped[dt.date]
    #: Why the decision is changed (the letter gives it as the reasons).
    reason: Mapped[str] = mapped_column(sa.Text)
    #: The review decision that ordered the change, when one did.
    review_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("review_requests.id"))
    #: The decision changed: number, date, makers and terms (see ``terms.snapshot``).
    before: Mapped[dict] = mapped_column(sa.JSON)
    #: The new terms, the same keys.
    after: Mapped[dict] = mapped_column(sa.JSON)
    #: The commitment's difference per budget year, as previewed (proposed) or moved
    #: (approved): {"2026": 12345, ...}, negative for a release.
    commitment: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: What the corrections of services already recorded came to (approved): events, the
    #: voucher's and the client's difference, the self-shares refunded to cards.
    corrections: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    proposed_by_user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    decided_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)

    voucher: Mapped[Voucher] = relationship()

    def __repr__(self) -> str:
        return f"<VoucherChange {self.id} {self.status}>"
