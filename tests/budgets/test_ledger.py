"""Commitments never overdraw a budget, even when many are made at once."""

import pytest
import sqlalchemy as sa

from tests import factories
from tests.concurrency import run_in_parallel
from voucher.budgets import ledger
from voucher.budgets.models import Budget, BudgetEntry, EntryKind


def _setup(db, amount=10_000):
    home = factories.municipality(db)
    service = factories.service_type(db)
    budget = factories.budget(db, home=home, service=service, amount_cents=amount)
    holder = factories.client(db, home=home)
    vouchers = [factories.voucher(db, holder=holder, service=service, units=100,
                                  unit_value_cents=1) for _ in range(1)]
    db.commit()
    return budget, vouchers[0]


def test_commit_within_budget_moves_totals_and_writes_an_entry(db):
    budget, voucher = _setup(db)
    before = budget.committed_cents
    ledger.commit(db, budget, 2500, voucher_id=voucher.id)
    assert budget.committed_cents == before + 2500
    entry = db.execute(sa.select(BudgetEntry).order_by(BudgetEntry.id.desc())).scalars().first()
    assert (entry.kind, entry.amount_cents, entry.voucher_id) == (EntryKind.COMMIT, 2500,
                                                                  voucher.id)


def test_commit_beyond_the_budget_is_refused_with_figures_and_changes_nothing(db):
    budget, voucher = _setup(db, amount=10_000)
    free = budget.free_cents
    with pytest.raises(ledger.BudgetExceeded) as refused:
        ledger.commit(db, budget, free + 1, voucher_id=voucher.id)
    text = str(refused.value)
    assert "2026" in text and "Ylivieska" in text
    db.rollback()
    db.refresh(budget)
    assert budget.free_cents == free


def test_release_cannot_go_below_what_is_spent(db):
    budget, voucher = _setup(db)
    ledger.commit(db, budget, 5000, voucher_id=voucher.id)
    db.execute(sa.update(Budget).where(Budget.id == budget.id)
               .values(spent_cents=Budget.committed_cents - 1000))
    db.refresh(budget)
    with pytest.raises(ledger.ReleaseExceedsCommitment):
        ledger.release(db, budget, 1001, voucher_id=voucher.id, reason="cancelled")
    ledger.release(db, budget, 1000, voucher_id=voucher.id, reason="cancelled")
    assert budget.open_commitment_cents == budget.spent_cents


def test_open_commitment_by_budget_nets_releases(db):
    budget, voucher = _setup(db)
    already = ledger.open_commitment_by_budget(db, voucher.id)[budget.id]
    ledger.commit(db, budget, 3000, voucher_id=voucher.id)
    ledger.release(db, budget, 1000, voucher_id=voucher.id, reason="cancelled")
    assert ledger.open_commitment_by_budget(db, voucher.id) == {budget.id: already + 2000}


@pytest.mark.postgres_only
def test_twenty_parallel_commits_against_room_for_ten(app, db, database_url):
    budget, voucher = _setup(db, amount=10_000)
    room = budget.free_cents
    each = room // 10
    budget_id, voucher_id = budget.id, voucher.id

    def work(session, _i):
        ledger.commit(session, session.get(Budget, budget_id), each, voucher_id=voucher_id)

    outcomes = run_in_parallel(database_url, work, 20, app=app)
    assert outcomes == {"ok": 10, "BudgetExceeded": 10}
    db.expire_all()
    assert db.get(Budget, budget_id).free_cents == room - 10 * each
