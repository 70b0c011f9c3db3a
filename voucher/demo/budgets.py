"""Demo step: budgets for every member municipality and service for this year and the next, and
the income table of home care."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.budgets.models import Budget
from voucher.catalogue.models import IncomeTable, IncomeTableRow, ServiceType
from voucher.municipalities.models import Municipality

#: Euros a year per service, for each municipality (by number); the next year 3 % more.
AMOUNTS_EUR = {
    "HOME_CARE": {"009": 95_000, "535": 320_000, "746": 120_000, "977": 450_000},
    "CLEANING": {"009": 12_000, "535": 45_000, "746": 15_000, "977": 60_000},
    "CAREGIVER_RELIEF": {"009": 25_000, "535": 90_000, "746": 30_000, "977": 120_000},
    "FAMILY_HOME_HELP": {"009": 8_000, "535": 30_000, "746": 10_000, "977": 40_000},
}

INCOME_TABLE_FROM = dt.date(2026, 1, 1)
#: Home care: household size, monthly income limit (€), reduction (hundredths of a percent).
HOME_CARE_INCOME_ROWS = [(1, 1_000, 150), (2, 1_600, 120), (3, 2_100, 100), (4, 2_600, 90),
                         (5, 3_100, 80), (6, 3_600, 70)]


def demo_years() -> tuple[int, int]:
    """This year and the next (2026 and 2027 when the demo was written)."""
    year = clock.today().year
    return year, year + 1


def load_budgets(session: Session, municipalities: dict[str, Municipality],
                 service_types: dict[str, ServiceType]) -> None:
    """A budget per municipality, service and demo year (existing ones are left alone)."""
    existing = set(session.execute(
        sa.select(Budget.municipality_id, Budget.service_type_id, Budget.year)).all())
    first, second = demo_years()
    for code, by_municipality in AMOUNTS_EUR.items():
        service = service_types[code]
        for number, euros in by_municipality.items():
            home = municipalities[number]
            for year, factor in ((first, 100), (second, 103)):
                if (home.id, service.id, year) not in existing:
                    session.add(Budget(municipality_id=home.id, service_type_id=service.id,
                                       year=year, amount_cents=euros * factor))
    session.flush()


def load_income_tables(session: Session, service_types: dict[str, ServiceType]) -> None:
    """The income table of home care, in force from the start of 2026."""
    service = service_types["HOME_CARE"]
    found = session.execute(sa.select(IncomeTable.id).where(
        IncomeTable.service_type_id == service.id,
        IncomeTable.valid_from == INCOME_TABLE_FROM)).first()
    if found:
        return
    table = IncomeTable(service_type_id=service.id, valid_from=INCOME_TABLE_FROM,
                        minimum_value_cents=800)
    table.rows = [IncomeTableRow(household_size=size, income_limit_cents=euros * 100,
                                 reduction_basis_points=points)
                  for size, euros, points in HOME_CARE_INCOME_ROWS]
    session.add(table)
    session.flush()
