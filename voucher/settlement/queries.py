"""Set-based building blocks of settlement: which invoices a run takes, and the aggregates
over their lines (per invoice, per voucher and year, per budget). Every query here works over
all lines at once in the database; Python only ever sees aggregated rows."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from voucher import clock
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.invoicing.models import Invoice, InvoiceLine, InvoiceStatus
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.settlement.models import Payment
from voucher.vouchers.models import Voucher


def year_of(column) -> sa.ColumnElement:
    """The calendar year of a date column, as an integer on SQLite and PostgreSQL alike."""
    return sa.cast(sa.extract("year", column), sa.Integer)


def open_invoice_filter(up_to: dt.date | None, held_ids: frozenset[int] = frozenset()):
    """Approved invoices not yet paid (approved on or before ``up_to``), minus held ones."""
    conditions = [Invoice.status == InvoiceStatus.APPROVED, Invoice.payment_id.is_(None)]
    if up_to is not None:
        conditions.append(Invoice.decided_at < clock.start_of_day(up_to + dt.timedelta(days=1)))
    if held_ids:
        conditions.append(Invoice.id.not_in(sorted(held_ids)))
    return sa.and_(*conditions)


def batch_invoice_ids(batch_id: int) -> sa.Select:
    """Ids of the invoices a batch paid."""
    return sa.select(Invoice.id).where(
        Invoice.payment_id.in_(sa.select(Payment.id).where(Payment.batch_id == batch_id)))


def signed_commitment() -> sa.ColumnElement:
    """A commit entry counts up, a release down: summed, a voucher's open commitment."""
    return sa.case((BudgetEntry.kind == EntryKind.COMMIT, BudgetEntry.amount_cents),
                   else_=-BudgetEntry.amount_cents)


def open_commitment_by_voucher_year(*conditions) -> sa.Select:
    """(voucher_id, year, amount): open commitment per voucher and budget year."""
    return (sa.select(BudgetEntry.voucher_id.label("voucher_id"), Budget.year.label("year"),
                      sa.func.sum(signed_commitment()).label("amount"))
            .join(Budget, Budget.id == BudgetEntry.budget_id)
            .where(BudgetEntry.kind.in_([EntryKind.COMMIT, EntryKind.RELEASE]), *conditions)
            .group_by(BudgetEntry.voucher_id, Budget.year))


def _pays(year) -> sa.ColumnElement[bool]:
    """The budget (``Budget``) pays for the voucher (``Voucher``) in ``year``: its
    municipality's and service type's budget of that year."""
    return sa.and_(Budget.municipality_id == Voucher.municipality_id,
                   Budget.service_type_id == Voucher.service_type_id, Budget.year == year)


def join_paying_budget(query: sa.Select, day) -> sa.Select:
    """Join rows (already joined to their redemption) to the budget that pays them: the
    voucher's municipality and service type, the year of ``day`` (the service date)."""
    return (query.join(Voucher, Voucher.id == Redemption.voucher_id)
            .join(Budget, _pays(year_of(day))))


def invoice_line_totals(session, invoice_ids: sa.Select) -> dict[int, tuple[int, int, int]]:
    """Per invoice: (sum of the lines' voucher shares, number of lines, lines whose service
    event is not waiting for settlement)."""
    not_invoiced = sa.func.sum(
        sa.case((Redemption.status == RedemptionStatus.INVOICED, 0), else_=1))
    rows = session.execute(
        sa.select(InvoiceLine.invoice_id, sa.func.sum(InvoiceLine.voucher_pays_cents),
                  sa.func.count(), not_invoiced)
        .join(Redemption, Redemption.id == InvoiceLine.redemption_id)
        .where(InvoiceLine.invoice_id.in_(invoice_ids))
        .group_by(InvoiceLine.invoice_id))
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in rows}


def commitment_shortfalls(session, invoice_ids: sa.Select) -> list[tuple[int, int, int]]:
    """(voucher id, year, missing cents) for every voucher whose spending in a year, with the
    lines of these invoices, would exceed its open commitment in that year."""
    line_year = year_of(InvoiceLine.service_date)
    new = (sa.select(Redemption.voucher_id.label("voucher_id"), line_year.label("year"),
                     sa.func.sum(InvoiceLine.voucher_pays_cents).label("amount"))
           .join(Redemption, Redemption.id == InvoiceLine.redemption_id)
           .where(InvoiceLine.invoice_id.in_(invoice_ids))
           .group_by(Redemption.voucher_id, line_year)).cte("new_spend")
    vouchers = sa.select(new.c.voucher_id)
    opened = open_commitment_by_voucher_year(
        BudgetEntry.voucher_id.in_(vouchers)).cte("open_commitment")
    settled_year = year_of(Redemption.service_date)
    settled = (sa.select(Redemption.voucher_id.label("voucher_id"), settled_year.label("year"),
                         sa.func.sum(Redemption.voucher_pays_cents).label("amount"))
               .where(Redemption.status == RedemptionStatus.SETTLED,
                      Redemption.voucher_id.in_(vouchers))
               .group_by(Redemption.voucher_id, settled_year)).cte("settled_spend")
    missing = (sa.func.coalesce(settled.c.amount, 0) + new.c.amount
               - sa.func.coalesce(opened.c.amount, 0))
    rows = session.execute(
        sa.select(new.c.voucher_id, new.c.year, missing)
        .outerjoin(opened, sa.and_(opened.c.voucher_id == new.c.voucher_id,
                                   opened.c.year == new.c.year))
        .outerjoin(settled, sa.and_(settled.c.voucher_id == new.c.voucher_id,
                                    settled.c.year == new.c.year))
        .where(missing > 0)
        .order_by(new.c.voucher_id, new.c.year))
    return [(int(v), int(y), int(m)) for v, y, m in rows]


def budget_totals(by_voucher, *keys) -> sa.Select:
    """(``keys``, budget id, sum) from ``by_voucher``, a subquery of amounts already summed per
    voucher and year (columns ``voucher_id``, ``year``, ``amount`` and ``keys``): the budget
    that pays is the voucher's municipality's and service type's of that year. Summing per
    voucher and year first keeps PostgreSQL's planner, which cannot estimate the year of a
    date, from pairing every line with every budget of its year and filtering them after (the
    administrator's home page spent 19 ms on it for 535 lines, 1.8 ms now)."""
    return (sa.select(*keys, Budget.id, sa.func.sum(by_voucher.c.amount))
            .select_from(by_voucher)
            .join(Voucher, Voucher.id == by_voucher.c.voucher_id)
            .join(Budget, _pays(by_voucher.c.year))
            .group_by(*keys, Budget.id))


def lines_by_voucher_year(*keys) -> sa.Select:
    """Invoice lines' voucher shares summed per ``keys``, voucher and year of service (for
    ``budget_totals``); the caller adds its joins and conditions."""
    year = year_of(InvoiceLine.service_date)
    return (sa.select(*keys, Redemption.voucher_id.label("voucher_id"), year.label("year"),
                      sa.func.sum(InvoiceLine.voucher_pays_cents).label("amount"))
            .select_from(InvoiceLine)
            .join(Redemption, Redemption.id == InvoiceLine.redemption_id)
            .group_by(*keys, Redemption.voucher_id, year))


def spend_by_budget(session, invoice_ids: sa.Select) -> dict[int, int]:
    """The lines' voucher shares per paying budget (budget id → cents)."""
    by_voucher = lines_by_voucher_year().where(InvoiceLine.invoice_id.in_(invoice_ids)).subquery()
    return {budget_id: int(total)
            for budget_id, total in session.execute(budget_totals(by_voucher))}


def voucher_years(session, voucher_id: int, invoice_ids: sa.Select) -> dict[int, dict]:
    """One voucher's money per year: open commitment, settled spending, this run's spending,
    spending still waiting (other events not yet settled), and its number of events."""
    figures: dict[int, dict] = {}

    def add(year, key, amount):
        row = figures.setdefault(int(year), {"open": 0, "settled": 0, "new": 0, "pending": 0,
                                             "events": 0})
        row[key] += int(amount or 0)

    for _voucher, year, amount in session.execute(
            open_commitment_by_voucher_year(BudgetEntry.voucher_id == voucher_id)):
        add(year, "open", amount)
    in_run = sa.select(InvoiceLine.redemption_id).where(InvoiceLine.invoice_id.in_(invoice_ids))
    kind = sa.case((Redemption.status == RedemptionStatus.SETTLED, "settled"),
                   (Redemption.id.in_(in_run), "new"), else_="pending")
    event_year = year_of(Redemption.service_date)
    for year, key, amount, count in session.execute(
            sa.select(event_year, kind, sa.func.sum(Redemption.voucher_pays_cents),
                      sa.func.count())
            .where(Redemption.voucher_id == voucher_id,
                   Redemption.status != RedemptionStatus.VOID)
            .group_by(event_year, kind)):
        add(year, key, amount)
        add(year, "events", count)
    return figures


def invoices_with_voucher_year(session, voucher_id: int, year: int,
                               invoice_ids: sa.Select) -> list[int]:
    """The invoices (of these) that carry events of a voucher in a year."""
    return list(session.execute(
        sa.select(InvoiceLine.invoice_id).distinct()
        .join(Redemption, Redemption.id == InvoiceLine.redemption_id)
        .where(InvoiceLine.invoice_id.in_(invoice_ids), Redemption.voucher_id == voucher_id,
               year_of(InvoiceLine.service_date) == year)).scalars())
