"""A voucher's unit periods and how its commitment divides between budget years.

A total voucher has one period over its whole validity. A monthly voucher has one period per
calendar month its validity touches, each with the monthly units (a month that is only partly
inside the validity still grants the monthly units: the case manager chose the dates).

Budgets are yearly, so a voucher whose validity crosses a new year commits to each year's
budget the part that falls in it: a monthly voucher the units of its months in that year, a
total voucher a share of its units in proportion to its days in that year.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from voucher.money import units_times_cents
from voucher.vouchers.models import Recurrence


@dataclass(frozen=True)
class PeriodPlan:
    starts_on: dt.date
    ends_on: dt.date
    units: int  # hundredths


def plan_periods(
    recurrence: Recurrence, units_per_period: int, valid_from: dt.date, valid_until: dt.date
) -> list[PeriodPlan]:
    """The periods of a voucher, in order."""
    if valid_until < valid_from:
        raise ValueError("validity ends before it starts")
    if recurrence == Recurrence.TOTAL:
        return [PeriodPlan(valid_from, valid_until, units_per_period)]
    periods = []
    month_start = valid_from
    while month_start <= valid_until:
        last_day = calendar.monthrange(month_start.year, month_start.month)[1]
        month_end = min(dt.date(month_start.year, month_start.month, last_day), valid_until)
        periods.append(PeriodPlan(month_start, month_end, units_per_period))
        month_start = month_end + dt.timedelta(days=1)
    return periods


def commitment_by_year(periods: list[PeriodPlan], unit_value_cents: int) -> dict[int, int]:
    """Cents to commit to each budget year; the parts always add up to units × value."""
    total_units = sum(p.units for p in periods)
    total_cents = units_times_cents(total_units, unit_value_cents)
    if total_cents == 0:
        return {}
    units_by_year: dict[int, int] = {}
    for period in periods:
        for year, days in _days_by_year(period.starts_on, period.ends_on).items():
            share = period.units * days // ((period.ends_on - period.starts_on).days + 1)
            units_by_year[year] = units_by_year.get(year, 0) + share
    years = sorted(units_by_year)
    cents = {year: units_times_cents(units_by_year[year], unit_value_cents) for year in years}
    # Rounding goes to the last year so that the parts add up exactly.
    cents[years[-1]] += total_cents - sum(cents.values())
    return {year: amount for year, amount in cents.items() if amount > 0}


def _days_by_year(start: dt.date, end: dt.date) -> dict[int, int]:
    days = {}
    for year in range(start.year, end.year + 1):
        first = max(start, dt.date(year, 1, 1))
        last = min(end, dt.date(year, 12, 31))
        days[year] = (last - first).days + 1
    return days
