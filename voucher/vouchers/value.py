"""The voucher's value per unit, and the calculation the decision shows.

- Fixed: the service type's unit value in force on the decision date.
- Income-related: computed from household size and gross monthly income by the income table in
  force (see ``voucher.catalogue.income``); the service type's unit value is the maximum.
- Free for the client: the voucher pays the provider's approved price up to the price cap, so
  the value is the cap (what is committed), and there is no self-share.

The case manager may raise the value for one client (the law requires it when the self-share
would endanger the client's livelihood), with a written reason, up to the price cap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher.catalogue.income import calculate_income_value
from voucher.catalogue.models import ServiceType
from voucher.catalogue.rates import full_value_cents, rate_on
from voucher.errors import ValidationFailed
from voucher.i18n import format_date
from voucher.money import format_cents
from voucher.vouchers.models import ValueBasis, VoucherValue

MIN_REASON_LENGTH = 10


def unit_value_on(session: Session, voucher, day: dt.date) -> int:
    """The unit value a service dated ``day`` is paid at: the voucher's own from
    ``value_from`` on (always, when no change of decision ever set a value), otherwise the
    newest value a change set from that day or earlier (``VoucherValue``)."""
    if voucher.value_from is None or day >= voucher.value_from:
        return voucher.unit_value_cents
    found = session.execute(
        sa.select(VoucherValue.unit_value_cents)
        .where(VoucherValue.voucher_id == voucher.id, VoucherValue.starts_on <= day)
        .order_by(VoucherValue.id.desc()).limit(1)).scalar()
    return voucher.unit_value_cents if found is None else int(found)


@dataclass(frozen=True)
class ValueDecision:
    basis: ValueBasis
    unit_value_cents: int
    #: Inputs and steps, stored on the voucher (``Voucher.calculation``).
    calculation: dict
    raise_reason: str | None


def decide_unit_value(
    session: Session, *, service_type: ServiceType, day: dt.date, household_size: int | None,
    income_cents: int | None, raised_value_cents: int | None = None,
    raise_reason: str | None = None, language: str = "fi",
) -> ValueDecision:
    """The unit value of a decision made on ``day``; ValidationFailed names the fields."""
    rate = rate_on(session, service_type.id, day)
    calculation: dict = {"decided_on": day.isoformat(), "rate_valid_from":
                         rate.valid_from.isoformat(), "maximum_value_cents": rate.unit_value_cents,
                         "price_cap_cents": rate.price_cap_cents}
    raise_reason = (raise_reason or "").strip() or None
    if service_type.free_for_client:
        basis, value = ValueBasis.FREE_FOR_CLIENT, full_value_cents(service_type, rate)
        if raised_value_cents is not None:
            raise ValidationFailed({"raised_value": str(_l(
                "A service free for the client is already covered in full up to the price "
                "cap; its value cannot be raised."))})
    elif service_type.income_related:
        basis = ValueBasis.INCOME_RELATED
        value = _income_value(session, service_type, day, household_size, income_cents,
                              rate.unit_value_cents, calculation,
                              can_raise=raised_value_cents is not None, language=language)
    else:
        basis, value = ValueBasis.FIXED, rate.unit_value_cents
    calculation.update(basis=str(basis), computed_value_cents=value)
    if raised_value_cents is not None:
        _check_raise(raised_value_cents, raise_reason, value,
                     rate.price_cap_cents or rate.unit_value_cents, language)
        value = raised_value_cents
        calculation["raised_value_cents"] = value
    elif raise_reason:
        raise ValidationFailed({"raised_value": str(_l(
            "Enter the raised value per unit, or leave the reason empty."))})
    if value <= 0:
        raise ValidationFailed({"service_type": str(_l(
            "The service has no voucher value: ask the administrator to check its values."))})
    calculation["unit_value_cents"] = value
    return ValueDecision(basis, value, calculation, raise_reason if raised_value_cents else None)


def _income_value(session, service_type, day, household_size, income_cents, maximum,
                  calculation, *, can_raise: bool, language: str) -> int:
    errors = {}
    if not household_size or household_size < 1:
        errors["household_size"] = str(_l("Enter the household size: the value of this "
                                           "service depends on the household's income."))
    if income_cents is None:
        errors["income"] = str(_l("Enter the household's gross monthly income: the value of "
                                  "this service depends on it."))
    if errors:
        raise ValidationFailed(errors)
    result = calculate_income_value(
        session, service_type_id=service_type.id, day=day, household_size=household_size,
        income_cents=income_cents, maximum_value_cents=maximum)
    step = result.value
    calculation.update(
        income_table_id=result.table.id, table_valid_from=result.table.valid_from.isoformat(),
        household_size=household_size, row_household_size=result.row.household_size,
        income_cents=income_cents, income_limit_cents=step.income_limit_cents,
        excess_cents=step.excess_cents, reduction_basis_points=step.reduction_basis_points,
        reduction_cents=step.reduction_cents, income_value_cents=step.computed_value_cents,
        minimum_value_cents=step.minimum_value_cents, below_minimum=not step.granted)
    if not step.granted and not can_raise:
        raise ValidationFailed({"income": str(_l(
            "With this income the value per unit would be %(value)s, below the minimum value "
            "%(minimum)s, so no voucher can be granted. If the client's livelihood requires "
            "it, raise the value and write the reason.",
            value=format_cents(step.computed_value_cents, language),
            minimum=format_cents(step.minimum_value_cents, language)))})
    return step.value_cents


def _check_raise(raised: int, reason: str | None, value: int, ceiling: int,
                 language: str) -> None:
    errors = {}
    if raised <= value:
        errors["raised_value"] = str(_l(
            "A raised value must be more than the value otherwise granted, %(value)s.",
            value=format_cents(value, language)))
    elif raised > ceiling:
        errors["raised_value"] = str(_l(
            "The value can be raised at most to the service's price cap, %(cap)s.",
            cap=format_cents(ceiling, language)))
    if not reason or len(reason) < MIN_REASON_LENGTH:
        errors["raise_reason"] = str(_l(
            "Write the reason for raising the value (for example, how the self-share would "
            "endanger the client's livelihood)."))
    if errors:
        raise ValidationFailed(errors)


def format_percent(basis_points: int, language: str) -> str:
    """150 -> '1,5 %' (fi, sv) or '1.5 %' (en)."""
    return format_decimal(Decimal(basis_points) / 100, format="#,##0.##", locale=language) + " %"


def calculation_steps(calculation: dict, language: str) -> list[tuple[str, str]]:
    """The computation as (explanation, amount) lines, in the current locale."""

    def money(key: str) -> str:
        return format_cents(calculation.get(key), language)

    if calculation.get("pseudonymised"):
        return [(_("The personal inputs of the calculation were removed when the client's data "
                   "was pseudonymised."), ""),
                (_("Voucher value per unit"), money("unit_value_cents"))]
    basis = calculation.get("basis")
    rate_from = format_date(dt.date.fromisoformat(calculation["rate_valid_from"]), language) \
        if calculation.get("rate_valid_from") else ""
    steps: list[tuple[str, str]] = []
    if basis == ValueBasis.FREE_FOR_CLIENT:
        steps.append((_("The service is free for the client: the voucher pays the provider's "
                        "approved price up to the price cap in force from %(day)s",
                        day=rate_from), money("computed_value_cents")))
    elif basis == ValueBasis.INCOME_RELATED:
        table_from = format_date(dt.date.fromisoformat(calculation["table_valid_from"]),
                                 language)
        steps += [
            (_("Maximum value per unit (the service's value in force from %(day)s)",
               day=rate_from), money("maximum_value_cents")),
            (_("Household size %(size)d: the income table in force from %(day)s, row for a "
               "household of %(row)d", size=calculation["household_size"], day=table_from,
               row=calculation["row_household_size"]), ""),
            (_("Gross monthly income of the household"), money("income_cents")),
            (_("Income limit"), money("income_limit_cents")),
            (_("Income above the limit"), money("excess_cents")),
            (_("Reduction: %(percent)s of the income above the limit",
               percent=format_percent(calculation["reduction_basis_points"], language)),
             "− " + money("reduction_cents")),
            (_("Value by income (never below zero)"), money("income_value_cents")),
            (_("Minimum value: below it no voucher is granted"), money("minimum_value_cents")),
        ]
    else:
        steps.append((_("The service's voucher value per unit, in force from %(day)s",
                        day=rate_from), money("computed_value_cents")))
    if calculation.get("raised_value_cents") is not None:
        steps.append((_("Value raised for this client (reason on the decision)"),
                      money("raised_value_cents")))
    steps.append((_("Voucher value per unit"), money("unit_value_cents")))
    return steps
