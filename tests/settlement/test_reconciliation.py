"""Reconciliation names every difference; the CLI exits non-zero on one."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.settlement.conftest import events, voucher_for
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.settlement.models import Payment
from voucher.settlement.reconciliation import Period, find_differences


@pytest.fixture
def settled(db, world, settle):
    first = voucher_for(db, world, world.aurinko)
    second = voucher_for(db, world, world.kuura, home=world.nivala)
    factories.invoice(db, world.aurinko, events(db, first, (2, 150)))
    factories.invoice(db, world.kuura, events(db, second, (3, 100)))
    settle()
    return world


def test_a_settled_world_reconciles(db, settled):
    assert find_differences(db) == []
    assert find_differences(db, Period(dt.date(2026, 1, 1),
                                       dt.date(2026, 12, 31))) == []


@pytest.mark.unreconciled
def test_one_corrupted_ledger_row_is_named_with_municipality_service_and_amount(db, settled):
    entry = db.execute(sa.select(BudgetEntry).join(Budget).where(
        BudgetEntry.kind == EntryKind.SPEND,
        Budget.municipality_id == settled.ylivieska.id)).scalar_one()
    db.execute(sa.update(BudgetEntry).where(BudgetEntry.id == entry.id)
               .values(amount_cents=BudgetEntry.amount_cents + 123))
    db.commit()

    differences = find_differences(db)

    by_check = {d.check: d for d in differences}
    row = by_check["spend_entry"]
    assert (row.municipality.name_fi, row.service.code, row.year, row.amount_cents, row.row) == (
        "Ylivieska", "HOME_CARE", 2026, 123, f"budget_entries {entry.id}")
    assert row.describe() == ("Ylivieska, HOME_CARE fi, 2026: spend entry differs from the "
                              f"batch's lines it stands for: 1,23\xa0€ (row: budget_entries "
                              f"{entry.id})")
    assert by_check["ledger_spend"].amount_cents == 123
    assert by_check["batch_payments"].amount_cents == 123
    assert all(d.municipality is None or d.municipality.code == "977" for d in differences)


@pytest.mark.unreconciled
def test_budget_totals_commitment_and_statuses_are_checked(db, settled):
    budget = db.execute(sa.select(Budget).where(
        Budget.municipality_id == settled.nivala.id)).scalar_one()
    db.execute(sa.update(Budget).where(Budget.id == budget.id)
               .values(committed_cents=Budget.committed_cents + 500))
    invoice = db.execute(sa.select(Invoice).order_by(Invoice.id)).scalars().first()
    invoice.client_total_cents += 1
    db.commit()

    checks = {(d.check, d.row, d.amount_cents) for d in find_differences(db)}

    assert ("ledger_commit", f"budgets {budget.id}", -500) in checks
    assert ("invoice_lines", f"invoices {invoice.id} (number {invoice.number})", 0) in checks


@pytest.mark.unreconciled
def test_each_way_an_invoice_can_differ_is_named_and_only_those_invoices_are_read(db, settled):
    first, second = db.execute(sa.select(Invoice).order_by(Invoice.id)).scalars().all()
    open_one = factories.invoice(db, settled.kuura, events(
        db, voucher_for(db, settled, settled.kuura), (4, 100)))
    db.commit()
    loaded = []

    def read(target, _context):
        loaded.append(target.id)

    def differences():  # in a session of its own, which has read no invoice yet
        with sa.orm.Session(db.get_bind()) as fresh:
            return {(d.check, d.row, d.amount_cents) for d in find_differences(fresh)}

    sa.event.listen(Invoice, "load", read)
    try:
        assert differences() == set()
        assert loaded == [], "a reconciled invoice was read into the app"

        first.voucher_total_cents += 7
        first.line_count += 1
        second.payment_id = None  # paid, but by no payment
        open_one.payment_id = first.payment_id  # not paid, yet with a payment
        db.commit()
        assert open_one.status != InvoiceStatus.PAID
        checks = differences()
    finally:
        sa.event.remove(Invoice, "load", read)
    assert checks >= {
        ("invoice_lines", f"invoices {first.id} (number {first.number})", 7),
        ("status", f"invoices {second.id} (number {second.number})",
         second.voucher_total_cents),
        ("status", f"invoices {open_one.id} (number {open_one.number})",
         open_one.voucher_total_cents)}
    assert sorted(set(loaded)) == sorted({first.id, second.id, open_one.id})


@pytest.mark.unreconciled
def test_a_payment_that_differs_from_its_invoices_is_named(db, settled):
    payment = db.execute(sa.select(Payment).order_by(Payment.id)).scalars().first()
    db.execute(sa.update(Payment).where(Payment.id == payment.id).values(
        voucher_share_cents=Payment.voucher_share_cents + 5,
        amount_cents=Payment.amount_cents + 5))
    db.commit()
    checks = {(d.check, d.row, d.amount_cents) for d in find_differences(db)}
    assert ("payment_invoices", f"payments {payment.id}", 5) in checks
    assert [c for c in checks if c[0] == "payment_invoices"] == [
        ("payment_invoices", f"payments {payment.id}", 5)]


def test_the_cli_says_everything_reconciles(app, settled):
    result = app.test_cli_runner().invoke(args=["reconcile", "--from", "2026-01-01",
                                                "--to", "2026-12-31"])
    assert result.exit_code == 0, result.output
    assert "Everything reconciles." in result.output


@pytest.mark.unreconciled
def test_the_cli_exits_non_zero_and_names_the_difference(app, db, settled):
    db.execute(sa.update(Budget).where(Budget.municipality_id == settled.nivala.id)
               .values(spent_cents=Budget.spent_cents - 1000))
    db.commit()
    result = app.test_cli_runner().invoke(args=["reconcile"])
    assert result.exit_code == 1
    assert ("Nivala, HOME_CARE fi, 2026: spend entries differ from the budget's spent total: "
            "10,00\xa0€") in result.output


def test_a_bad_date_is_refused(app):
    result = app.test_cli_runner().invoke(args=["reconcile", "--from", "yesterday"])
    assert result.exit_code == 2 and "is not a date" in result.output

