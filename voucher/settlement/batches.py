"""Payment batches after the run: finding them, what they spent, and their life at the bank
(``created`` → ``sent`` when the file was handed to the bank → ``confirmed`` when the bank's
imported files have given their word on every payment, ``bank_feedback``). Only "sent" is an
administrator's click; "confirmed" is the bank's. Every transition is audited and happens at
most once."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.errors import DomainError, NotFound
from voucher.invoicing.models import Invoice
from voucher.labels import label
from voucher.settlement.models import BatchStatus, Payment, PaymentBankStatus, PaymentBatch


class BatchNotInState(DomainError):
    code = "batch_state"
    status = 409
    message = _l("The payment batch is already %(state)s.")


def find_batch(session: Session, batch_id: int) -> PaymentBatch:
    batch = session.get(PaymentBatch, batch_id)
    if batch is None:
        raise NotFound()
    return batch


def recent_batches(session: Session, limit: int = 50) -> list[PaymentBatch]:
    return list(session.execute(sa.select(PaymentBatch).order_by(PaymentBatch.id.desc())
                                .limit(limit)).scalars())


def invoices_by_payment(session: Session, batch_id: int) -> dict[int, list[Invoice]]:
    """The invoices each payment of the batch pays, by payment id."""
    rows = session.execute(
        sa.select(Invoice).join(Payment, Payment.id == Invoice.payment_id)
        .where(Payment.batch_id == batch_id).order_by(Invoice.number)).scalars()
    paid: dict[int, list[Invoice]] = {}
    for invoice in rows:
        paid.setdefault(invoice.payment_id, []).append(invoice)
    return paid


@dataclass(frozen=True)
class LedgerLine:
    """What a run wrote to one budget's ledger, of one kind and reason, with the budget as it
    stands now."""

    budget: Budget
    kind: EntryKind
    reason: str
    entries: int
    amount_cents: int


def batch_ledger(session: Session, batch_id: int) -> list[LedgerLine]:
    """The ledger entries a run wrote (spending, commitment moves, releases), summed per
    budget, kind and reason, ordered by municipality, service and year."""
    rows = session.execute(
        sa.select(BudgetEntry.budget_id, BudgetEntry.kind, BudgetEntry.reason, sa.func.count(),
                  sa.func.sum(BudgetEntry.amount_cents))
        .where(BudgetEntry.payment_batch_id == batch_id)
        .group_by(BudgetEntry.budget_id, BudgetEntry.kind, BudgetEntry.reason)).all()
    budgets = {b.id: b for b in session.execute(
        sa.select(Budget).where(Budget.id.in_({row[0] for row in rows}))).scalars()}
    lines = [LedgerLine(budgets[budget_id], kind, reason, int(count), int(total))
             for budget_id, kind, reason, count, total in rows]
    return sorted(lines, key=lambda line: (
        line.budget.municipality.code, line.budget.service_type.code, line.budget.year,
        line.kind != EntryKind.SPEND, line.reason))


def spending_lines(lines: list[LedgerLine]) -> list[LedgerLine]:
    return [line for line in lines if line.kind == EntryKind.SPEND]


def mark_batch_sent(session: Session, batch_id: int, *, actor: Actor) -> PaymentBatch:
    """The administrator handed the payment file to the bank."""
    return _move(session, batch_id, BatchStatus.CREATED, BatchStatus.SENT, actor,
                 sent_at=clock.now(), sent_by_user_id=actor.user_id)


@dataclass(frozen=True)
class BankFigures:
    """A batch's payments by the bank's word: sent = confirmed + rejected (or returned) +
    awaiting confirmation, in cents and in payments."""

    cents: dict[PaymentBankStatus, int]
    counts: dict[PaymentBankStatus, int]

    def get(self, status: str) -> tuple[int, int]:
        state = PaymentBankStatus(status)
        return self.counts.get(state, 0), self.cents.get(state, 0)

    @property
    def sent_cents(self) -> int:
        return sum(self.cents.values())

    @property
    def sent_count(self) -> int:
        return sum(self.counts.values())


def bank_figures(session: Session, batch_id: int | None = None) -> BankFigures:
    """Per bank status, the payments' count and amount (of one batch, or of all)."""
    query = (sa.select(Payment.bank_status, sa.func.count(), sa.func.sum(Payment.amount_cents))
             .group_by(Payment.bank_status))
    if batch_id is not None:
        query = query.where(Payment.batch_id == batch_id)
    rows = session.execute(query).all()
    return BankFigures({s: int(c or 0) for s, _n, c in rows}, {s: int(n) for s, n, _c in rows})


def _move(session: Session, batch_id: int, expected: BatchStatus, target: BatchStatus,
          actor: Actor, **values) -> PaymentBatch:
    batch = find_batch(session, batch_id)
    moved = session.execute(
        sa.update(PaymentBatch).where(PaymentBatch.id == batch_id,
                                      PaymentBatch.status == expected)
        .values(status=target, **values).execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(batch)
    if moved != 1:
        raise BatchNotInState(state=label(batch.status))
    record_event(session, actor, f"payment_batch.{target.value}", "payment_batch", batch.id,
                 before=expected.value, after=target.value)
    return batch
