"""The voucher value and price cap in force on a date."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher.catalogue.models import IncomeTable, ServiceTypeRate
from voucher.errors import DomainError


class NoRateInForce(DomainError):
    code = "no_rate_in_force"
    status = 409
    message = _l("The service has no voucher value in force on %(day)s.")


def rate_on(session: Session, service_type_id: int, day: dt.date) -> ServiceTypeRate:
    """The rate (unit value, price cap) whose validity covers ``day``: the newest that started
    on or before it."""
    rate = session.execute(
        sa.select(ServiceTypeRate)
        .where(ServiceTypeRate.service_type_id == service_type_id,
               ServiceTypeRate.valid_from <= day)
        .order_by(ServiceTypeRate.valid_from.desc())
        .limit(1)
    ).scalar_one_or_none()
    if rate is None:
        raise NoRateInForce(day=day.isoformat())
    return rate


def full_value_cents(service_type, rate: ServiceTypeRate) -> int:
    """The most a voucher of the service pays per unit under ``rate``: a service free for the
    client is covered up to the price cap."""
    if service_type.free_for_client:
        return rate.price_cap_cents or rate.unit_value_cents
    return rate.unit_value_cents


def self_share_per_unit(price_cents: int, value_cents: int) -> int:
    """What the client pays per unit: the price less the voucher's value, never below zero."""
    return max(0, price_cents - value_cents)


def income_table_on(session: Session, service_type_id: int, day: dt.date) -> IncomeTable | None:
    """The income table in force on ``day`` for an income-related service, if any."""
    return session.execute(
        sa.select(IncomeTable)
        .where(IncomeTable.service_type_id == service_type_id, IncomeTable.valid_from <= day)
        .order_by(IncomeTable.valid_from.desc())
        .limit(1)
    ).scalar_one_or_none()


def rates_in_force(session: Session, service_type_ids, day: dt.date) -> dict[int, ServiceTypeRate]:
    """The rate in force on ``day`` of each service type that has one (``rate_on`` for each, in
    one statement: the newest start on or before ``day`` per service type, unique per type)."""
    ids = list(service_type_ids)
    if not ids:
        return {}
    newest = (sa.select(ServiceTypeRate.service_type_id,
                        sa.func.max(ServiceTypeRate.valid_from).label("valid_from"))
              .where(ServiceTypeRate.service_type_id.in_(ids), ServiceTypeRate.valid_from <= day)
              .group_by(ServiceTypeRate.service_type_id).subquery())
    return {rate.service_type_id: rate for rate in session.execute(
        sa.select(ServiceTypeRate).join(newest, sa.and_(
            ServiceTypeRate.service_type_id == newest.c.service_type_id,
            ServiceTypeRate.valid_from == newest.c.valid_from))).scalars()}
