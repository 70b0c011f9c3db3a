"""flask --app voucher settlement run [--up-to DATE]: the same run as the admin page."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.settlement.conftest import events, voucher_for
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.settlement.models import PaymentBatch


def test_the_cli_runs_settlement_up_to_a_date(app, db, world):
    voucher = voucher_for(db, world, world.aurinko)
    factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)),
                      approved_at=dt.datetime(2026, 11, 10, 10, tzinfo=dt.UTC))
    late = factories.invoice(db, world.aurinko, events(db, voucher, (20, 100)))
    db.commit()

    result = app.test_cli_runner().invoke(args=["settlement", "run", "--up-to", "2026-11-15"])

    assert result.exit_code == 0, result.output
    assert "1 payments, €32.00" in result.output
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(PaymentBatch)).scalar() == 1
    assert db.get(Invoice, late.id).status == InvoiceStatus.APPROVED
    again = app.test_cli_runner().invoke(args=["settlement", "run", "--up-to", "2026-11-15"])
    assert again.exit_code == 0 and "Nothing to pay." in again.output


def test_the_cli_reports_invoices_that_wait(app, db, world):
    voucher = voucher_for(db, world, world.aurinko)
    invoice = factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)))
    world.aurinko.iban = "FI0000000000000000"  # written before IBANs were checked
    db.commit()
    result = app.test_cli_runner().invoke(args=["settlement", "run"])
    assert result.exit_code == 0
    assert f"waits: invoice {invoice.number}" in result.output
    assert "is not valid" in result.output and "Nothing to pay." in result.output


@pytest.mark.postgres_only
def test_two_settlement_runs_at_once_make_one_batch(app, db, world, capsys):
    from tests.concurrency import run_commands_at_once

    for provider in (world.aurinko, world.kuura):
        voucher = voucher_for(db, world, provider)
        factories.invoice(db, provider, events(db, voucher, (2, 100)))
    db.commit()
    capsys.readouterr()

    codes = run_commands_at_once(app, ["settlement", "run"])

    output = capsys.readouterr().out
    assert set(codes) == {None}, output
    assert output.count("Payment batch 1: 2 payments") == 1, output
    # The other run either skipped (it started while the first held the lock) or came after
    # it and found nothing left to pay.
    assert ("settlement run: skipped, another run holds the lock" in output
            or "Nothing to pay." in output), output
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(PaymentBatch)).scalar() == 1
    assert {i.status for i in db.execute(sa.select(Invoice)).scalars()} == {InvoiceStatus.PAID}
