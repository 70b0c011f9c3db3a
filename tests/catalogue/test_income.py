"""The income-related value: properties (hypothesis) and hand-computed examples."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import factories
from voucher.catalogue.income import (
    calculate_income_value,
    income_related_value,
    row_for_household,
)

cents = st.integers(min_value=0, max_value=2_000_000)
percent = st.integers(min_value=0, max_value=10_000)


def value(maximum, minimum, limit, points, income):
    return income_related_value(maximum_value_cents=maximum, minimum_value_cents=minimum,
                                income_limit_cents=limit, reduction_basis_points=points,
                                income_cents=income)


@given(maximum=cents, minimum=cents, limit=cents, points=percent, income=cents)
def test_never_negative_and_never_above_the_maximum(maximum, minimum, limit, points, income):
    result = value(maximum, minimum, limit, points, income)
    assert 0 <= result.value_cents <= maximum
    assert 0 <= result.computed_value_cents <= maximum


@given(maximum=cents, minimum=cents, limit=cents, points=percent, income=cents,
       more=st.integers(min_value=0, max_value=1_000_000))
def test_more_income_never_gives_a_larger_value(maximum, minimum, limit, points, income, more):
    lower = value(maximum, minimum, limit, points, income)
    higher = value(maximum, minimum, limit, points, income + more)
    assert higher.value_cents <= lower.value_cents
    assert higher.granted <= lower.granted  # once refused, refused for every higher income


@given(maximum=cents, minimum=cents, limit=cents, points=percent,
       income=st.integers(min_value=0, max_value=2_000_000))
def test_income_at_or_below_the_limit_gets_the_maximum(maximum, minimum, limit, points, income):
    result = value(maximum, minimum, limit, points, min(income, limit))
    assert result.computed_value_cents == maximum
    assert result.reduction_cents == 0


@given(maximum=cents, minimum=cents, limit=cents, points=percent, income=cents)
def test_granted_exactly_when_the_value_reaches_the_minimum(maximum, minimum, limit, points,
                                                            income):
    result = value(maximum, minimum, limit, points, income)
    assert result.granted == (result.computed_value_cents >= max(minimum, 1))
    assert result.value_cents == (result.computed_value_cents if result.granted else 0)


@pytest.mark.parametrize("maximum, minimum, limit, points, income, expected", [
    # 32,00 € max, 1 000 € limit, 1,5 %: 1 650 € → 650 × 1,5 % = 9,75 → 22,25 €
    (3200, 800, 100_000, 150, 165_000, 2225),
    # at the limit: the maximum
    (3200, 800, 100_000, 150, 100_000, 3200),
    # 2 people, 1 500 € limit, 1,2 %: 2 480,40 € → 980,40 × 1,2 % = 11,7648 → 11,76 → 20,24 €
    (3200, 800, 150_000, 120, 248_040, 2024),
    # rounding half up: 100 € × 0,5 % = 0,50 €; 100,99 € × 0,5 % = 0,50495 → 0,50 €
    (3200, 0, 0, 50, 10_000, 3150), (3200, 0, 0, 50, 10_099, 3150),
    # 1,01 € × 50 % = 0,505 → 0,51 €
    (3200, 0, 0, 5000, 101, 3149),
    # 4 000 € over the limit at 1,5 % = 60 € → below zero → 0 → no voucher
    (3200, 800, 100_000, 150, 500_000, 0),
    # 1 614 € over the limit: 32 − 24,21 = 7,79 € < 8,00 € minimum → no voucher
    (3200, 800, 100_000, 150, 261_400, 0),
    # exactly the minimum is granted: 1 000 + (32 − 8) / 1,5 % = 2 600 €
    (3200, 800, 100_000, 150, 260_000, 800),
])
def test_hand_computed_examples(maximum, minimum, limit, points, income, expected):
    assert value(maximum, minimum, limit, points, income).value_cents == expected


def test_the_largest_household_row_applies_to_larger_households(db):
    table = factories.income_table(db, rows=((1, 100_000, 150), (2, 150_000, 120)))
    assert row_for_household(table, 1).household_size == 1
    assert row_for_household(table, 5).household_size == 2


def test_the_table_in_force_on_the_decision_date_is_used(db):
    service = factories.service_type(db, "HOME_CARE", income_related=True)
    factories.income_table(db, service=service, valid_from=dt.date(2026, 1, 1),
                           rows=((1, 100_000, 150),))
    factories.income_table(db, service=service, valid_from=dt.date(2027, 1, 1),
                           rows=((1, 120_000, 150),))
    now = calculate_income_value(db, service_type_id=service.id, day=dt.date(2026, 11, 24),
                                 household_size=1, income_cents=165_000,
                                 maximum_value_cents=3200)
    later = calculate_income_value(db, service_type_id=service.id, day=dt.date(2027, 2, 1),
                                   household_size=1, income_cents=165_000,
                                   maximum_value_cents=3200)
    assert (now.value.value_cents, later.value.value_cents) == (2225, 2525)
