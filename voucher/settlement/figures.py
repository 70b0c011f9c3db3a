"""The headline figures behind the reconciliation: what the budgets, the ledger, the service
events, the invoices and the payments add up to, all time.

``reconcile`` prints them, so two databases (a backup and its restore, before and after a
fault) can be compared by their money, not only by their row counts.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.budgets.models import Budget, BudgetEntry
from voucher.invoicing.models import Invoice
from voucher.redemptions.models import Redemption
from voucher.settlement.models import Payment, PaymentBatch


def _sums(session: Session, *columns) -> tuple[int, ...]:
    row = session.execute(sa.select(*(sa.func.coalesce(sa.func.sum(c), 0) for c in columns))).one()
    return tuple(int(value) for value in row)


def _by(session: Session, key, *columns) -> dict[str, tuple[int, ...]]:
    rows = session.execute(sa.select(key, *(sa.func.coalesce(sa.func.sum(c), 0) for c in columns))
                           .group_by(key).order_by(key))
    return {str(row[0]): tuple(int(value) for value in row[1:]) for row in rows}


def reconciliation_figures(session: Session) -> dict[str, object]:
    """Totals in cents (and counts where the count matters), keyed by a readable name."""
    budget, committed, released, spent = _sums(
        session, Budget.amount_cents, Budget.committed_cents, Budget.released_cents,
        Budget.spent_cents)
    figures: dict[str, object] = {
        "budgets": budget, "committed": committed, "released": released, "spent": spent}
    for kind, (amount,) in _by(session, BudgetEntry.kind, BudgetEntry.amount_cents).items():
        figures[f"ledger {kind}"] = amount
    for status, (voucher, client) in _by(session, Redemption.status, Redemption.voucher_pays_cents,
                                          Redemption.client_pays_cents).items():
        figures[f"service events {status}"] = (voucher, client)
    for status, (voucher, client) in _by(session, Invoice.status, Invoice.voucher_total_cents,
                                          Invoice.client_total_cents).items():
        figures[f"invoices {status}"] = (voucher, client)
    figures["payments"] = _sums(session, Payment.amount_cents, Payment.voucher_share_cents,
                                Payment.self_share_cents)
    figures["payment batches"] = _sums(session, PaymentBatch.total_cents)[0]
    from voucher.payments.models import OnlinePayment, OnlineRefund  # payments use settlement

    for status, (amount,) in _by(session, OnlinePayment.status,
                                 OnlinePayment.amount_cents).items():
        figures[f"online payments {status}"] = amount
    for status, (amount,) in _by(session, OnlineRefund.status, OnlineRefund.amount_cents).items():
        figures[f"online refunds {status}"] = amount
    return figures


def format_figures(figures: dict[str, object]) -> list[str]:
    """One "name: value" line per figure, cents as integers so that output compares exactly."""
    def text(value):
        return " / ".join(map(str, value)) if isinstance(value, tuple) else str(value)
    return [f"{name}: {text(value)}" for name, value in figures.items()]
