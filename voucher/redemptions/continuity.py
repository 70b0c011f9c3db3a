"""Continuity of care: how many different caregivers come to a client in a month.

Clients choosing home care ask how many different carers will visit them. Providers may give
each service event a pseudonymous caregiver reference (their own staff number, never a name);
from those we compute, per provider and service, the average number of different caregivers
per client per calendar month over the last twelve months.

The figure is published only once enough data exists: at least ``MIN_CLIENTS`` different
clients and ``MIN_CLIENT_MONTHS`` client-months with caregiver references. Below that a
single client's month would swing the average, and a small count could point to a person.
Void events and corrections do not count; events without a reference are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.vouchers.models import Voucher

MIN_CLIENTS = 5
MIN_CLIENT_MONTHS = 10
WINDOW_DAYS = 365


@dataclass(frozen=True)
class Continuity:
    #: Average different caregivers per client per month, rounded to one decimal.
    caregivers_per_client_month: float
    clients: int
    client_months: int


def caregiver_continuity(
    session: Session, *, provider_ids: Iterable[int] | None = None,
    today: dt.date | None = None,
) -> dict[tuple[int, int], Continuity]:
    """{(provider_id, service_type_id): Continuity} for the offers with enough data."""
    today = today or clock.today()
    month = (sa.extract("year", Redemption.service_date) * 100
             + sa.extract("month", Redemption.service_date))
    per_client_month = (
        sa.select(Redemption.provider_id, Voucher.service_type_id, Voucher.client_id,
                  month.label("month"),
                  sa.func.count(sa.distinct(Redemption.caregiver_ref)).label("carers"))
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(Redemption.caregiver_ref.is_not(None),
               Redemption.corrects_id.is_(None),
               Redemption.status != RedemptionStatus.VOID,
               Redemption.service_date > today - dt.timedelta(days=WINDOW_DAYS),
               Redemption.service_date <= today)
        .group_by(Redemption.provider_id, Voucher.service_type_id, Voucher.client_id, month)
    )
    if provider_ids is not None:
        per_client_month = per_client_month.where(Redemption.provider_id.in_(list(provider_ids)))
    rows = per_client_month.subquery()
    clients = sa.func.count(sa.distinct(rows.c.client_id))
    client_months = sa.func.count()
    result = session.execute(
        sa.select(rows.c.provider_id, rows.c.service_type_id, sa.func.avg(rows.c.carers),
                  clients, client_months)
        .group_by(rows.c.provider_id, rows.c.service_type_id)
        .having(clients >= MIN_CLIENTS, client_months >= MIN_CLIENT_MONTHS)
    )
    return {
        (provider_id, service_type_id): Continuity(round(float(average), 1), n_clients, n_months)
        for provider_id, service_type_id, average, n_clients, n_months in result
    }
