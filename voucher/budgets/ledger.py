"""Moving money in a budget's ledger: commit, release and spend.

Every movement is one ledger entry plus a conditional update of the budget's running totals, in
the caller's transaction. The update's WHERE clause re-checks the invariant against the row as
it is at that moment (PostgreSQL re-reads a row that another transaction changed before
applying an UPDATE), so concurrent movements can never overdraw a budget; the table's check
constraints stand behind it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.errors import DomainError
from voucher.money import format_cents


class NoBudget(DomainError):
    code = "no_budget"
    status = 409
    message = _l("%(municipality)s has no budget for %(service)s in %(year)d. Ask the "
                 "administrator to enter it.")


class BudgetExceeded(DomainError):
    code = "budget_exceeded"
    status = 409
    message = _l("The budget of %(municipality)s for %(service)s in %(year)d cannot cover this: "
                 "%(needed)s is needed but only %(free)s is free (budget %(amount)s, committed "
                 "%(committed)s).")


class ReleaseExceedsCommitment(DomainError):
    code = "release_exceeds_commitment"
    status = 409
    message = _l("Cannot release more than is committed and unspent.")


def find_budget(
    session: Session, municipality_id: int, service_type_id: int, year: int
) -> Budget | None:
    return session.execute(
        sa.select(Budget).where(Budget.municipality_id == municipality_id,
                                Budget.service_type_id == service_type_id, Budget.year == year)
    ).scalar_one_or_none()


def _refresh(session: Session, budget: Budget) -> Budget:
    session.refresh(budget, attribute_names=["amount_cents", "committed_cents",
                                             "released_cents", "spent_cents"])
    return budget


def commit(
    session: Session, budget: Budget, amount_cents: int, *, voucher_id: int,
    reason: str = "issued", user_id: int | None = None, language: str = "fi",
) -> BudgetEntry:
    """Commit money for a voucher; BudgetExceeded (with the figures) when it does not fit."""
    if amount_cents <= 0:
        raise ValueError("a commitment must be positive")
    result = session.execute(
        sa.update(Budget)
        .where(Budget.id == budget.id,
               Budget.committed_cents - Budget.released_cents + amount_cents
               <= Budget.amount_cents)
        .values(committed_cents=Budget.committed_cents + amount_cents)
        .execution_options(synchronize_session=False)
    )
    _refresh(session, budget)
    if result.rowcount != 1:
        raise BudgetExceeded(
            municipality=budget.municipality.name(language),
            service=getattr(budget.service_type, f"name_{language}", budget.service_type.name_fi),
            year=budget.year, needed=format_cents(amount_cents, language),
            free=format_cents(budget.free_cents, language),
            amount=format_cents(budget.amount_cents, language),
            committed=format_cents(budget.open_commitment_cents, language),
        )
    return _entry(session, budget, EntryKind.COMMIT, amount_cents, voucher_id=voucher_id,
                  reason=reason, user_id=user_id)


def release(
    session: Session, budget: Budget, amount_cents: int, *, voucher_id: int, reason: str,
    user_id: int | None = None,
) -> BudgetEntry:
    """Release committed money that will not be used (never below what is already spent)."""
    if amount_cents <= 0:
        raise ValueError("a release must be positive")
    result = session.execute(
        sa.update(Budget)
        .where(Budget.id == budget.id,
               Budget.committed_cents - Budget.released_cents - amount_cents
               >= Budget.spent_cents)
        .values(released_cents=Budget.released_cents + amount_cents)
        .execution_options(synchronize_session=False)
    )
    _refresh(session, budget)
    if result.rowcount != 1:
        raise ReleaseExceedsCommitment()
    return _entry(session, budget, EntryKind.RELEASE, amount_cents, voucher_id=voucher_id,
                  reason=reason, user_id=user_id)


def _entry(session: Session, budget: Budget, kind: EntryKind, amount_cents: int, **fields
           ) -> BudgetEntry:
    entry = BudgetEntry(budget_id=budget.id, kind=kind, amount_cents=amount_cents,
                        voucher_id=fields.get("voucher_id"),
                        payment_batch_id=fields.get("payment_batch_id"),
                        reason=fields["reason"], created_by_user_id=fields.get("user_id"))
    session.add(entry)
    session.flush()
    return entry


def open_commitment_by_budget(session: Session, voucher_id: int) -> dict[int, int]:
    """A voucher's commitment not yet released, per budget id (spending not deducted)."""
    signed = sa.case((BudgetEntry.kind == EntryKind.COMMIT, BudgetEntry.amount_cents),
                     else_=-BudgetEntry.amount_cents)
    rows = session.execute(
        sa.select(BudgetEntry.budget_id, sa.func.sum(signed))
        .where(BudgetEntry.voucher_id == voucher_id,
               BudgetEntry.kind.in_([EntryKind.COMMIT, EntryKind.RELEASE]))
        .group_by(BudgetEntry.budget_id)
    ).all()
    return {budget_id: int(total) for budget_id, total in rows}
