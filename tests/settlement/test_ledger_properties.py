"""Property: whatever the order of issues, service events, voids, invoices and settlement runs,
the ledger holds. Hypothesis draws the sequences; after every step the reconciliation finds
no difference (budgets against their entries, commitment against spending, batches against
payments, invoices against lines and events, self-shares), each voucher's units used are its
events' units, no budget commits more than it has, and a refused step changes nothing.

The examples share one database (the invariants are global, so they must hold however much
earlier examples left behind); each issues its own vouchers."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.settlement.conftest import voucher_for
from voucher.audit.services import Actor
from voucher.budgets.models import Budget, BudgetEntry
from voucher.errors import DomainError
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.invoicing.services import approve_invoice, create_invoice
from voucher.redemptions.corrections import void_redemption
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.settlement.models import Payment, PaymentBatch
from voucher.settlement.reconciliation import find_differences
from voucher.settlement.run import Payer, settle_approved_invoices
from voucher.vouchers.models import Voucher

ACTOR = Actor.system("property")
OCTOBER = dt.date(2026, 10, 1)

issue = st.tuples(st.just("issue"), st.sampled_from(["aurinko", "kuura"]),
                  st.sampled_from(["ylivieska", "nivala"]), st.integers(100, 3000))
#: Each example starts with an issue, so that its other steps have a voucher to act on.
steps = st.tuples(issue, st.lists(st.one_of(
    issue,
    # Mostly October (the month that can be invoiced), now and then November.
    st.tuples(st.just("redeem"), st.integers(0, 9),
              st.one_of(st.integers(0, 30), st.integers(31, 54)), st.integers(25, 900)),
    st.tuples(st.just("void"), st.integers(0, 30)),
    st.tuples(st.just("invoice"), st.integers(0, 9)),
    st.tuples(st.just("approve"), st.integers(0, 9)),
    st.tuples(st.just("settle")),
), min_size=1, max_size=16)).map(lambda first_and_rest: [first_and_rest[0],
                                                          *first_and_rest[1]])


def _money(db) -> tuple:
    """Everything a step may move, to compare before and after a refusal."""
    db.expire_all()
    return (
        db.execute(sa.select(Budget.id, Budget.committed_cents, Budget.released_cents,
                             Budget.spent_cents).order_by(Budget.id)).all(),
        db.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(
            BudgetEntry.amount_cents), 0)).select_from(BudgetEntry)).one(),
        db.execute(sa.select(Voucher.id, Voucher.units_used).order_by(Voucher.id)).all(),
        db.execute(sa.select(Redemption.id, Redemption.status).order_by(Redemption.id)).all(),
        db.execute(sa.select(Invoice.id, Invoice.status).order_by(Invoice.id)).all(),
        db.execute(sa.select(sa.func.count()).select_from(Payment)).scalar_one(),
    )


def _check_ledger(db) -> None:
    db.expire_all()
    assert [d.describe() for d in find_differences(db)] == []
    for voucher in db.execute(sa.select(Voucher)).scalars():
        used = db.execute(sa.select(sa.func.coalesce(sa.func.sum(Redemption.units), 0)).where(
            Redemption.voucher_id == voucher.id,
            Redemption.status != RedemptionStatus.VOID)).scalar_one()
        assert voucher.units_used == used, voucher.code
        assert sum(p.units_used for p in voucher.periods) == used, voucher.code
        assert 0 <= voucher.units_used <= voucher.units_granted
    for budget in db.execute(sa.select(Budget)).scalars():
        assert budget.committed_cents - budget.released_cents <= budget.amount_cents
    for batch in db.execute(sa.select(PaymentBatch)).scalars():
        assert batch.total_cents == sum(p.amount_cents for p in batch.payments)
        assert batch.payment_count == len(batch.payments)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # about a minute alone, more on shared cores
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(sequence=steps)
def test_the_ledger_holds_whatever_the_sequence(app, db, world, sequence):
    payer = Payer.from_config(app.config)
    homes = {"ylivieska": world.ylivieska, "nivala": world.nivala}
    providers = {"aurinko": world.aurinko, "kuura": world.kuura}
    mine: list[Voucher] = []
    take_steps(db, sequence, lambda step: _run(db, step, mine, homes, providers, payer),
               state=_money, check=_check_ledger)


def take_steps(db, sequence, take, *, state, check) -> None:
    """Take each step in a savepoint: a refused one (DomainError) must leave ``state(db)`` as
    it was; after every step, committed, ``check(db)`` must hold. ``take(step)`` is False when
    there was nothing to take the step on."""
    for step in sequence:
        before = state(db)
        savepoint = db.begin_nested()
        try:
            done = take(step)
            savepoint.commit()
            event(f"{step[0]} {'done' if done else 'had nothing to act on'}")
        except DomainError as refused:
            savepoint.rollback()
            event(f"{step[0]} refused: {type(refused).__name__}")
            assert state(db) == before, f"the refused {step} changed something"
        db.commit()
        check(db)


def _run(db, step, mine, homes, providers, payer) -> bool:
    """Take the step; False when there was nothing to take it on (no voucher yet, ...)."""
    kind = step[0]
    if kind == "issue":
        _kind, provider, home, units = step
        mine.append(voucher_for(db, _world_of(db), providers[provider],
                                home=homes[home], valid_from=OCTOBER, units=units * 10,
                                budget_cents=10**11))
        return True
    if kind in ("redeem", "invoice") and not mine:
        return False
    if kind == "redeem":
        return redeem_step(db, step, mine)
    if kind == "void":
        recorded = db.execute(sa.select(Redemption).where(
            Redemption.voucher_id.in_([v.id for v in mine]),
            Redemption.corrects_id.is_(None)).order_by(Redemption.id)).scalars().all()
        if recorded:
            event = recorded[step[1] % len(recorded)]
            void_redemption(db, provider_id=event.provider_id, redemption_id=event.id,
                            actor=ACTOR)
        return bool(recorded)
    if kind == "invoice":  # the provider of one of this example's vouchers
        create_invoice(db, provider_id=mine[step[1] % len(mine)].provider_id, period=OCTOBER,
                       actor=ACTOR)
        return True
    if kind == "approve":
        return approve_step(db, step)
    return settle_approved_invoices(db, actor=ACTOR, payer=payer).batch is not None


def redeem_step(db, step, mine) -> bool:
    """("redeem", which voucher, day of October, units): a service event on it."""
    _kind, which, day, units = step
    factories.service_event(db, mine[which % len(mine)],
                            service_date=OCTOBER + dt.timedelta(days=day), units=units)
    return True


def approve_step(db, step) -> bool:
    """("approve", which): approve one of the invoices waiting, if any."""
    waiting = db.execute(sa.select(Invoice).where(Invoice.status == InvoiceStatus.SUBMITTED)
                         .order_by(Invoice.id)).scalars().all()
    if waiting:
        approve_invoice(db, invoice_id=waiting[step[1] % len(waiting)].id, actor=ACTOR)
    return bool(waiting)


def _world_of(db):
    """``voucher_for`` needs the world's service; every provider here offers home care."""
    from types import SimpleNamespace

    from voucher.catalogue.models import ServiceType

    return SimpleNamespace(home_care=db.execute(
        sa.select(ServiceType).where(ServiceType.code == "HOME_CARE")).scalar_one())
