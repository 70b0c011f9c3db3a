"""Lists of invoices and of what is ready to invoice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.invoicing.services import period_end
from voucher.pages import count_rows
from voucher.redemptions.models import Redemption, RedemptionStatus


@dataclass(frozen=True)
class MonthToInvoice:
    period: dt.date
    events: int
    voucher_total_cents: int
    #: The month has ended, so it can be invoiced now.
    closed: bool


@dataclass(frozen=True)
class PendingCorrections:
    count: int
    voucher_total_cents: int


def months_to_invoice(session: Session, *, provider_id: int,
                      today: dt.date) -> list[MonthToInvoice]:
    """Months with recorded, not yet invoiced service events, oldest first."""
    year = sa.extract("year", Redemption.service_date)
    month = sa.extract("month", Redemption.service_date)
    rows = session.execute(
        sa.select(year, month, sa.func.count(), sa.func.sum(Redemption.voucher_pays_cents))
        .where(Redemption.provider_id == provider_id,
               Redemption.status == RedemptionStatus.RECORDED,
               Redemption.corrects_id.is_(None))
        .group_by(year, month).order_by(year, month)
    ).all()
    result = []
    for y, m, count, total in rows:
        period = dt.date(int(y), int(m), 1)
        result.append(MonthToInvoice(period, count, int(total or 0),
                                     closed=period_end(period) < today))
    return result


def pending_corrections(session: Session, *, provider_id: int) -> PendingCorrections:
    """Corrections waiting for the next invoice."""
    count, total = session.execute(
        sa.select(sa.func.count(), sa.func.sum(Redemption.voucher_pays_cents))
        .where(Redemption.provider_id == provider_id,
               Redemption.status == RedemptionStatus.RECORDED,
               Redemption.corrects_id.is_not(None))
    ).one()
    return PendingCorrections(count, int(total or 0))


def provider_invoices(session: Session, *, provider_id: int, page: int = 1,
                      per_page: int = 50, with_lines: bool = False,
                      with_payments: bool = False) -> tuple[list[Invoice], int]:
    """The provider's invoices, newest first; ``with_lines`` loads their lines too (in one
    query more), for the API's list that shows them; the pages show only the totals, and
    with ``with_payments`` (one query more) whether the bank returned a payment."""
    query = sa.select(Invoice).where(Invoice.provider_id == provider_id)
    total = count_rows(session, query)
    if with_lines:
        query = query.options(selectinload(Invoice.lines))
    if with_payments:
        query = query.options(selectinload(Invoice.payment))
    items = session.execute(
        query.order_by(Invoice.number.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).scalars().all()
    return list(items), total


def invoices_for_review(session: Session, *, status: InvoiceStatus | None,
                        limit: int = 200) -> list[Invoice]:
    """Invoices for the administrator: the waiting ones oldest first, others newest first."""
    query = sa.select(Invoice).options(joinedload(Invoice.provider),
                                       selectinload(Invoice.payment)).limit(limit)
    if status is not None:
        query = query.where(Invoice.status == status)
    if status == InvoiceStatus.SUBMITTED:
        query = query.order_by(Invoice.number)
    else:
        query = query.order_by(Invoice.number.desc())
    return list(session.execute(query).scalars().all())


def count_waiting(session: Session) -> int:
    return session.execute(
        sa.select(sa.func.count()).select_from(Invoice)
        .where(Invoice.status == InvoiceStatus.SUBMITTED)
    ).scalar_one()
