"""Demo step: a year of history, so that settlement, the reports and the charts show something
real.

Twelve months back from today (not before the catalogue's rates, 1 January 2026): about 140
clients of the four municipalities with vouchers, some thousands of service events month by
month, the providers' monthly invoices approved early the next month, and each month settled
by the real settlement run (so every invariant holds and the reconciliation passes), its batch
sent and confirmed. Last month's invoices are approved but not yet settled, and this month's
events are only recorded: the administrator can run settlement in the demo. Rows are inserted
in bulk; the whole step takes about a second.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.audit.services import Actor
from voucher.catalogue.models import ServiceType
from voucher.demo import bank_files
from voucher.demo.history_people import (
    MARK,
    HistoryVoucher,
    add_months,
    create_clients,
    issue_vouchers,
)
from voucher.invoicing.models import Invoice, InvoiceLine, InvoiceNumberSequence, InvoiceStatus
from voucher.invoicing.reference import reference_for_invoice
from voucher.money import split_payment
from voucher.municipalities.models import Municipality
from voucher.providers.models import Provider
from voucher.providers.pricing import approved_price_on
from voucher.redemptions.models import ClientShareStatus, Redemption, RedemptionStatus
from voucher.settlement.bank_feedback import import_bank_file
from voucher.settlement.batches import mark_batch_sent
from voucher.settlement.run import Payer, settle_approved_invoices
from voucher.vouchers.models import Recurrence, Voucher, VoucherPeriod, VoucherStatus

FIRST_MONTH = dt.date(2026, 1, 1)


def load_history(session: Session, municipalities: dict[str, Municipality],
                 service_types: dict[str, ServiceType]) -> list[str]:
    """Build the history once (its vouchers' codes start with HIST); later loads skip it."""
    if session.execute(sa.select(Voucher.id).where(Voucher.code.like(f"{MARK}-%")).limit(1)
                       ).first():
        return []
    users = {u.email: u for u in session.execute(sa.select(User)).scalars()}
    today = clock.today()
    this_month = today.replace(day=1)
    months = [m for m in (add_months(this_month, -n) for n in range(12, -1, -1))
              if m >= FIRST_MONTH]
    if len(months) < 3 or "casemanager2@example.fi" not in users:
        return []
    rng = random.Random(f"voucher-demo-{today.isoformat()}")  # noqa: S311 (demo data)
    clients = create_clients(session, municipalities, rng)
    vouchers = issue_vouchers(session, clients, service_types, months, rng,
                              issuer_id=users["casemanager@example.fi"].id,
                              approver_id=users["casemanager2@example.fi"].id)
    admin = Actor.of_user(users["admin@example.fi"])
    events = invoices = batches = 0
    for month in months:
        events += _record_month(session, vouchers, month, today, rng)
        if month == this_month:
            break
        next_month = add_months(month, 1)
        approved_at = min(clock.start_of_day(next_month + dt.timedelta(days=4)),
                          clock.now() - dt.timedelta(hours=1))
        _close_vouchers(session, vouchers, next_month + dt.timedelta(days=9))
        invoices += _invoice_month(session, month, approved_at, users["admin@example.fi"].id)
        if next_month != this_month:  # last month's invoices wait for the administrator
            batches += _settle(session, admin, next_month)
    _store_units_used(session, vouchers)
    return [f"Demo history: {len(vouchers)} vouchers, {events} service events, {invoices} "
            f"invoices, {batches} settled payment batches."]


def _record_month(session: Session, vouchers: list[HistoryVoucher], month: dt.date,
                  today: dt.date, rng: random.Random) -> int:
    """Service events of one month (up to yesterday), units taken from each period."""
    last = min(add_months(month, 1) - dt.timedelta(days=1), today - dt.timedelta(days=1))
    rows = []
    prices: dict[tuple[int, dt.date], int | None] = {}
    for voucher in vouchers:
        if voucher.status != VoucherStatus.ASSIGNED:
            continue
        for period in voucher.periods:
            first_day = max(period.starts_on, month, voucher.valid_from)
            last_day = min(period.ends_on, last, voucher.valid_until)
            if first_day > last_day:
                continue
            share = period.units_granted
            if voucher.recurrence == Recurrence.TOTAL:
                months_left = max(1, (voucher.valid_until - first_day).days // 30 + 1)
                share = voucher.remaining(period) // months_left
            wanted = min(share * voucher.usage // 100, voucher.remaining(period))
            key = (voucher.offer_id, month)
            if key not in prices:
                prices[key] = approved_price_on(session, voucher.offer_id, month)
            price = prices[key]
            while wanted >= voucher.kind.visit // 2 and price is not None:
                units = min(voucher.kind.visit, wanted)
                units -= units % (100 if voucher.kind.code == "CAREGIVER_RELIEF" else 50)
                if units <= 0:
                    break
                day = first_day + dt.timedelta(days=rng.randint(0, (last_day - first_day).days))
                voucher_pays, client_pays = split_payment(units, price, voucher.unit_value_cents)
                void = rng.random() < 0.02
                rows.append({
                    "voucher_id": voucher.id, "provider_id": voucher.provider_id,
                    "voucher_period_id": period.id, "service_date": day, "units": units,
                    "unit_price_cents": price, "unit_value_cents": voucher.unit_value_cents,
                    "voucher_pays_cents": voucher_pays, "client_pays_cents": client_pays,
                    "status": RedemptionStatus.VOID if void else RedemptionStatus.RECORDED,
                    "source": rng.choice(("portal", "api", "api", "csv")),
                    "client_share_status": ClientShareStatus.BILLED_BY_PROVIDER
                    if client_pays else None,
                    "caregiver_ref": f"H{rng.randint(1, 12):03d}",
                    "created_at": clock.start_of_day(day) + dt.timedelta(hours=17),
                    "voided_at": clock.start_of_day(day) + dt.timedelta(hours=18)
                    if void else None})
                if not void:
                    wanted -= units
                    voucher.used[period.id] = voucher.used.get(period.id, 0) + units
    if rows:  # RETURNING makes PostgreSQL take the rows as multi-row INSERTs
        session.execute(sa.insert(Redemption).returning(Redemption.id), rows)
    return len(rows)


def _store_units_used(session: Session, vouchers: list[HistoryVoucher]) -> None:
    """The units taken by the events, written once at the end (two bulk updates)."""
    session.execute(sa.update(VoucherPeriod), [
        {"id": period_id, "units_used": used}
        for voucher in vouchers for period_id, used in voucher.used.items()])
    session.execute(sa.update(Voucher), [
        {"id": voucher.id, "units_used": voucher.units_used} for voucher in vouchers
        if voucher.used])


def _close_vouchers(session: Session, vouchers: list[HistoryVoucher], run_on: dt.date) -> None:
    """Before a settlement run: vouchers whose units are used up are exhausted, those whose
    validity ended before the run are expired (their unused commitment is then released by the
    run once their last events are settled)."""
    for voucher in vouchers:
        if voucher.status != VoucherStatus.ASSIGNED:
            continue
        if voucher.units_used == voucher.units_granted:
            voucher.status, closed_on = VoucherStatus.EXHAUSTED, min(voucher.valid_until, run_on)
        elif voucher.valid_until < run_on:
            voucher.status = VoucherStatus.EXPIRED
            closed_on = voucher.valid_until + dt.timedelta(days=1)
        else:
            continue
        session.execute(sa.update(Voucher).where(Voucher.id == voucher.id).values(
            status=voucher.status, closed_at=clock.start_of_day(closed_on)))


def _invoice_month(session: Session, month: dt.date, approved_at: dt.datetime,
                   admin_id: int) -> int:
    """Each provider's invoice of the month's recorded events, approved."""
    in_month = sa.and_(Redemption.status == RedemptionStatus.RECORDED,
                       Redemption.service_date >= month,
                       Redemption.service_date < add_months(month, 1))
    totals = session.execute(
        sa.select(Redemption.provider_id, sa.func.sum(Redemption.voucher_pays_cents),
                  sa.func.sum(Redemption.client_pays_cents), sa.func.count())
        .where(in_month).group_by(Redemption.provider_id).order_by(Redemption.provider_id)).all()
    sequence = session.get(InvoiceNumberSequence, 1, with_for_update=True)
    for provider_id, voucher_total, client_total, count in totals:
        provider = session.get(Provider, provider_id)
        sequence.last_number += 1
        invoice = Invoice(
            number=sequence.last_number, provider_id=provider_id, period=month,
            status=InvoiceStatus.APPROVED, business_id=provider.business_id,
            provider_name=provider.legal_name, iban=provider.iban, bic=provider.bic,
            reference=reference_for_invoice(sequence.last_number),
            voucher_total_cents=int(voucher_total), client_total_cents=int(client_total),
            line_count=int(count), created_at=approved_at - dt.timedelta(days=2),
            decided_at=approved_at, decided_by_user_id=admin_id)
        session.add(invoice)
        session.flush()
        session.execute(sa.insert(InvoiceLine).from_select(
            ["invoice_id", "redemption_id", "voucher_code", "service_date", "units",
             "unit_price_cents", "voucher_pays_cents", "client_pays_cents"],
            sa.select(sa.literal(invoice.id), Redemption.id, Voucher.code,
                      Redemption.service_date, Redemption.units, Redemption.unit_price_cents,
                      Redemption.voucher_pays_cents, Redemption.client_pays_cents)
            .join(Voucher, Voucher.id == Redemption.voucher_id)
            .where(in_month, Redemption.provider_id == provider_id).order_by(Redemption.id)))
    session.execute(sa.update(Redemption).where(in_month)
                    .values(status=RedemptionStatus.INVOICED)
                    .execution_options(synchronize_session=False))
    session.flush()
    return len(totals)


def _settle(session: Session, admin: Actor, month: dt.date) -> int:
    """The month's settlement on the 10th, sent to the bank that day, confirmed two days
    later by the bank's debit notification (camt.054)."""
    with clock.frozen_at(dt.datetime.combine(month + dt.timedelta(days=9), dt.time(10),
                                          clock.HELSINKI)):
        result = settle_approved_invoices(session, actor=admin,
                                          payer=Payer.from_config(current_app.config),
                                          up_to=clock.today())
    if result.batch is None:
        return 0
    with clock.frozen_at(dt.datetime.combine(month + dt.timedelta(days=9), dt.time(14),
                                          clock.HELSINKI)):
        mark_batch_sent(session, result.batch.id, actor=admin)
    booked = dt.datetime.combine(month + dt.timedelta(days=11), dt.time(9), clock.HELSINKI)
    with clock.frozen_at(booked):
        sent = bank_files.read_payment_file(result.batch.sepa_xml)
        content = bank_files.debit_notification(
            sent, message_id=f"DEMO{result.batch.message_id}"[:35], created_at=booked,
            booked_on=booked.date(), debited=[t.end_to_end_id for t in sent.transfers])
        import_bank_file(session, content=content, filename=f"camt054-{booked:%Y%m%d}.xml",
                         actor=admin, source="upload",
                         max_bytes=current_app.config["MAX_UPLOAD_BYTES"])
    return 1
