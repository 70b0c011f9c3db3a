"""Budget use in a year, with a year-end forecast from the spending rate so far.

Spending "so far" is the voucher share of every service event delivered up to today (settled
or still waiting for invoicing and settlement), so the forecast does not lag a month behind the
invoices: ``forecast = so far ÷ days passed × days in the year``. A past year's forecast is
what it used; a future year has none yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from voucher.budgets.models import Budget
from voucher.catalogue.models import ServiceType
from voucher.municipalities.models import Municipality
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.reports.figures import Scope
from voucher.settlement.queries import join_paying_budget


@dataclass(frozen=True)
class BudgetUse:
    budget: Budget
    #: Voucher shares of the service events delivered so far this year.
    used_cents: int
    forecast_cents: int | None

    @property
    def waiting_cents(self) -> int:
        """Delivered but not yet settled."""
        return max(0, self.used_cents - self.budget.spent_cents)

    @property
    def over_budget(self) -> bool:
        return self.forecast_cents is not None and self.forecast_cents > self.budget.amount_cents

    def share_of_budget(self, cents: int | None) -> int | None:
        """Per cent of the budget, rounded half up."""
        if cents is None or self.budget.amount_cents <= 0:
            return None
        return (200 * cents + self.budget.amount_cents) // (2 * self.budget.amount_cents)


def forecast(used_cents: int, year: int, today: dt.date) -> int | None:
    """The year's spending at the rate so far."""
    if today.year > year:
        return used_cents
    if today.year < year:
        return None
    first = dt.date(year, 1, 1)
    passed = (today - first).days + 1
    days = (dt.date(year + 1, 1, 1) - first).days
    return (2 * used_cents * days + passed) // (2 * passed)


def budget_use(session: Session, *, year: int, scope: Scope, today: dt.date,
               municipality_id: int | None = None) -> list[BudgetUse]:
    """Every budget of the year in the scope, ordered by municipality and service."""
    budgets = session.execute(
        sa.select(Budget).join(Municipality).join(ServiceType)
        .where(Budget.year == year, scope.condition(Budget.municipality_id, municipality_id))
        .order_by(Municipality.code, ServiceType.code)
        .options(contains_eager(Budget.municipality), contains_eager(Budget.service_type))
    ).scalars().all()
    used = dict(session.execute(join_paying_budget(
        sa.select(Budget.id, sa.func.sum(Redemption.voucher_pays_cents))
        .select_from(Redemption), Redemption.service_date)
        .where(Budget.year == year, Redemption.status != RedemptionStatus.VOID,
               Redemption.service_date <= today,
               scope.condition(Budget.municipality_id, municipality_id))
        .group_by(Budget.id)).all())
    return [BudgetUse(b, int(used.get(b.id) or 0), forecast(int(used.get(b.id) or 0), year, today))
            for b in budgets]
