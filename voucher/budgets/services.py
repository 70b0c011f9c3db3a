"""Administering budgets: one amount per municipality, service type and year, and its ledger.

The amount may change during the year, but never below what is already committed and not
released: issued vouchers must stay covered. The check is a conditional UPDATE, so a voucher
issued at the same moment cannot slip past it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher.audit.services import Actor, record_event
from voucher.budgets.models import Budget, BudgetEntry
from voucher.errors import DomainError, ValidationFailed
from voucher.money import format_cents
from voucher.pages import Page, paginate
from voucher.vouchers.models import Voucher


class BudgetExists(DomainError):
    code = "budget_exists"
    status = 409
    message = _l("The municipality already has a budget for this service and year. Change "
                 "its amount on the budget's page.")


class AmountBelowCommitment(DomainError):
    code = "amount_below_commitment"
    status = 409
    message = _l("The amount cannot be less than what issued vouchers have committed and not "
                 "released: %(committed)s (of which %(spent)s already spent).")


def create_budget(session: Session, *, municipality_id: int, service_type_id: int, year: int,
                  amount_cents: int, actor: Actor) -> Budget:
    """A new budget; one per municipality, service type and year."""
    if amount_cents < 0:
        raise ValidationFailed({"amount": str(_l("The amount cannot be negative."))})
    exists = session.execute(sa.select(Budget.id).where(
        Budget.municipality_id == municipality_id, Budget.service_type_id == service_type_id,
        Budget.year == year)).first()
    if exists:
        raise BudgetExists(field="year")
    budget = Budget(municipality_id=municipality_id, service_type_id=service_type_id, year=year,
                    amount_cents=amount_cents)
    session.add(budget)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError as exc:  # created at the same moment by someone else
        raise BudgetExists(field="year") from exc
    record_event(session, actor, "budget.created", "budget", budget.id,
                 municipality_id=municipality_id, service_type_id=service_type_id, year=year,
                 amount_cents=amount_cents)
    return budget


def change_budget_amount(session: Session, budget: Budget, *, amount_cents: int, actor: Actor,
                         language: str = "fi") -> None:
    """Set a new amount, refused (with the figures) below the open commitment."""
    if amount_cents < 0:
        raise ValidationFailed({"amount": str(_l("The amount cannot be negative."))})
    before = budget.amount_cents
    changed = session.execute(
        sa.update(Budget)
        .where(Budget.id == budget.id,
               Budget.committed_cents - Budget.released_cents <= amount_cents)
        .values(amount_cents=amount_cents)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(budget)
    if changed != 1:
        raise AmountBelowCommitment(
            field="amount", committed=format_cents(budget.open_commitment_cents, language),
            spent=format_cents(budget.spent_cents, language))
    record_event(session, actor, "budget.amount_changed", "budget", budget.id,
                 before=before, after=amount_cents)


def find_budgets(session: Session, *, year: int, municipality_id: int | None = None
                 ) -> list[Budget]:
    """The budgets of a year, by municipality and service."""
    query = sa.select(Budget).where(Budget.year == year)
    if municipality_id is not None:
        query = query.where(Budget.municipality_id == municipality_id)
    return list(session.execute(
        query.order_by(Budget.municipality_id, Budget.service_type_id)).scalars())


def budget_years(session: Session) -> list[int]:
    return list(session.execute(sa.select(Budget.year).distinct().order_by(Budget.year))
                .scalars())


@dataclass
class Totals:
    amount_cents: int = 0
    committed_cents: int = 0
    released_cents: int = 0
    spent_cents: int = 0

    @property
    def free_cents(self) -> int:
        return self.amount_cents - self.committed_cents + self.released_cents

    @classmethod
    def of(cls, budgets: list[Budget]) -> Totals:
        return cls(*(sum(getattr(b, name) for b in budgets) for name in (
            "amount_cents", "committed_cents", "released_cents", "spent_cents")))


def ledger_page(session: Session, budget: Budget, page: int) -> Page:
    """The budget's ledger entries, newest first, with their vouchers."""
    return paginate(session, sa.select(BudgetEntry).where(BudgetEntry.budget_id == budget.id)
                    .order_by(BudgetEntry.id.desc()), page)


def vouchers_by_id(session: Session, ids: set[int]) -> dict[int, Voucher]:
    if not ids:
        return {}
    return {v.id: v for v in session.execute(sa.select(Voucher).where(Voucher.id.in_(ids)))
            .scalars()}
