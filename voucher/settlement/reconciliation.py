"""Reconciliation: proof that every euro is where the ledger says it is.

For every budget (municipality × service type × year) in the period:
  budget ≥ committed − released ≥ spent, and the ledger's commit, release and spend entries add
  up to those totals; the settled service events add up to the spend entries.
For every payment batch created in the period: each spend entry equals the lines it stands
for, the spend entries equal the payments' voucher shares, the batch's total and count equal
its payments. Every payment equals its invoices, every invoice its lines, every line its
service event; paid invoices have settled events and settled events paid invoices. No voucher
spends more in a year than it has committed for that year.
The bank's word: every batch's payments sent = confirmed + rejected (or returned) + awaiting
confirmation; each payment's state is what the imported bank files say (replayed in order);
a batch is confirmed exactly when none of its payments awaits the bank; a payment that pays
again a rejected or returned one has its amounts and provider, and only such a payment is
paid again (a repayment spends nothing: the spending was the first payment's).

``find_differences`` returns each difference with the municipality, service, year, amount and
the row it concerns; an empty list means everything reconciles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.catalogue.models import ServiceType
from voucher.invoicing.models import Invoice, InvoiceLine, InvoiceStatus
from voucher.money import format_cents
from voucher.municipalities.models import Municipality
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.settlement.models import (
    BANK_TRANSITIONS,
    FAILED,
    BatchStatus,
    Payment,
    PaymentBankStatus,
    PaymentBankStatusReport,
    PaymentBatch,
)
from voucher.settlement.queries import (
    budget_totals,
    join_paying_budget,
    lines_by_voucher_year,
    open_commitment_by_voucher_year,
    year_of,
)
from voucher.vouchers.models import Voucher

#: What each check compares, in words.
CHECKS = {
    "over_committed": _l("open commitment exceeds the budget"),
    "overspent": _l("spending exceeds the open commitment"),
    "ledger_commit": _l("commit entries differ from the budget's committed total"),
    "ledger_release": _l("release entries differ from the budget's released total"),
    "ledger_spend": _l("spend entries differ from the budget's spent total"),
    "settled_vs_spend": _l("settled service events differ from the spend entries"),
    "spend_entry": _l("spend entry differs from the batch's lines it stands for"),
    "batch_payments": _l("batch's spend entries differ from its payments' voucher shares"),
    "batch_total": _l("batch total or count differs from its payments"),
    "payment_invoices": _l("payment differs from its invoices"),
    "invoice_lines": _l("invoice totals differ from its lines"),
    "line_event": _l("invoice line differs from its service event"),
    "status": _l("invoice or service event state does not match its payment"),
    "voucher_overspent": _l("voucher spent more in the year than it has committed"),
    "self_shares": _l("self-shares collected online minus refunds (made or pending) differ "
                      "from those paid out plus those not yet settled"),
    "payment_self_shares": _l("payment's self-share differs from the self-shares it passed on"),
    "online_payment": _l("online payment differs from its service events or refunds"),
    "posting_file": _l("batch's posting file is missing, or its stored files differ from "
                       "their hashes or from each other"),
    "posting_balance": _l("posting file's debits differ from its credits"),
    "posting_payments": _l("posting file's bank or self-share lines differ from the payment"),
    "posting_spend": _l("posting file's expense lines differ from the batch's spend entries"),
    "bank_identity": _l("payments sent differ from those confirmed, rejected or returned and "
                        "awaiting confirmation"),
    "bank_status": _l("payment's state differs from what the bank's files say"),
    "batch_confirmed": _l("batch's confirmation differs from its payments' states"),
    "repayment": _l("payment paid again differs from the rejected or returned payment"),
}


@dataclass(frozen=True)
class Difference:
    check: str
    #: The difference in cents (what is there minus what should be).
    amount_cents: int
    #: The row concerned, as "table id".
    row: str
    municipality: Municipality | None = None
    service: ServiceType | None = None
    year: int | None = None
    figures: dict = field(default_factory=dict)

    def describe(self) -> str:
        """One line in English, for the CLI and test failures."""
        where = ", ".join(filter(None, [
            self.municipality.name_fi if self.municipality else None,
            self.service.name_fi if self.service else None,
            str(self.year) if self.year else None]))
        amount = format_cents(self.amount_cents, "fi")
        with force_locale("en"):
            check = str(CHECKS[self.check])
        return f"{where or '-'}: {check}: {amount} (row: {self.row})"


@dataclass
class Period:
    """From and to (inclusive) Finnish dates; None means open-ended."""

    starts_on: dt.date | None = None
    ends_on: dt.date | None = None

    def years(self, column):
        return sa.and_(sa.true(), *([column >= self.starts_on.year] if self.starts_on else []),
                       *([column <= self.ends_on.year] if self.ends_on else []))

    def moments(self, column):
        return sa.and_(
            sa.true(), *([column >= clock.start_of_day(self.starts_on)] if self.starts_on else []),
            *([column < clock.start_of_day(self.ends_on + dt.timedelta(days=1))]
              if self.ends_on else []))

    def dates(self, column):
        return sa.and_(sa.true(), *([column >= self.starts_on] if self.starts_on else []),
                       *([column <= self.ends_on] if self.ends_on else []))


def find_differences(session: Session, period: Period | None = None) -> list[Difference]:
    """Every difference in the period (all time when no period is given)."""
    period = period or Period()
    names = _Names.read(session)
    return [*_budget_differences(session, period, names),
            *_batch_differences(session, period, names),
            *_invoice_differences(session, period), *_voucher_differences(session, period),
            *_self_share_differences(session), *_posting_differences(session, period, names),
            *_bank_differences(session, period)]


@dataclass(frozen=True)
class _Names:
    """The municipalities and service types by id, read once for all the checks."""

    municipalities: dict[int, Municipality]
    services: dict[int, ServiceType]

    @classmethod
    def read(cls, session: Session) -> _Names:
        return cls({m.id: m for m in session.execute(sa.select(Municipality)).scalars()},
                   {s.id: s for s in session.execute(sa.select(ServiceType)).scalars()})


def _budget_differences(session: Session, period: Period, names: _Names) -> list[Difference]:
    municipalities, services = names.municipalities, names.services
    budgets = session.execute(sa.select(Budget).where(period.years(Budget.year))
                              .order_by(Budget.id)).scalars().all()
    entry_sums = {(b, k): int(t) for b, k, t in session.execute(
        sa.select(BudgetEntry.budget_id, BudgetEntry.kind, sa.func.sum(BudgetEntry.amount_cents))
        .group_by(BudgetEntry.budget_id, BudgetEntry.kind))}
    settled = dict(session.execute(join_paying_budget(
        sa.select(Budget.id, sa.func.sum(Redemption.voucher_pays_cents))
        .select_from(Redemption), Redemption.service_date)
        .where(Redemption.status == RedemptionStatus.SETTLED)
        .group_by(Budget.id)).all())
    differences = []
    for budget in budgets:
        def differ(check, amount, budget=budget, **figures):
            differences.append(Difference(
                check, amount, f"budgets {budget.id}", municipalities[budget.municipality_id],
                services[budget.service_type_id], budget.year, figures))

        open_commitment = budget.committed_cents - budget.released_cents
        if open_commitment > budget.amount_cents:
            differ("over_committed", open_commitment - budget.amount_cents)
        if budget.spent_cents > open_commitment:
            differ("overspent", budget.spent_cents - open_commitment)
        for kind, total in ((EntryKind.COMMIT, budget.committed_cents),
                            (EntryKind.RELEASE, budget.released_cents),
                            (EntryKind.SPEND, budget.spent_cents)):
            entries = entry_sums.get((budget.id, kind), 0)
            if entries != total:
                differ(f"ledger_{kind.value}", entries - total, entries=entries, total=total)
        spend = entry_sums.get((budget.id, EntryKind.SPEND), 0)
        events = int(settled.get(budget.id) or 0)
        if events != spend:
            differ("settled_vs_spend", events - spend, events=events, entries=spend)
    return differences


def _batch_differences(session: Session, period: Period, names: _Names) -> list[Difference]:
    municipalities, services = names.municipalities, names.services
    batches = {b.id: b for b in session.execute(
        sa.select(PaymentBatch).where(period.moments(PaymentBatch.created_at))).scalars()}
    if not batches:
        return []
    in_period = PaymentBatch.id.in_(sa.select(PaymentBatch.id).where(
        period.moments(PaymentBatch.created_at)))
    by_voucher = (lines_by_voucher_year(Payment.batch_id.label("batch_id"))
                  .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                  .join(Payment, Payment.id == Invoice.payment_id)
                  .join(PaymentBatch, PaymentBatch.id == Payment.batch_id)
                  .where(in_period).subquery())
    lines = {(batch, budget): int(total) for batch, budget, total in session.execute(
        budget_totals(by_voucher, by_voucher.c.batch_id))}
    entries = session.execute(
        sa.select(BudgetEntry, Budget).join(Budget)
        .join(PaymentBatch, PaymentBatch.id == BudgetEntry.payment_batch_id)
        .where(BudgetEntry.kind == EntryKind.SPEND, in_period)).all()
    differences = []
    seen = set()
    for entry, budget in entries:
        key = (entry.payment_batch_id, entry.budget_id)
        seen.add(key)
        if entry.amount_cents != lines.get(key, 0):
            differences.append(Difference(
                "spend_entry", entry.amount_cents - lines.get(key, 0),
                f"budget_entries {entry.id}", municipalities[budget.municipality_id],
                services[budget.service_type_id], budget.year,
                {"entry": entry.amount_cents, "lines": lines.get(key, 0)}))
    for (batch_id, budget_id), total in lines.items():
        if (batch_id, budget_id) not in seen and total:
            budget = session.get(Budget, budget_id)
            differences.append(Difference(
                "spend_entry", -total, f"payment_batches {batch_id}",
                municipalities[budget.municipality_id], services[budget.service_type_id],
                budget.year, {"entry": 0, "lines": total}))
    spend = dict(session.execute(
        sa.select(BudgetEntry.payment_batch_id, sa.func.sum(BudgetEntry.amount_cents))
        .where(BudgetEntry.kind == EntryKind.SPEND, BudgetEntry.payment_batch_id.in_(batches))
        .group_by(BudgetEntry.payment_batch_id)).all())
    first = Payment.repays_payment_id.is_(None)  # a repayment spends nothing
    payments = {row[0]: row[1:] for row in session.execute(
        sa.select(Payment.batch_id,
                  sa.func.sum(sa.case((first, Payment.voucher_share_cents), else_=0)),
                  sa.func.sum(Payment.amount_cents), sa.func.count())
        .where(Payment.batch_id.in_(batches)).group_by(Payment.batch_id))}
    for batch in batches.values():
        shares, amounts, count = (int(x) for x in payments.get(batch.id, (0, 0, 0)))
        if int(spend.get(batch.id) or 0) != shares:
            differences.append(Difference("batch_payments", int(spend.get(batch.id) or 0)
                                          - shares, f"payment_batches {batch.id}"))
        if (batch.total_cents, batch.payment_count) != (amounts, count):
            differences.append(Difference("batch_total", batch.total_cents - amounts,
                                          f"payment_batches {batch.id}",
                                          figures={"count": batch.payment_count,
                                                   "payments": count}))
    invoiced = (sa.select(Invoice.payment_id.label("payment_id"),
                          sa.func.sum(Invoice.voucher_total_cents).label("total"))
                .where(Invoice.payment_id.is_not(None)).group_by(Invoice.payment_id).subquery())
    total = sa.func.coalesce(invoiced.c.total, 0)
    for payment_id, share, total_cents in session.execute(  # only the payments that differ
            sa.select(Payment.id, Payment.voucher_share_cents, total)
            .outerjoin(invoiced, invoiced.c.payment_id == Payment.id)
            .where(Payment.batch_id.in_(batches), first, Payment.voucher_share_cents != total)
            .order_by(Payment.id).limit(100)):
        differences.append(Difference("payment_invoices", share - int(total_cents),
                                      f"payments {payment_id}"))
    return differences


def _invoice_differences(session: Session, period: Period) -> list[Difference]:
    in_period = period.dates(Invoice.period)
    differences = []
    totals = sa.select(
        InvoiceLine.invoice_id.label("invoice_id"),
        sa.func.sum(InvoiceLine.voucher_pays_cents).label("voucher"),
        sa.func.sum(InvoiceLine.client_pays_cents).label("client"),
        sa.func.count().label("lines")).group_by(InvoiceLine.invoice_id).subquery()
    voucher_sum = sa.func.coalesce(totals.c.voucher, 0)
    client_sum = sa.func.coalesce(totals.c.client, 0)
    line_count = sa.func.coalesce(totals.c.lines, 0)
    paid = Invoice.status == InvoiceStatus.PAID
    # Compared in the database, so that only the invoices that differ are read (every
    # invoice of all time as an object took megabytes and most of the report's time).
    for invoice, voucher, client, count in session.execute(
            sa.select(Invoice, voucher_sum, client_sum, line_count)
            .outerjoin(totals, totals.c.invoice_id == Invoice.id)
            .where(in_period, sa.or_(
                Invoice.voucher_total_cents != voucher_sum,
                Invoice.client_total_cents != client_sum, Invoice.line_count != line_count,
                sa.and_(paid, Invoice.payment_id.is_(None)),
                sa.and_(~paid, Invoice.payment_id.is_not(None))))
            .order_by(Invoice.id).limit(100)):
        voucher, client, count = int(voucher), int(client), int(count)
        if (invoice.voucher_total_cents, invoice.client_total_cents, invoice.line_count) != (
                voucher, client, count):
            differences.append(Difference(
                "invoice_lines", invoice.voucher_total_cents - voucher,
                f"invoices {invoice.id} (number {invoice.number})",
                figures={"lines": count, "line_count": invoice.line_count}))
        if (invoice.status == InvoiceStatus.PAID) != (invoice.payment_id is not None):
            differences.append(Difference("status", invoice.voucher_total_cents,
                                          f"invoices {invoice.id} (number {invoice.number})"))
    settled = Redemption.status == RedemptionStatus.SETTLED
    for line, redemption, voucher in session.execute(
            sa.select(InvoiceLine, Redemption, Voucher)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .join(Redemption, Redemption.id == InvoiceLine.redemption_id)
            .join(Voucher, Voucher.id == Redemption.voucher_id)
            .where(in_period, paid, sa.or_(
                ~settled,
                InvoiceLine.voucher_pays_cents != Redemption.voucher_pays_cents,
                InvoiceLine.client_pays_cents != Redemption.client_pays_cents,
                InvoiceLine.units != Redemption.units))
            .order_by(InvoiceLine.id).limit(100)):
        check = ("line_event" if line.voucher_pays_cents != redemption.voucher_pays_cents
                 or line.client_pays_cents != redemption.client_pays_cents
                 or line.units != redemption.units else "status")
        differences.append(Difference(
            check, line.voucher_pays_cents - redemption.voucher_pays_cents
            if check == "line_event" else line.voucher_pays_cents,
            f"invoice_lines {line.id}", voucher.municipality, voucher.service_type,
            line.service_date.year))
    orphans = (sa.select(Redemption, Voucher).join(Voucher, Voucher.id == Redemption.voucher_id)
               .where(settled, period.dates(Redemption.service_date), ~sa.exists(
                   sa.select(InvoiceLine.id).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                   .where(InvoiceLine.redemption_id == Redemption.id, paid)))
               .order_by(Redemption.id).limit(100))
    for redemption, voucher in session.execute(orphans):
        differences.append(Difference(
            "status", redemption.voucher_pays_cents, f"redemptions {redemption.id}",
            voucher.municipality, voucher.service_type, redemption.service_date.year))
    return differences


def _voucher_differences(session: Session, period: Period) -> list[Difference]:
    """No voucher has spent more in a year than it has open commitment for that year."""
    opened = open_commitment_by_voucher_year(period.years(Budget.year)).subquery()
    event_year = year_of(Redemption.service_date)
    spent = (sa.select(Redemption.voucher_id.label("voucher_id"), event_year.label("year"),
                       sa.func.sum(Redemption.voucher_pays_cents).label("amount"))
             .where(Redemption.status == RedemptionStatus.SETTLED, period.years(event_year))
             .group_by(Redemption.voucher_id, event_year)).subquery()
    over = spent.c.amount - sa.func.coalesce(opened.c.amount, 0)
    rows = session.execute(
        sa.select(Voucher, spent.c.year, over)
        .join(spent, spent.c.voucher_id == Voucher.id)
        .outerjoin(opened, sa.and_(opened.c.voucher_id == spent.c.voucher_id,
                                   opened.c.year == spent.c.year))
        .where(over > 0).order_by(Voucher.id).limit(100))
    return [Difference("voucher_overspent", int(amount), f"vouchers {voucher.id}",
                       voucher.municipality, voucher.service_type, int(year))
            for voucher, year, amount in rows]


def _self_share_differences(session: Session) -> list[Difference]:
    """Self-shares paid online (all time): collected − refunded − refund pending = paid out +
    not yet settled (a pending refund is owed to the client: never passed on to a provider);
    each settlement payment's self-share equals the rows it passed on; each online payment's
    events add up to its amount and its refunds to its refunded total."""
    from voucher.payments.models import (
        OnlinePayment,
        OnlinePaymentEvent,
        OnlinePaymentStatus,
        OnlineRefund,
        RefundStatus,
    )

    def total(query) -> int:
        return int(session.execute(query).scalar() or 0)

    succeeded = OnlinePayment.status == OnlinePaymentStatus.SUCCEEDED
    collected = total(sa.select(sa.func.sum(OnlinePayment.amount_cents)).where(succeeded))
    refunded = total(sa.select(sa.func.sum(OnlineRefund.amount_cents))
                     .where(OnlineRefund.status == RefundStatus.SUCCEEDED))
    refund_pending = total(sa.select(sa.func.sum(OnlineRefund.amount_cents))
                           .where(OnlineRefund.status == RefundStatus.PENDING))
    paid_out = total(sa.select(sa.func.sum(Payment.self_share_cents))
                     .where(Payment.repays_payment_id.is_(None)))
    unsettled = total(
        sa.select(sa.func.sum(OnlinePaymentEvent.amount_cents))
        .join(OnlinePayment, OnlinePayment.id == OnlinePaymentEvent.online_payment_id)
        .where(succeeded, OnlinePaymentEvent.payout_id.is_(None))) - total(
        sa.select(sa.func.sum(OnlineRefund.amount_cents)).where(OnlineRefund.payout_id.is_(None)))
    differences = []
    if collected - refunded - refund_pending != paid_out + unsettled:
        differences.append(Difference(
            "self_shares", collected - refunded - refund_pending - paid_out - unsettled,
            "online_payments",
            figures={"collected": collected, "refunded": refunded,
                     "refund_pending": refund_pending, "paid_out": paid_out,
                     "unsettled": unsettled}))
    passed = {payment_id: int(amount) for payment_id, amount in session.execute(
        sa.select(OnlinePaymentEvent.payout_id, sa.func.sum(OnlinePaymentEvent.amount_cents))
        .where(OnlinePaymentEvent.payout_id.is_not(None))
        .group_by(OnlinePaymentEvent.payout_id))}
    for payment_id, amount in session.execute(
            sa.select(OnlineRefund.payout_id, sa.func.sum(OnlineRefund.amount_cents))
            .where(OnlineRefund.payout_id.is_not(None)).group_by(OnlineRefund.payout_id)):
        passed[payment_id] = passed.get(payment_id, 0) - int(amount)
    for payment_id, self_share in session.execute(
            sa.select(Payment.id, Payment.self_share_cents)
            .where(Payment.repays_payment_id.is_(None),
                   sa.or_(Payment.self_share_cents != 0, Payment.id.in_(list(passed))))):
        if self_share != passed.get(payment_id, 0):
            differences.append(Difference("payment_self_shares",
                                          self_share - passed.get(payment_id, 0),
                                          f"payments {payment_id}"))
    links = dict(session.execute(
        sa.select(OnlinePaymentEvent.online_payment_id,
                  sa.func.sum(OnlinePaymentEvent.amount_cents))
        .group_by(OnlinePaymentEvent.online_payment_id)).all())
    refunds = dict(session.execute(
        sa.select(OnlineRefund.online_payment_id, sa.func.sum(OnlineRefund.amount_cents))
        .group_by(OnlineRefund.online_payment_id)).all())
    for payment_id, amount, refunded_cents in session.execute(
            sa.select(OnlinePayment.id, OnlinePayment.amount_cents, OnlinePayment.refunded_cents)
            .order_by(OnlinePayment.id)):
        if (amount, refunded_cents) != (int(links.get(payment_id) or 0),
                                        int(refunds.get(payment_id) or 0)):
            differences.append(Difference("online_payment",
                                          amount - int(links.get(payment_id) or 0),
                                          f"online_payments {payment_id}"))
    return differences


def _posting_differences(session: Session, period: Period, names: _Names) -> list[Difference]:
    """Each batch's posting file (from the first batch that has one) against its payments
    and spend entries: both stored files intact and alike, balanced per municipality and in
    total, the bank lines equal to each payment's amount and the self-share lines to its
    self-share, the expense lines to the spend entries per municipality × service type."""
    import hashlib
    import json

    from voucher.accounting.models import PostingFile
    from voucher.settlement.postings import parse_csv

    first = session.execute(sa.select(sa.func.min(PostingFile.batch_id))).scalar()
    if first is None:
        return []
    municipalities, services = names.municipalities, names.services
    by_code = {m.code: m for m in municipalities.values()}
    service_codes = {s.code: s for s in services.values()}
    batches = session.execute(
        sa.select(PaymentBatch, PostingFile)
        .outerjoin(PostingFile, PostingFile.batch_id == PaymentBatch.id)
        .where(PaymentBatch.id >= first, period.moments(PaymentBatch.created_at))
        .order_by(PaymentBatch.id)).all()
    # Per batch, so that each batch's lines meet only its own payments and spend entries.
    spend: dict[int, dict[tuple[str, str], int]] = {}
    for batch_id, municipality_id, service_type_id, amount in session.execute(
            sa.select(BudgetEntry.payment_batch_id, Budget.municipality_id,
                      Budget.service_type_id, sa.func.sum(BudgetEntry.amount_cents))
            .join(Budget, Budget.id == BudgetEntry.budget_id)
            .where(BudgetEntry.kind == EntryKind.SPEND,
                   BudgetEntry.payment_batch_id.in_([b.id for b, _p in batches]))
            .group_by(BudgetEntry.payment_batch_id, Budget.municipality_id,
                      Budget.service_type_id)):
        key = (municipalities[municipality_id].code, services[service_type_id].code)
        spend.setdefault(batch_id, {})[key] = int(amount)
    payments: dict[int, dict[str, Payment]] = {}
    for payment in session.execute(sa.select(Payment).where(
            Payment.batch_id.in_([b.id for b, _p in batches]))).scalars():
        payments.setdefault(payment.batch_id, {})[payment.end_to_end_id] = payment
    differences = []
    compared = ("payment", "kind", "municipality", "service", "account", "cost_centre",
                "project", "internal_order", "vat_code", "supplier_number", "debit_cents",
                "credit_cents")
    for batch, posting in batches:
        row = f"posting_files {batch.id}"
        if posting is None:
            differences.append(Difference("posting_file", batch.total_cents,
                                          f"payment_batches {batch.id}"))
            continue
        if (hashlib.sha256(posting.csv_content).hexdigest() != posting.csv_sha256
                or hashlib.sha256(posting.json_content).hexdigest() != posting.json_sha256):
            differences.append(Difference("posting_file", 0, row))
        try:
            lines = json.loads(posting.json_content)["lines"]
            from_csv = parse_csv(posting.csv_content)
        except (ValueError, KeyError, TypeError):
            differences.append(Difference("posting_file", 0, row))
            continue
        if [tuple(line.get(k) or None for k in compared) for line in lines] != [
                tuple(line.get(k) or None for k in compared) for line in from_csv]:
            differences.append(Difference("posting_file", 0, row))
        debit = sum(line["debit_cents"] for line in lines)
        credit = sum(line["credit_cents"] for line in lines)
        balances: dict[str, int] = {}
        for line in lines:
            code = line["municipality"]
            balances[code] = balances.get(code, 0) + line["debit_cents"] - line["credit_cents"]
        if debit != credit:
            differences.append(Difference("posting_balance", debit - credit, row))
        for code, balance in sorted(balances.items()):
            if balance and debit == credit:
                differences.append(Difference("posting_balance", balance, row,
                                              by_code.get(code)))
        banked: dict[str, int] = {}
        shared: dict[str, int] = {}
        expensed: dict[tuple[str, str], int] = {}
        for line in lines:
            net = line["debit_cents"] - line["credit_cents"]
            if line["kind"] == "bank":
                banked[line["payment"]] = banked.get(line["payment"], 0) - net
            elif line["kind"] in ("self_share", "recovery"):
                shared[line["payment"]] = shared.get(line["payment"], 0) + net
            elif line["kind"] == "returned":
                continue  # paid again: its expense was posted with the payment it repays
            else:
                key = (line["municipality"], line["service"])
                expensed[key] = expensed.get(key, 0) + net
        own = payments.get(batch.id, {})
        for key in sorted(set(own) | set(banked)):
            payment = own.get(key)
            # A repayment's self-shares were posted with the payment it repays.
            amount, self_share = ((payment.amount_cents,
                                   0 if payment.repays_payment_id else payment.self_share_cents)
                                  if payment else (0, 0))
            if banked.get(key, 0) != amount or shared.get(key, 0) != self_share:
                differences.append(Difference(
                    "posting_payments", banked.get(key, 0) - amount,
                    f"payments {payment.id}" if payment else row,
                    figures={"bank": banked.get(key, 0), "amount": amount,
                             "self_shares": shared.get(key, 0), "self_share": self_share}))
        entries = spend.get(batch.id, {})
        for key in sorted(set(entries) | set(expensed)):
            if expensed.get(key, 0) != entries.get(key, 0):
                differences.append(Difference(
                    "posting_spend", expensed.get(key, 0) - entries.get(key, 0), row,
                    by_code.get(key[0]), service_codes.get(key[1]),
                    figures={"postings": expensed.get(key, 0),
                             "spend": entries.get(key, 0)}))
    return differences


def _bank_differences(session: Session, period: Period) -> list[Difference]:
    """The bank's word on the payments of the period's batches (see the module docstring)."""
    batches = {b.id: b for b in session.execute(
        sa.select(PaymentBatch).where(period.moments(PaymentBatch.created_at))).scalars()}
    if not batches:
        return []
    payments = list(session.execute(sa.select(Payment).where(Payment.batch_id.in_(batches))
                                    .order_by(Payment.id)).scalars())
    reports: dict[int, list[PaymentBankStatus]] = {}
    named: set[int] = set()  # payments the bank's files have named at all
    for payment_id, status, effect in session.execute(
            sa.select(PaymentBankStatusReport.payment_id, PaymentBankStatusReport.status,
                      PaymentBankStatusReport.effect)
            .where(PaymentBankStatusReport.payment_id.in_([p.id for p in payments]))
            .order_by(PaymentBankStatusReport.id)):
        named.add(payment_id)
        if effect == "applied":
            reports.setdefault(payment_id, []).append(status)


    def accepted_before_files(payment: Payment) -> bool:
        """Confirmed by the click that migration 0016 replaced (or in a confirmed batch no
        file has named the payment of): the migration counts it as accepted."""
        batch = batches[payment.batch_id]
        return batch.confirmed_by_user_id is not None or (
            batch.status == BatchStatus.CONFIRMED and payment.id not in named)
    differences = []
    by_batch: dict[int, dict[str, int]] = {}
    for payment in payments:
        figures = by_batch.setdefault(payment.batch_id, {"sent": 0, "confirmed": 0,
                                                         "failed": 0, "awaiting": 0})
        figures["sent"] += payment.amount_cents
        key = {PaymentBankStatus.ACCEPTED: "confirmed", PaymentBankStatus.AWAITING: "awaiting"
               }.get(payment.bank_status, "failed")
        figures[key] += payment.amount_cents
        state = (PaymentBankStatus.ACCEPTED if accepted_before_files(payment)
                 else PaymentBankStatus.AWAITING)
        for reported in reports.get(payment.id, []):
            state = reported if reported in BANK_TRANSITIONS[state] else state
        if state != payment.bank_status:
            differences.append(Difference("bank_status", payment.amount_cents,
                                          f"payments {payment.id}",
                                          figures={"state": payment.bank_status.value,
                                                   "files": state.value}))
    for batch_id, figures in sorted(by_batch.items()):
        batch = batches[batch_id]
        told = figures["confirmed"] + figures["failed"] + figures["awaiting"]
        if figures["sent"] != told or batch.total_cents != figures["sent"]:
            differences.append(Difference("bank_identity", batch.total_cents - told,
                                          f"payment_batches {batch_id}", figures=figures))
        confirmed = batch.status == BatchStatus.CONFIRMED
        if confirmed != (figures["awaiting"] == 0):
            differences.append(Difference("batch_confirmed", figures["awaiting"],
                                          f"payment_batches {batch_id}", figures=figures))
    repays = [p.repays_payment_id for p in payments if p.repays_payment_id]
    repaid = {p.id: p for p in session.execute(sa.select(Payment).where(
        Payment.id.in_(repays))).scalars()} if repays else {}
    for payment in payments:
        if payment.repays_payment_id is None:
            continue
        original = repaid[payment.repays_payment_id]
        if (original.bank_status not in FAILED or original.provider_id != payment.provider_id
                or (original.amount_cents, original.voucher_share_cents,
                    original.self_share_cents) != (payment.amount_cents,
                                                   payment.voucher_share_cents,
                                                   payment.self_share_cents)):
            differences.append(Difference("repayment",
                                          payment.amount_cents - original.amount_cents,
                                          f"payments {payment.id}"))
    return differences
