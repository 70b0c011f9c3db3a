"""Figures of a period per provider, and the cost allocation per member municipality.

The cost allocation is what the authority paid in the period for each municipality's
residents: the voucher shares of the lines of the payment batches created in the period,
per municipality and service. Each euro is allocated once, in the period it was paid, and the
figures equal the budgets' spend entries of those batches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.catalogue.models import ServiceType
from voucher.feedback.services import rating_averages
from voucher.invoicing.models import Invoice, InvoiceLine
from voucher.municipalities.models import Municipality
from voucher.providers.models import Provider
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.reports.figures import Scope
from voucher.settlement.models import Payment, PaymentBatch
from voucher.vouchers.models import Voucher


@dataclass(frozen=True)
class ProviderFigures:
    provider: Provider
    clients: int
    events: int
    units: int
    voucher_cents: int
    self_share_cents: int
    #: Average client rating 0–10, None until enough ratings exist.
    rating: Decimal | None


def provider_figures(session: Session, *, starts_on: dt.date, ends_on: dt.date,
                     scope: Scope) -> list[ProviderFigures]:
    """Service events (not voided) delivered in the period, per provider, for the clients of
    the scope's municipalities."""
    rows = session.execute(
        sa.select(Redemption.provider_id, sa.func.count(sa.distinct(Voucher.client_id)),
                  sa.func.count(), sa.func.sum(Redemption.units),
                  sa.func.sum(Redemption.voucher_pays_cents),
                  sa.func.sum(Redemption.client_pays_cents))
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(Redemption.status != RedemptionStatus.VOID,
               Redemption.service_date >= starts_on, Redemption.service_date <= ends_on,
               scope.condition(Voucher.municipality_id))
        .group_by(Redemption.provider_id)).all()
    providers = {p.id: p for p in session.execute(
        sa.select(Provider).where(Provider.id.in_([r[0] for r in rows]))).scalars()}
    ratings = rating_averages(session, list(providers), starts_on=starts_on, ends_on=ends_on)
    figures = [ProviderFigures(providers[p], int(c), int(n), int(u), int(v), int(s),
                               ratings.get(p))
               for p, c, n, u, v, s in rows]
    return sorted(figures, key=lambda f: f.provider.name.casefold())


@dataclass(frozen=True)
class Allocation:
    municipality: Municipality
    service: ServiceType
    clients: int
    events: int
    units: int
    cost_cents: int


def cost_allocation(session: Session, *, starts_on: dt.date, ends_on: dt.date,
                    scope: Scope) -> list[Allocation]:
    """What each municipality's residents' vouchers cost in the period (paid in batches
    created from ``starts_on`` to ``ends_on``), per service, ordered by municipality."""
    rows = session.execute(
        sa.select(Voucher.municipality_id, Voucher.service_type_id,
                  sa.func.count(sa.distinct(Voucher.client_id)), sa.func.count(),
                  sa.func.sum(InvoiceLine.units), sa.func.sum(InvoiceLine.voucher_pays_cents))
        .select_from(InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(Payment, Payment.id == Invoice.payment_id)
        .join(PaymentBatch, PaymentBatch.id == Payment.batch_id)
        .join(Redemption, Redemption.id == InvoiceLine.redemption_id)
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(PaymentBatch.created_at >= clock.start_of_day(starts_on),
               PaymentBatch.created_at < clock.start_of_day(ends_on + dt.timedelta(days=1)),
               scope.condition(Voucher.municipality_id))
        .group_by(Voucher.municipality_id, Voucher.service_type_id)).all()
    municipalities = {m.id: m for m in session.execute(sa.select(Municipality)).scalars()}
    services = {s.id: s for s in session.execute(sa.select(ServiceType)).scalars()}
    allocations = [Allocation(municipalities[m], services[s], int(c), int(n), int(u), int(v))
                   for m, s, c, n, u, v in rows]
    return sorted(allocations, key=lambda a: (a.municipality.code, a.service.code))
