"""Cancellation, expiry and used-up vouchers: what is released, per budget year, to the cent."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from voucher import clock
from voucher.budgets.ledger import open_commitment_by_budget
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.errors import ValidationFailed
from voucher.redemptions.models import RedemptionStatus
from voucher.vouchers import lifecycle
from voucher.vouchers.models import AssignmentStatus, VoucherAssignment, VoucherStatus
from voucher.vouchers.states import InvalidTransition

D = dt.date


def _budget(db, world, code, year) -> Budget:
    db.expire_all()
    return db.get(Budget, world.budgets[(code, year)].id)


def _assigned(db, world, **kwargs):
    return factories.voucher(db, holder=world.client, service=world.fixed,
                             assigned_to=world.provider, unit_value_cents=2500, **kwargs)


def test_cancellation_releases_what_the_service_events_do_not_need(db, world):
    voucher = _assigned(db, world, units=1000)  # 10 h × 25 € = 250 €
    factories.redemption(db, voucher, day=D(2026, 11, 10), units=350)  # 3,5 h: voucher 87,50
    void = factories.redemption(db, voucher, day=D(2026, 11, 12), units=100)
    void.status = RedemptionStatus.VOID  # a voided event needs nothing
    released = lifecycle.cancel_voucher(db, voucher, reason="Asiakas muutti pois.",
                                        actor=world.actor(world.case_manager))
    db.commit()
    assert released == 16_250
    assert voucher.status == VoucherStatus.CANCELLED and voucher.cancel_reason
    budget = _budget(db, world, "CLEANING", 2026)
    assert (budget.committed_cents, budget.released_cents) == (25_000, 16_250)
    assignment = db.execute(sa.select(VoucherAssignment)).scalar_one()
    assert assignment.status == AssignmentStatus.ENDED


def test_cancellation_needs_a_reason_and_an_open_voucher(db, world):
    voucher = _assigned(db, world)
    with pytest.raises(ValidationFailed):
        lifecycle.cancel_voucher(db, voucher, reason=" ", actor=world.actor(world.case_manager))
    voucher.status = VoucherStatus.EXPIRED
    with pytest.raises(InvalidTransition):
        lifecycle.cancel_voucher(db, voucher, reason="Väärä päätös.",
                                 actor=world.actor(world.case_manager))


def test_release_is_per_budget_year(db, world):
    voucher = _assigned(db, world, units=400, recurrence=factories.Recurrence.MONTHLY,
                        valid_from=D(2026, 12, 1), valid_until=D(2027, 2, 28))
    factories.redemption(db, voucher, day=D(2026, 12, 3), units=400)  # December used up
    factories.redemption(db, voucher, day=D(2027, 1, 5), units=100)
    lifecycle.cancel_voucher(db, voucher, reason="Tarve päättyi.",
                             actor=world.actor(world.case_manager))
    db.commit()
    assert _budget(db, world, "CLEANING", 2026).released_cents == 0
    # 2027: 8 h × 25 € committed, 1 h used → 175 € released
    assert _budget(db, world, "CLEANING", 2027).released_cents == 17_500


def test_a_year_that_used_more_than_its_share_keeps_the_shortfall_committed(db, world):
    # A total voucher of 10 h over Dec 2026 – Jan 2027 commits about half to each year, but
    # the client used 8 h in December: 2027 keeps what December overran.
    voucher = _assigned(db, world, units=1000, valid_from=D(2026, 12, 1),
                        valid_until=D(2027, 1, 31))
    shares = {db.get(Budget, budget_id).year: cents for budget_id, cents
              in open_commitment_by_budget(db, voucher.id).items()}
    factories.redemption(db, voucher, day=D(2026, 12, 20), units=800)  # 200 € in 2026
    unused = {b.year: c for b, c in lifecycle.unused_by_budget(db, voucher).items()}
    assert sum(unused.values()) == 25_000 - 20_000
    assert unused.get(2026, 0) == 0
    assert unused[2027] == shares[2027] - (20_000 - shares[2026])


def test_expiry_command_expires_after_the_grace_and_releases_once(app, db, world):
    voucher = _assigned(db, world, units=400, valid_from=D(2026, 12, 1),
                        valid_until=D(2026, 12, 31))
    factories.redemption(db, voucher, day=D(2026, 12, 15), units=125)  # 31,25 €
    pending = factories.voucher(db, holder=world.client, service=world.fixed,
                                status=VoucherStatus.PENDING_APPROVAL,
                                valid_until=D(2026, 12, 31))
    db.commit()
    runner = app.test_cli_runner()
    clock.freeze(D(2027, 1, 10))
    result = runner.invoke(args=["vouchers", "expire"])
    assert result.exit_code == 0 and "expired 0" in result.output
    clock.freeze(D(2027, 1, 15))
    result = runner.invoke(args=["vouchers", "expire"])
    assert result.exit_code == 0, result.output
    assert "expired 2" in result.output
    db.expire_all()
    assert db.get(type(voucher), voucher.id).status == VoucherStatus.EXPIRED
    assert db.get(type(pending), pending.id).status == VoucherStatus.EXPIRED
    releases = db.execute(sa.select(BudgetEntry.amount_cents).where(
        BudgetEntry.kind == EntryKind.RELEASE)).scalars().all()
    assert releases == [6_875]
    assert "expired 0" in runner.invoke(args=["vouchers", "expire"]).output


def test_a_used_up_voucher_releases_its_leftover_after_the_validity(app, db, world):
    # Price 24 € is below the 25 € value: using every unit still leaves 1 € an hour unused.
    voucher = _assigned(db, world, units=400, valid_from=D(2026, 11, 1),
                        valid_until=D(2026, 11, 30))
    factories.redemption(db, voucher, day=D(2026, 11, 20), units=400, price_cents=2400)
    db.commit()
    assert voucher.status == VoucherStatus.EXHAUSTED
    report = lifecycle.expire_vouchers(db, today=D(2026, 11, 25))
    assert report.released_cents == 0  # the validity has not ended
    report = lifecycle.expire_vouchers(db, today=D(2026, 12, 1))
    db.commit()
    assert report.released_cents == 400 and report.expired == 0
    assert voucher.status == VoucherStatus.EXHAUSTED
    assert lifecycle.expire_vouchers(db, today=D(2026, 12, 2)).released_cents == 0


def _used_up(db, world):
    """A voucher that used every unit at 24 €, below its 25 € value: 4 € of it is left over."""
    voucher = _assigned(db, world, units=400, valid_from=D(2026, 11, 1),
                        valid_until=D(2026, 11, 30))
    factories.redemption(db, voucher, day=D(2026, 11, 20), units=400, price_cents=2400)
    return voucher


@pytest.mark.postgres_only
def test_two_expiry_runs_at_once_release_each_leftover_once(app, db, world, database_url):
    from tests.concurrency import run_in_parallel

    vouchers = [_used_up(db, world) for _ in range(3)]
    db.commit()
    assert {v.status for v in vouchers} == {VoucherStatus.EXHAUSTED}

    outcomes = run_in_parallel(database_url, lambda session, _i: lifecycle.expire_vouchers(
        session, today=D(2026, 12, 1)), 2, app=app)

    assert outcomes == {"ok": 2}
    releases = db.execute(sa.select(BudgetEntry.voucher_id, BudgetEntry.amount_cents).where(
        BudgetEntry.kind == EntryKind.RELEASE).order_by(BudgetEntry.voucher_id)).all()
    assert releases == [(v.id, 400) for v in vouchers]


@pytest.mark.postgres_only
def test_two_expiry_runs_at_once_both_succeed_and_expire_once(app, db, world, database_url):
    from tests.concurrency import run_in_parallel

    used_up = _used_up(db, world)
    ended = _assigned(db, world, units=400, valid_from=D(2026, 11, 1),
                      valid_until=D(2026, 11, 30))
    factories.redemption(db, ended, day=D(2026, 11, 15), units=125)  # 31,25 € of 100 €
    db.commit()

    outcomes = run_in_parallel(database_url, lambda session, _i: lifecycle.expire_vouchers(
        session, today=D(2026, 12, 1)), 2, app=app)

    assert outcomes == {"ok": 2}
    db.expire_all()
    assert db.get(type(ended), ended.id).status == VoucherStatus.EXPIRED
    releases = db.execute(sa.select(BudgetEntry.voucher_id, BudgetEntry.amount_cents).where(
        BudgetEntry.kind == EntryKind.RELEASE).order_by(BudgetEntry.voucher_id)).all()
    assert releases == [(used_up.id, 400), (ended.id, 6_875)]
