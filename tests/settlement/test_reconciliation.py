"""Reconciliation names every difference; the CLI exits non-zero on one."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.settlement.conftest import events, voucher_for
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.invoicing.models import Invoice
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

