"""Reminders before a voucher ends and when a month's units are nearly used: to whom, when,
and each only once."""

import datetime as dt

import sqlalchemy as sa

from tests import factories
from voucher import clock
from voucher.mail.models import OutboxMessage
from voucher.vouchers import lifecycle
from voucher.vouchers.models import Recurrence
from voucher.vouchers.reminders import send_reminders
from voucher.vouchers.units import take_units

D = dt.date


def _mails(db) -> list[tuple[str, str]]:
    db.commit()
    return [(m.template, m.to_address) for m in db.execute(
        sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars()]


def _voucher(db, world, **kwargs):
    return factories.voucher(db, holder=world.client, service=world.fixed,
                             unit_value_cents=2500, creator=world.case_manager, **kwargs)


def test_a_voucher_ending_within_the_days_is_reminded_once(db, world):
    today = clock.today()
    soon = _voucher(db, world, valid_from=D(2026, 11, 1), valid_until=today + dt.timedelta(20))
    _voucher(db, world, valid_from=D(2026, 11, 1), valid_until=today + dt.timedelta(40))
    gone = _voucher(db, world, valid_from=D(2026, 11, 1), valid_until=today + dt.timedelta(10))
    lifecycle.cancel_voucher(db, gone, reason="Asiakas muutti.",
                             actor=world.actor(world.case_manager))
    db.commit()
    db.execute(sa.delete(OutboxMessage))
    report = send_reminders(db, days_before_end=30)
    assert (report.ending, report.nearly_used) == (1, 0)
    assert _mails(db) == [("vouchers/ending", world.client.email),
                          ("vouchers/ending_case_manager", world.case_manager.email)]
    body = db.execute(sa.select(OutboxMessage.body_text).where(
        OutboxMessage.template == "vouchers/ending")).scalar_one()
    assert f"{soon.valid_until.day}.{soon.valid_until.month}.{soon.valid_until.year}" in body
    assert "20 päivän" in body or "20 päivä" in body
    assert send_reminders(db, days_before_end=30).ending == 0
    assert len(_mails(db)) == 2


def test_a_month_nearly_used_is_reminded_once_a_month(db, world):
    voucher = _voucher(db, world, recurrence=Recurrence.MONTHLY, units=1000,
                       assigned_to=world.provider,
                       valid_from=D(2026, 11, 1), valid_until=D(2027, 2, 28))
    take_units(db, voucher, D(2026, 11, 10), 700)
    db.commit()
    db.execute(sa.delete(OutboxMessage))
    assert send_reminders(db, days_before_end=30, today=D(2026, 11, 20)).nearly_used == 0
    take_units(db, voucher, D(2026, 11, 12), 100)  # 8 of 10 hours: 80 %
    assert send_reminders(db, days_before_end=30, today=D(2026, 11, 20)).nearly_used == 1
    assert send_reminders(db, days_before_end=30, today=D(2026, 11, 21)).nearly_used == 0
    body = db.execute(sa.select(OutboxMessage.body_text).where(
        OutboxMessage.template == "vouchers/nearly_used")).scalar_one()
    assert "2 " in body and "10 " in body
    take_units(db, voucher, D(2026, 12, 2), 900)
    with clock.frozen_at(D(2026, 12, 3)):
        assert send_reminders(db, days_before_end=30, today=D(2026, 12, 3)).nearly_used == 1


def test_the_command_sends_the_reminders(app, db, world):
    _voucher(db, world, valid_from=D(2026, 11, 1), valid_until=clock.today() + dt.timedelta(5))
    db.commit()
    result = app.test_cli_runner().invoke(args=["vouchers", "remind"])
    assert result.exit_code == 0, result.output
    assert "reminded of 1 vouchers ending" in result.output
