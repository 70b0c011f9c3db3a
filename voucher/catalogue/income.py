"""The value of an income-related voucher, and the income tables it is computed from.

The rule (the administrator keeps one table per service type, dated, never rewritten):

    value = maximum value − (gross monthly income − income limit) × reduction percentage

where the income limit and the percentage are those of the household's size (the largest size
in the table also applies to larger households), the income above the limit is never negative,
and the value never goes below zero. Below the table's minimum value no voucher is granted.
The maximum value is the service type's unit value in force on the decision date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.catalogue.models import IncomeTable, IncomeTableRow, ServiceType
from voucher.catalogue.rates import income_table_on
from voucher.errors import DomainError, ValidationFailed

BASIS_POINTS = 10_000  # 100 % in hundredths of a percent


class NoIncomeTable(DomainError):
    code = "no_income_table"
    status = 409
    message = _l("The income-related service has no income table in force on %(day)s. Ask the "
                 "administrator to enter one.")


class HouseholdNotInTable(DomainError):
    code = "household_not_in_table"
    status = 409
    message = _l("The income table has no row for a household of %(size)d.")


@dataclass(frozen=True)
class IncomeValue:
    """Each step of the computation, as shown on the decision."""

    maximum_value_cents: int
    income_cents: int
    income_limit_cents: int
    excess_cents: int  #: income above the limit, never negative
    reduction_basis_points: int
    reduction_cents: int  #: excess × percentage, rounded half up to the cent
    computed_value_cents: int  #: maximum − reduction, never negative
    minimum_value_cents: int

    @property
    def granted(self) -> bool:
        """A voucher is granted only when the value reaches the minimum (and is not zero)."""
        return self.computed_value_cents > 0 and \
            self.computed_value_cents >= self.minimum_value_cents

    @property
    def value_cents(self) -> int:
        """The voucher's unit value: the computed value, or 0 when no voucher is granted."""
        return self.computed_value_cents if self.granted else 0


def income_related_value(
    *, maximum_value_cents: int, minimum_value_cents: int, income_limit_cents: int,
    reduction_basis_points: int, income_cents: int,
) -> IncomeValue:
    """Compute the unit value from the household's monthly income (integer cents throughout)."""
    if min(maximum_value_cents, minimum_value_cents, income_limit_cents, income_cents) < 0:
        raise ValueError("amounts must not be negative")
    if not 0 <= reduction_basis_points <= BASIS_POINTS:
        raise ValueError("the reduction is a percentage from 0 to 100")
    excess = max(0, income_cents - income_limit_cents)
    reduction = int((Decimal(excess) * reduction_basis_points / BASIS_POINTS)
                    .quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return IncomeValue(
        maximum_value_cents=maximum_value_cents, income_cents=income_cents,
        income_limit_cents=income_limit_cents, excess_cents=excess,
        reduction_basis_points=reduction_basis_points, reduction_cents=reduction,
        computed_value_cents=max(0, maximum_value_cents - reduction),
        minimum_value_cents=minimum_value_cents,
    )


def row_for_household(table: IncomeTable, household_size: int) -> IncomeTableRow:
    """The row of the household's size; a larger household than any row uses the largest row
    at or below its size."""
    fitting = [row for row in table.rows if row.household_size <= household_size]
    if not fitting:
        raise HouseholdNotInTable(size=household_size)
    return max(fitting, key=lambda row: row.household_size)


@dataclass(frozen=True)
class IncomeCalculation:
    table: IncomeTable
    row: IncomeTableRow
    household_size: int
    value: IncomeValue


def calculate_income_value(
    session: Session, *, service_type_id: int, day: dt.date, household_size: int,
    income_cents: int, maximum_value_cents: int,
) -> IncomeCalculation:
    """The value by the table in force on the decision date ``day``."""
    table = income_table_on(session, service_type_id, day)
    if table is None:
        raise NoIncomeTable(day=day.isoformat())
    row = row_for_household(table, household_size)
    value = income_related_value(
        maximum_value_cents=maximum_value_cents, minimum_value_cents=table.minimum_value_cents,
        income_limit_cents=row.income_limit_cents,
        reduction_basis_points=row.reduction_basis_points, income_cents=income_cents)
    return IncomeCalculation(table, row, household_size, value)


@dataclass(frozen=True)
class RowInput:
    household_size: int
    income_limit_cents: int
    reduction_basis_points: int


def create_income_table(
    session: Session, *, service_type: ServiceType, valid_from: dt.date,
    minimum_value_cents: int, rows: list[RowInput], actor: Actor,
) -> IncomeTable:
    """Add a table that takes effect on ``valid_from``. Tables are never rewritten, and a new
    one cannot start in the past: decisions already made keep the table then in force."""
    errors = {}
    if not service_type.income_related:
        errors["service_type"] = str(_l("This service is not income-related."))
    if valid_from < clock.today():
        errors["valid_from"] = str(_l(
            "A table cannot take effect in the past: decisions already made used the table "
            "then in force. Choose today or a later date."))
    elif session.execute(sa.select(IncomeTable.id).where(
            IncomeTable.service_type_id == service_type.id,
            IncomeTable.valid_from == valid_from)).first():
        errors["valid_from"] = str(_l("The service already has a table from this date."))
    if minimum_value_cents < 0:
        errors["minimum_value"] = str(_l("The minimum value cannot be negative."))
    sizes = [row.household_size for row in rows]
    if not rows:
        errors["rows"] = str(_l("Enter the income limit and percentage for at least one "
                                "household size."))
    elif len(set(sizes)) != len(sizes) or min(sizes) != 1:
        errors["rows"] = str(_l("Each household size once, starting from a household of one."))
    elif any(row.income_limit_cents < 0 or not 0 <= row.reduction_basis_points <= BASIS_POINTS
             for row in rows):
        errors["rows"] = str(_l("Income limits cannot be negative and percentages are from 0 "
                                "to 100."))
    if errors:
        raise ValidationFailed(errors)
    table = IncomeTable(service_type_id=service_type.id, valid_from=valid_from,
                        minimum_value_cents=minimum_value_cents, created_by_user_id=actor.user_id)
    table.rows = [IncomeTableRow(household_size=row.household_size,
                                 income_limit_cents=row.income_limit_cents,
                                 reduction_basis_points=row.reduction_basis_points)
                  for row in sorted(rows, key=lambda r: r.household_size)]
    session.add(table)
    session.flush()
    record_event(session, actor, "income_table.created", "income_table", table.id,
                 service_type_id=service_type.id, valid_from=valid_from.isoformat(),
                 minimum_value_cents=minimum_value_cents, rows=[
                     [r.household_size, r.income_limit_cents, r.reduction_basis_points]
                     for r in table.rows])
    return table


def income_tables_of(session: Session, service_type_id: int) -> list[IncomeTable]:
    """A service type's tables, newest first."""
    return list(session.execute(
        sa.select(IncomeTable).where(IncomeTable.service_type_id == service_type_id)
        .order_by(IncomeTable.valid_from.desc())).scalars())
