"""Budget and its ledger. The running totals on Budget are guarded by check constraints; the
ledger entries add up to them (the reconciliation check proves it)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher import clock
from voucher.catalogue.models import ServiceType
from voucher.db import Base, enum_type
from voucher.municipalities.models import Municipality


class Budget(Base):
    """Money of one municipality for one service type and year."""

    __tablename__ = "budgets"
    __table_args__ = (
        sa.UniqueConstraint("municipality_id", "service_type_id", "year"),
        sa.CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        sa.CheckConstraint("committed_cents >= 0 AND released_cents >= 0 AND spent_cents >= 0",
                           name="totals_not_negative"),
        # Issuing can never overdraw: what is still committed fits in the budget …
        sa.CheckConstraint("committed_cents - released_cents <= amount_cents",
                           name="commitment_within_budget"),
        # … and nothing is spent that was not committed.
        sa.CheckConstraint("spent_cents <= committed_cents - released_cents",
                           name="spent_within_commitment"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"))
    service_type_id: Mapped[int] = mapped_column(sa.ForeignKey("service_types.id"))
    year: Mapped[int]
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    #: Sums of the ledger's commit, release and spend entries.
    committed_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    released_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    spent_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    municipality: Mapped[Municipality] = relationship()
    service_type: Mapped[ServiceType] = relationship()

    @property
    def open_commitment_cents(self) -> int:
        """Committed, not released: what issued vouchers may still cost (spent included)."""
        return self.committed_cents - self.released_cents

    @property
    def free_cents(self) -> int:
        """What new vouchers can still commit."""
        return self.amount_cents - self.open_commitment_cents


class EntryKind(enum.StrEnum):
    COMMIT = "commit"
    RELEASE = "release"
    SPEND = "spend"


class BudgetEntry(Base):
    """One ledger line. Commitments and releases name their voucher; spending names the
    payment batch that settled it (one entry per budget per batch). A spend entry is negative
    when the batch's corrections for that budget outweigh its service events."""

    __tablename__ = "budget_entries"
    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0 OR (kind = 'spend' AND amount_cents < 0)",
                           name="amount_sign"),
        sa.CheckConstraint("kind <> 'spend' OR payment_batch_id IS NOT NULL",
                           name="spend_has_batch"),
        sa.CheckConstraint("kind = 'spend' OR voucher_id IS NOT NULL",
                           name="commitment_has_voucher"),
        sa.Index("ix_budget_entries_budget_kind", "budget_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id"))
    kind: Mapped[EntryKind] = mapped_column(enum_type(EntryKind, "kind"))
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id"), index=True)
    payment_batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("payment_batches.id"), index=True)
    #: Why, in a word: "issued", "cancelled", "expired", "settled", "unused", "year_transfer",
    #: "rounding" (settlement covers cents lost to rounding each event separately).
    reason: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    budget: Mapped[Budget] = relationship()
