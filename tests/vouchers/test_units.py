"""Units are taken from the period of the service date and can never be overdrawn."""

import datetime as dt

import pytest

from tests import factories
from tests.concurrency import run_in_parallel
from voucher.vouchers.models import Recurrence, Voucher, VoucherStatus
from voucher.vouchers.units import (
    InsufficientUnits,
    OutsideValidity,
    VoucherNotActive,
    give_back_units,
    take_units,
    units_available,
    units_available_on,
)


def _assigned(db, **kwargs):
    offered = factories.service_type(db)
    seller = factories.provider(db, services={offered: 3900})
    voucher = factories.voucher(db, service=offered, assigned_to=seller, **kwargs)
    db.commit()
    return voucher


def test_taking_units_updates_the_period_and_the_voucher(db):
    voucher = _assigned(db, units=1000)
    period = take_units(db, voucher, dt.date(2026, 11, 20), 250)
    assert (period.units_used, voucher.units_used) == (250, 250)
    assert voucher.status == VoucherStatus.ASSIGNED


def test_last_unit_exhausts_and_giving_back_reopens(db):
    voucher = _assigned(db, units=200)
    period = take_units(db, voucher, dt.date(2026, 11, 20), 200)
    assert voucher.status == VoucherStatus.EXHAUSTED
    give_back_units(db, voucher, period.id, 100)
    assert voucher.status == VoucherStatus.ASSIGNED and voucher.units_used == 100


def test_more_units_than_remain_is_refused(db):
    voucher = _assigned(db, units=200)
    with pytest.raises(InsufficientUnits, match="jäljellä 2, pyydettiin 3"):
        take_units(db, voucher, dt.date(2026, 11, 20), 300)


def test_date_outside_validity_is_refused(db):
    voucher = _assigned(db)
    with pytest.raises(OutsideValidity):
        take_units(db, voucher, dt.date(2027, 1, 1), 100)


def test_voucher_that_is_not_assigned_cannot_be_used(db):
    voucher = factories.voucher(db)
    with pytest.raises(VoucherNotActive):
        take_units(db, voucher, dt.date(2026, 11, 20), 100)


def test_monthly_units_do_not_carry_over(db):
    voucher = _assigned(db, units=800, recurrence=Recurrence.MONTHLY)
    take_units(db, voucher, dt.date(2026, 11, 3), 800)
    with pytest.raises(InsufficientUnits):
        take_units(db, voucher, dt.date(2026, 11, 30), 100)
    take_units(db, voucher, dt.date(2026, 12, 1), 800)
    assert voucher.status == VoucherStatus.EXHAUSTED


@pytest.mark.postgres_only
def test_fifty_parallel_takes_of_one_unit_from_ten(app, db, database_url):
    voucher = _assigned(db, units=1000)
    voucher_id = voucher.id

    def work(session, _i):
        take_units(session, session.get(Voucher, voucher_id), dt.date(2026, 11, 20), 100)

    outcomes = run_in_parallel(database_url, work, 50, app=app)
    assert outcomes == {"ok": 10, "InsufficientUnits": 40}
    db.expire_all()
    assert db.get(Voucher, voucher_id).units_used == 1000


def test_units_available_is_what_take_units_accepts(db):
    """The figure is the most one take may use: that much succeeds, a hundredth more not."""
    voucher = _assigned(db, units=1000, recurrence=Recurrence.MONTHLY)
    day = dt.date(2026, 11, 20)
    take_units(db, voucher, dt.date(2026, 11, 2), 725)
    assert units_available(db, voucher, day) == 275
    assert voucher.units_remaining == 1275
    with pytest.raises(InsufficientUnits, match="jäljellä 2,75, pyydettiin 2,76"):
        take_units(db, voucher, day, 276)
    take_units(db, voucher, day, 275)
    assert units_available(db, voucher, day) == 0
    assert units_available(db, voucher, dt.date(2026, 10, 31)) == 0  # before the validity


def test_units_available_of_many_vouchers_in_one_query(db):
    vouchers = [_assigned(db, units=100 * (i + 1)) for i in range(3)]
    vouchers.append(factories.voucher(db))  # issued, not assigned
    day = dt.date(2026, 11, 20)
    assert units_available_on(db, vouchers, day) == {
        vouchers[0].id: 100, vouchers[1].id: 200, vouchers[2].id: 300, vouchers[3].id: 0}
    assert units_available_on(db, vouchers, dt.date(2026, 11, 25)) == dict.fromkeys(
        (v.id for v in vouchers), 0)  # tomorrow: a service is recorded once delivered
