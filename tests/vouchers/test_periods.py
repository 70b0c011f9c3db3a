"""Periods and the split of a commitment between budget years."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from voucher.money import units_times_cents
from voucher.vouchers.models import Recurrence
from voucher.vouchers.periods import commitment_by_year, plan_periods


def test_monthly_voucher_has_a_period_per_calendar_month():
    periods = plan_periods(Recurrence.MONTHLY, 800, dt.date(2026, 11, 15), dt.date(2027, 2, 10))
    assert [(p.starts_on, p.ends_on) for p in periods] == [
        (dt.date(2026, 11, 15), dt.date(2026, 11, 30)),
        (dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        (dt.date(2027, 1, 1), dt.date(2027, 1, 31)),
        (dt.date(2027, 2, 1), dt.date(2027, 2, 10)),
    ]
    assert commitment_by_year(periods, 3000) == {2026: 2 * 8 * 3000, 2027: 2 * 8 * 3000}


def test_total_voucher_across_new_year_splits_by_days():
    periods = plan_periods(Recurrence.TOTAL, 3100, dt.date(2026, 12, 1), dt.date(2027, 1, 31))
    assert commitment_by_year(periods, 1000) == {2026: 15500, 2027: 15500}


@given(
    recurrence=st.sampled_from(list(Recurrence)),
    units=st.integers(min_value=1, max_value=100_000),
    value=st.integers(min_value=0, max_value=50_000),
    start=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2028, 12, 31)),
    days=st.integers(min_value=0, max_value=800),
)
def test_year_parts_always_add_up_to_units_times_value(recurrence, units, value, start, days):
    periods = plan_periods(recurrence, units, start, start + dt.timedelta(days=days))
    parts = commitment_by_year(periods, value)
    assert sum(parts.values()) == units_times_cents(sum(p.units for p in periods), value)
    assert all(amount > 0 for amount in parts.values())
    assert set(parts) <= set(range(start.year, (start + dt.timedelta(days=days)).year + 1))
