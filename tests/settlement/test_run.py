"""The settlement run: spending, payments, statuses, idempotency, and what waits."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.settlement.conftest import events, voucher_for
from voucher import clock
from voucher.audit.models import AuditEvent
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.settlement.models import PaymentBatch
from voucher.settlement.reconciliation import find_differences
from voucher.settlement.sepa import validate_payment_file
from voucher.vouchers.models import VoucherStatus
from voucher.vouchers.units import give_back_units


def _budget(db, home, service, year=2026):
    return db.execute(sa.select(Budget).where(
        Budget.municipality_id == home.id, Budget.service_type_id == service.id,
        Budget.year == year)).scalar_one()


def test_settles_approved_invoices_into_spending_and_one_payment_per_provider(db, world, settle):
    ylivieska_voucher = voucher_for(db, world, world.aurinko)
    nivala_voucher = voucher_for(db, world, world.aurinko, home=world.nivala)
    kuura_voucher = voucher_for(db, world, world.kuura)
    first = factories.invoice(db, world.aurinko, events(db, ylivieska_voucher, (2, 150), (9, 200)))
    second = factories.invoice(db, world.aurinko, events(db, nivala_voucher, (3, 100)))
    third = factories.invoice(db, world.kuura, events(db, kuura_voucher, (4, 250)))

    result = settle()

    batch = result.batch
    assert result.held == []
    # Aurinko's 39 € price is above the 32 € value: the voucher pays 32 €/h.
    assert [(p.provider_id, p.amount_cents, p.voucher_share_cents) for p in batch.payments] == [
        (world.aurinko.id, 11200 + 3200, 11200 + 3200), (world.kuura.id, 7500, 7500)]
    aurinko, kuura = batch.payments
    assert (aurinko.iban, aurinko.bic, aurinko.reference) == ("FI2112345600000785", "NDEAFIHH",
                                                             None)
    assert aurinko.remittance_info == f"Laskut/Fakturor {first.number}-{second.number}"
    assert (kuura.reference, kuura.remittance_info) == (third.reference,
                                                        f"Lasku/Faktura {third.number}")
    assert batch.total_cents == 11200 + 3200 + 7500 and batch.payment_count == 2
    spend = {(e.budget.municipality_id, e.budget.year): e.amount_cents
             for e in db.execute(sa.select(BudgetEntry).where(
                 BudgetEntry.kind == EntryKind.SPEND)).scalars()}
    assert spend == {(world.ylivieska.id, 2026): 11200 + 7500, (world.nivala.id, 2026): 3200}
    assert _budget(db, world.ylivieska, world.home_care).spent_cents == 18700
    assert _budget(db, world.nivala, world.home_care).spent_cents == 3200
    db.expire_all()
    assert {i.status for i in db.execute(sa.select(Invoice)).scalars()} == {InvoiceStatus.PAID}
    assert {r.status for r in db.execute(sa.select(Redemption)).scalars()} == {
        RedemptionStatus.SETTLED}
    assert db.get(Invoice, first.id).payment_id == aurinko.id
    validate_payment_file(batch.sepa_xml)
    assert find_differences(db) == []
    actions = [a for (a,) in db.execute(sa.select(AuditEvent.action))]
    assert actions.count("payment.created") == 2 and actions.count("settlement.run") == 1


def test_running_twice_settles_nothing_twice(db, world, settle):
    voucher = voucher_for(db, world, world.aurinko)
    factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)))
    assert settle().batch is not None
    spent = _budget(db, world.ylivieska, world.home_care).spent_cents

    again = settle()

    assert again.batch is None and again.held == []
    assert db.execute(sa.select(sa.func.count()).select_from(PaymentBatch)).scalar() == 1
    assert _budget(db, world.ylivieska, world.home_care).spent_cents == spent == 3200


def test_up_to_takes_only_invoices_approved_by_that_date(db, world, settle):
    voucher = voucher_for(db, world, world.aurinko)
    early = factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)),
                              approved_at=dt.datetime(2026, 11, 10, 10, tzinfo=dt.UTC))
    late = factories.invoice(db, world.aurinko, events(db, voucher, (12, 100)),
                             approved_at=dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC))

    batch = settle(up_to=dt.date(2026, 11, 15)).batch

    assert batch.up_to == dt.date(2026, 11, 15)
    assert [i.id for i in db.execute(sa.select(Invoice).where(
        Invoice.status == InvoiceStatus.PAID)).scalars()] == [early.id]
    assert db.get(Invoice, late.id).status == InvoiceStatus.APPROVED
    assert settle().batch.total_cents == 3200


def test_invoices_not_approved_are_left_alone(db, world, settle):
    voucher = voucher_for(db, world, world.aurinko)
    factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)),
                      status=InvoiceStatus.SUBMITTED)
    assert settle().batch is None


def test_a_voucher_crossing_the_new_year_moves_commitment_to_the_year_it_was_used(
        db, world, settle):
    """Committed 5 h to 2026 and 5 h to 2027 (by days); 8 h used in December 2026."""
    voucher = voucher_for(db, world, world.aurinko, units=1000,
                          valid_from=dt.date(2026, 12, 1), valid_until=dt.date(2027, 1, 31))
    event = factories.redemption(db, voucher, day=dt.date(2026, 12, 5), units=800)
    factories.invoice(db, world.aurinko, [event])
    this_year = _budget(db, world.ylivieska, world.home_care, 2026)
    next_year = _budget(db, world.ylivieska, world.home_care, 2027)
    assert (this_year.committed_cents, next_year.committed_cents) == (16000, 16000)

    batch = settle().batch

    moves = db.execute(sa.select(BudgetEntry.kind, BudgetEntry.budget_id, BudgetEntry.amount_cents)
                       .where(BudgetEntry.reason == "year_transfer")
                       .order_by(BudgetEntry.id)).all()
    assert moves == [(EntryKind.RELEASE, next_year.id, 9600), (EntryKind.COMMIT, this_year.id,
                                                               9600)]
    assert this_year.spent_cents == 25600 == this_year.committed_cents
    assert next_year.committed_cents - next_year.released_cents == 6400
    assert db.execute(sa.select(sa.func.count()).select_from(BudgetEntry).where(
        BudgetEntry.payment_batch_id == batch.id)).scalar() == 3  # two moves and the spend


def test_spending_no_commitment_can_cover_is_held_and_reported(db, world, settle):
    """The 2026 budget is full, so the 2027 commitment cannot move into it: that invoice waits,
    the provider's other invoice is paid."""
    crossing = voucher_for(db, world, world.aurinko, units=1000, budget_cents=16000,
                           valid_from=dt.date(2026, 12, 1), valid_until=dt.date(2027, 1, 31))
    held = factories.invoice(db, world.aurinko, [factories.redemption(
        db, crossing, day=dt.date(2026, 12, 5), units=800)])
    kuura_voucher = voucher_for(db, world, world.kuura, home=world.nivala)
    paid = factories.invoice(db, world.kuura, events(db, kuura_voucher, (2, 100)))

    result = settle()

    assert [(h.invoice_id, h.reason) for h in result.held] == [(held.id, "commitment_short")]
    assert "96,00" in result.held[0].message() and crossing.code in result.held[0].message()
    assert result.batch.held_invoices[0]["invoice_id"] == held.id
    assert db.get(Invoice, held.id).status == InvoiceStatus.APPROVED
    assert db.get(Invoice, paid.id).status == InvoiceStatus.PAID
    assert db.execute(sa.select(sa.func.count()).where(
        BudgetEntry.reason == "year_transfer")).scalar() == 0


def test_cents_lost_to_rounding_each_event_are_committed_from_the_budget(db, world, settle):
    """1.5 h at 33.33 € rounds to 50.00 € (49.995) three times: 150.00 € for 4.5 h that
    committed 149.99 €."""
    voucher = voucher_for(db, world, world.aurinko, units=450, unit_value_cents=3333)
    invoice = factories.invoice(db, world.aurinko, events(db, voucher, (2, 150), (3, 150),
                                                          (4, 150), price=3333))
    settle()
    assert db.get(Invoice, invoice.id).status == InvoiceStatus.PAID
    top_up = db.execute(sa.select(BudgetEntry).where(BudgetEntry.reason == "rounding")).scalar_one()
    assert (top_up.kind, top_up.amount_cents, top_up.voucher_id) == (EntryKind.COMMIT, 1,
                                                                     voucher.id)


def test_unused_commitment_of_an_exhausted_voucher_is_released(db, world, settle):
    """Kuura's 30 € price is below the 32 € value: 10 h used cost 300 €, 320 € was committed."""
    voucher = voucher_for(db, world, world.kuura, units=1000)
    factories.invoice(db, world.kuura, events(db, voucher, (2, 600), (9, 400)))
    assert voucher.status == VoucherStatus.EXHAUSTED
    active = voucher_for(db, world, world.kuura, units=1000)
    factories.invoice(db, world.kuura, events(db, active, (3, 100)))

    result = settle()

    release = db.execute(sa.select(BudgetEntry).where(BudgetEntry.reason == "unused")).scalar_one()
    assert (release.voucher_id, release.amount_cents) == (voucher.id, 2000)
    assert release.payment_batch_id == result.batch.id and result.released_cents == 2000
    budget = _budget(db, world.ylivieska, world.home_care)
    assert budget.released_cents == 2000
    assert budget.committed_cents - budget.released_cents == 30000 + 32000


def test_closed_voucher_keeps_its_commitment_while_events_wait(db, world, settle):
    voucher = voucher_for(db, world, world.kuura, units=1000)
    factories.invoice(db, world.kuura, events(db, voucher, (2, 500)))
    factories.redemption(db, voucher, day=dt.date(2026, 11, 9), units=100)  # not invoiced yet
    voucher.status = VoucherStatus.EXPIRED
    settle()
    assert db.execute(sa.select(BudgetEntry).where(BudgetEntry.reason == "unused")).all() == []


def test_a_cancelled_voucher_without_events_left_is_released_by_the_next_run(db, world, settle):
    used = voucher_for(db, world, world.kuura, units=1000)
    factories.invoice(db, world.kuura, events(db, used, (2, 100)))
    settle()
    used.status = VoucherStatus.CANCELLED
    used.cancelled_at = clock.now()
    other = voucher_for(db, world, world.kuura)
    factories.invoice(db, world.kuura, events(db, other, (3, 100)))

    settle()

    release = db.execute(sa.select(BudgetEntry).where(BudgetEntry.reason == "unused")).scalar_one()
    assert (release.voucher_id, release.amount_cents) == (used.id, 32000 - 3000)


def test_corrections_reduce_spending_and_a_credit_only_provider_waits(db, world, settle):
    voucher = voucher_for(db, world, world.aurinko)
    original = events(db, voucher, (2, 200))[0]
    factories.invoice(db, world.aurinko, [original])
    settle()
    nivala_voucher = voucher_for(db, world, world.aurinko, home=world.nivala)
    correction = factories.redemption(db, voucher, corrects=original)
    credit = factories.invoice(db, world.aurinko, [correction])

    result = settle()

    assert result.batch is None
    assert [(h.invoice_id, h.reason) for h in result.held] == [(credit.id, "credit_exceeds")]
    assert "-64,00" in result.held[0].message()
    factories.invoice(db, world.aurinko, events(db, nivala_voucher, (10, 300)))

    batch = settle().batch

    assert [p.amount_cents for p in batch.payments] == [9600 - 6400]
    spend = dict(db.execute(sa.select(Budget.municipality_id, BudgetEntry.amount_cents)
                            .join(Budget).where(BudgetEntry.payment_batch_id == batch.id,
                                                BudgetEntry.kind == EntryKind.SPEND)).all())
    assert spend == {world.ylivieska.id: -6400, world.nivala.id: 9600}
    assert _budget(db, world.ylivieska, world.home_care).spent_cents == 0


def test_an_invalid_bank_account_holds_the_invoice(db, world, settle):
    voucher = voucher_for(db, world, world.aurinko)
    factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)))
    world.aurinko.iban = "FI2112345600000786"  # written before IBANs were checked
    result = settle()
    assert result.batch is None
    assert result.held[0].reason == "invalid_account"
    assert "FI2112345600000786" in result.held[0].message()


@pytest.mark.unreconciled
def test_an_invoice_whose_totals_do_not_add_up_is_held(db, world, settle):
    voucher = voucher_for(db, world, world.aurinko)
    bad = factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)))
    bad.voucher_total_cents += 1
    assert settle().held[0].reason == "totals_differ"


def test_a_closed_voucher_whose_last_event_was_voided_is_released_by_the_next_run(
        db, world, settle):
    voucher = voucher_for(db, world, world.kuura, units=1000)
    factories.invoice(db, world.kuura, events(db, voucher, (2, 300)))
    waiting = factories.redemption(db, voucher, day=dt.date(2026, 11, 9), units=100)
    voucher.status = VoucherStatus.EXPIRED
    voucher.closed_at = clock.now()
    settle()
    assert db.execute(sa.select(BudgetEntry).where(BudgetEntry.reason == "unused")).all() == []
    clock.freeze(dt.datetime(2026, 11, 26, 12, tzinfo=clock.HELSINKI))
    waiting.status = RedemptionStatus.VOID
    waiting.voided_at = clock.now()
    give_back_units(db, voucher, waiting.voucher_period_id, waiting.units)
    other = voucher_for(db, world, world.kuura)
    factories.invoice(db, world.kuura, events(db, other, (10, 100)))

    settle()

    release = db.execute(sa.select(BudgetEntry).where(BudgetEntry.reason == "unused")).scalar_one()
    assert (release.voucher_id, release.amount_cents) == (voucher.id, 32000 - 9000)
