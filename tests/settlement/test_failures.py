"""A run that fails half-way leaves nothing half-settled, and two runs at once make one batch."""

import threading
import time

import pytest
import sqlalchemy as sa

from tests import factories
from tests.concurrency import run_in_parallel, terminate_backend
from tests.settlement.conftest import events, voucher_for
from voucher.audit.services import Actor
from voucher.budgets.models import Budget, BudgetEntry
from voucher.invoicing.models import Invoice
from voucher.redemptions.models import Redemption
from voucher.settlement import run as settlement_run
from voucher.settlement.models import Payment, PaymentBatch
from voucher.settlement.run import Payer, settle_approved_invoices


def _approved_invoices(db, world, count=3):
    for n in range(count):
        voucher = voucher_for(db, world, world.kuura if n % 2 else world.aurinko)
        factories.invoice(db, voucher.provider, events(db, voucher, (2 + n, 100 + n)))
    db.commit()


def _state(db):
    """Everything a run changes, for before/after comparisons."""
    db.rollback()
    return {
        "batches": db.execute(sa.select(sa.func.count()).select_from(PaymentBatch)).scalar(),
        "payments": db.execute(sa.select(sa.func.count()).select_from(Payment)).scalar(),
        "entries": db.execute(sa.select(sa.func.count()).select_from(BudgetEntry)).scalar(),
        "invoices": sorted(s for (s,) in db.execute(sa.select(Invoice.status))),
        "events": sorted(s for (s,) in db.execute(sa.select(Redemption.status))),
        "budgets": db.execute(sa.select(Budget.committed_cents, Budget.released_cents,
                                        Budget.spent_cents).order_by(Budget.id)).all(),
    }


def _fail_after(monkeypatch, step: str, failure):
    original = getattr(settlement_run, step)

    def failing(session, *args, **kwargs):
        original(session, *args, **kwargs)
        failure(session)

    monkeypatch.setattr(settlement_run, step, failing)


def test_an_error_in_the_middle_changes_nothing_and_the_next_run_completes(
        db, world, settle, monkeypatch):
    _approved_invoices(db, world)
    before = _state(db)

    def boom(_session):
        raise RuntimeError("disk full")

    _fail_after(monkeypatch, "_mark_events_settled", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        settle()
    assert _state(db) == before
    monkeypatch.undo()

    result = settle()

    assert result.batch.payment_count == 2
    after = _state(db)
    assert after["invoices"] == ["paid"] * 3 and after["events"] == ["settled"] * 3


@pytest.mark.postgres_only
def test_a_killed_database_connection_changes_nothing_and_the_next_run_completes(
        db, world, settle, monkeypatch, database_url):
    _approved_invoices(db, world)
    before = _state(db)

    def kill(session):
        terminate_backend(database_url,
                          session.execute(sa.select(sa.func.pg_backend_pid())).scalar())

    _fail_after(monkeypatch, "_record_spending", kill)
    with pytest.raises(sa.exc.OperationalError):
        settle()
    db.rollback()
    assert _state(db) == before
    monkeypatch.undo()

    assert settle().batch.total_cents == 3200 + 3030 + 3264
    assert _state(db)["events"] == ["settled"] * 3


@pytest.mark.postgres_only
def test_two_runs_started_at_the_same_time_make_one_batch(app, db, world, database_url,
                                                          monkeypatch):
    """The first run to get the lock waits inside until the second is seen waiting for it."""
    _approved_invoices(db, world, count=6)
    original = settlement_run.plan_settlement
    first = threading.Lock()

    def plan_while_another_waits(session, **kwargs):
        if first.acquire(blocking=False):
            deadline = time.monotonic() + 20
            while not session.execute(sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND NOT granted")).scalar():
                assert time.monotonic() < deadline, "the second run never waited"
                time.sleep(0.02)
        return original(session, **kwargs)

    monkeypatch.setattr(settlement_run, "plan_settlement", plan_while_another_waits)
    batches = []

    def work(session, _i):
        result = settle_approved_invoices(session, actor=Actor.system("test"),
                                          payer=Payer.from_config(app.config))
        batches.append(result.batch.id if result.batch else None)

    outcomes = run_in_parallel(database_url, work, 2, app=app)

    assert outcomes == {"ok": 2}
    assert sorted(batch is None for batch in batches) == [False, True]
    state = _state(db)
    assert state["batches"] == 1 and state["invoices"] == ["paid"] * 6
