"""The demo's year of history: settled batches, approved invoices waiting, everything reconciles."""

import sqlalchemy as sa

from voucher.budgets.models import BudgetEntry
from voucher.demo import load_demo
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.settlement.models import BatchStatus, PaymentBatch
from voucher.settlement.reconciliation import find_differences
from voucher.vouchers.models import Voucher, VoucherStatus


def _count(db, model, *where):
    return db.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar()


def test_the_demo_has_a_year_of_settled_history_that_reconciles(demo):
    assert _count(demo, Redemption) > 2000
    batches = demo.execute(sa.select(PaymentBatch).order_by(PaymentBatch.id)).scalars().all()
    assert len(batches) >= 9 and {b.status for b in batches} == {BatchStatus.CONFIRMED}
    assert batches[0].created_at < batches[-1].created_at
    assert _count(demo, Invoice, Invoice.status == InvoiceStatus.APPROVED) >= 2
    assert _count(demo, Redemption, Redemption.status == RedemptionStatus.RECORDED) > 0
    assert _count(demo, BudgetEntry, BudgetEntry.reason == "unused") > 0
    assert _count(demo, Voucher, Voucher.status == VoucherStatus.EXPIRED) > 0
    assert find_differences(demo) == []


def test_loading_the_demo_again_adds_no_history(demo):
    before = [_count(demo, model) for model in (Voucher, Redemption, Invoice, PaymentBatch,
                                                BudgetEntry)]
    assert not any(line.startswith("Demo history") for line in load_demo(demo))
    demo.commit()
    assert [_count(demo, model) for model in (Voucher, Redemption, Invoice, PaymentBatch,
                                              BudgetEntry)] == before
