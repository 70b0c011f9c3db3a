"""Figures per municipality × service × month (or quarter) of a year.

- vouchers issued and units granted: by the month of the issuing decision;
- clients, units used, average price and self-share per unit: service events (not voided) by
  service date; corrections count with their negative units and amounts;
- committed: commitments minus releases written in the month;
- spent: voucher shares of settled service events, by service date.

Case managers see only their municipalities (``Scope``); administrators see everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.catalogue.models import ServiceType
from voucher.municipalities.models import Municipality
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.settlement.queries import signed_commitment
from voucher.vouchers.models import Voucher, VoucherStatus

NOT_ISSUED = (VoucherStatus.DRAFT, VoucherStatus.PENDING_APPROVAL)


@dataclass(frozen=True)
class Scope:
    """The municipalities a person's reports cover; None means all of them."""

    municipality_ids: frozenset[int] | None = None

    def covers(self, municipality_id: int) -> bool:
        return self.municipality_ids is None or municipality_id in self.municipality_ids

    def condition(self, column, municipality_id: int | None = None):
        """Rows of the scope, narrowed to one municipality when given."""
        conditions = [sa.true()]
        if self.municipality_ids is not None:
            conditions.append(column.in_(sorted(self.municipality_ids)))
        if municipality_id is not None:
            conditions.append(column == municipality_id)
        return sa.and_(*conditions)


def per_unit(cents: int, hundredths: int) -> int | None:
    """Cents per whole unit, rounded half up; None without units."""
    if hundredths <= 0:
        return None
    return (2 * cents * 100 + hundredths) // (2 * hundredths)


@dataclass
class ServiceFigures:
    municipality: Municipality
    service: ServiceType
    #: Month 1–12, or quarter 1–4.
    period: int
    vouchers_issued: int = 0
    units_granted: int = 0
    clients: int = 0
    units_used: int = 0
    price_total_cents: int = 0
    self_share_cents: int = 0
    committed_cents: int = 0
    spent_cents: int = 0

    @property
    def average_price_cents(self) -> int | None:
        return per_unit(self.price_total_cents, self.units_used)

    @property
    def average_self_share_cents(self) -> int | None:
        return per_unit(self.self_share_cents, self.units_used)


def _bucket_of_date(column, quarterly: bool):
    month = sa.cast(sa.extract("month", column), sa.Integer)
    return (month + 2) // 3 if quarterly else month


def _bucket_of_moment(column, year: int, quarterly: bool):
    """Month or quarter of a UTC timestamp, in Finnish time (portable: compared with the
    buckets' UTC boundaries)."""
    step = 3 if quarterly else 1
    ends = [(n, clock.start_of_day(dt.date(year + (m > 12), (m - 1) % 12 + 1, 1)))
            for n, m in enumerate(range(1 + step, 14 + step - 1, step), start=1)]
    return sa.case(*[(column < end, n) for n, end in ends])


def _in_year(column, year: int):
    return sa.and_(column >= clock.start_of_day(dt.date(year, 1, 1)),
                   column < clock.start_of_day(dt.date(year + 1, 1, 1)))


def service_figures(session: Session, *, year: int, scope: Scope, quarterly: bool = False,
                    municipality_id: int | None = None,
                    service_type_id: int | None = None) -> list[ServiceFigures]:
    """The year's figures, one row per municipality × service × month (or quarter) that has
    anything to show, ordered by municipality, service and period."""
    municipalities = {m.id: m for m in session.execute(sa.select(Municipality)).scalars()}
    services = {s.id: s for s in session.execute(sa.select(ServiceType)).scalars()}
    rows: dict[tuple, ServiceFigures] = {}

    def row(municipality, service, period) -> ServiceFigures:
        key = (municipality, service, int(period))
        if key not in rows:
            rows[key] = ServiceFigures(municipalities[municipality], services[service], key[2])
        return rows[key]

    def narrowed(query, municipality_column, service_column):
        query = query.where(scope.condition(municipality_column, municipality_id))
        if service_type_id is not None:
            query = query.where(service_column == service_type_id)
        return query

    issued = _bucket_of_moment(Voucher.issued_at, year, quarterly)
    for municipality, service, period, count, units in session.execute(narrowed(
            sa.select(Voucher.municipality_id, Voucher.service_type_id, issued, sa.func.count(),
                      sa.func.sum(Voucher.units_granted))
            .where(_in_year(Voucher.issued_at, year), Voucher.status.not_in(NOT_ISSUED)),
            Voucher.municipality_id, Voucher.service_type_id)
            .group_by(Voucher.municipality_id, Voucher.service_type_id, issued)):
        figures = row(municipality, service, period)
        figures.vouchers_issued, figures.units_granted = int(count), int(units)

    served = _bucket_of_date(Redemption.service_date, quarterly)
    settled_share = sa.case((Redemption.status == RedemptionStatus.SETTLED,
                             Redemption.voucher_pays_cents), else_=0)
    for municipality, service, period, clients, units, price, self_share, spent in (
            session.execute(narrowed(
                sa.select(Voucher.municipality_id, Voucher.service_type_id, served,
                          sa.func.count(sa.distinct(Voucher.client_id)),
                          sa.func.sum(Redemption.units),
                          sa.func.sum(Redemption.voucher_pays_cents
                                      + Redemption.client_pays_cents),
                          sa.func.sum(Redemption.client_pays_cents), sa.func.sum(settled_share))
                .join(Voucher, Voucher.id == Redemption.voucher_id)
                .where(Redemption.status != RedemptionStatus.VOID,
                       Redemption.service_date >= dt.date(year, 1, 1),
                       Redemption.service_date <= dt.date(year, 12, 31)),
                Voucher.municipality_id, Voucher.service_type_id)
                .group_by(Voucher.municipality_id, Voucher.service_type_id, served))):
        figures = row(municipality, service, period)
        figures.clients, figures.units_used = int(clients), int(units)
        figures.price_total_cents, figures.self_share_cents = int(price), int(self_share)
        figures.spent_cents = int(spent)

    written = _bucket_of_moment(BudgetEntry.created_at, year, quarterly)
    for municipality, service, period, committed in session.execute(narrowed(
            sa.select(Budget.municipality_id, Budget.service_type_id, written,
                      sa.func.sum(signed_commitment()))
            .join(Budget, Budget.id == BudgetEntry.budget_id)
            .where(BudgetEntry.kind.in_([EntryKind.COMMIT, EntryKind.RELEASE]),
                   _in_year(BudgetEntry.created_at, year)),
            Budget.municipality_id, Budget.service_type_id)
            .group_by(Budget.municipality_id, Budget.service_type_id, written)):
        row(municipality, service, period).committed_cents = int(committed)

    return sorted(rows.values(), key=lambda f: (f.municipality.code, f.service.code, f.period))
