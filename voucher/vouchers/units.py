"""Taking units from a voucher and giving them back, safely under concurrency.

Units are taken from the period that contains the service date with one conditional UPDATE
(``units_used + n <= units_granted``); the row stays locked until the transaction ends, and a
concurrent UPDATE re-checks the condition against the committed row, so parallel recordings can
never take more units than the voucher has. The voucher's own total is updated the same way,
periods first and voucher second, always in that order.

``units_available`` answers, without taking anything, the most that one recording on a date
could take now: the same rule, written next to it, so that what the API shows as
``units_available`` is exactly what a recording gets (and what ``InsufficientUnits`` says).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from voucher import clock
from voucher.errors import DomainError
from voucher.labels import label
from voucher.money import UNIT_SCALE, format_units
from voucher.vouchers.models import Voucher, VoucherPeriod, VoucherStatus


class VoucherNotActive(DomainError):
    code = "voucher_not_active"
    status = 409
    message = _l("The voucher cannot be used: it is %(state)s.")


class OutsideValidity(VoucherNotActive):
    message = _l("The service date %(day)s is outside the voucher's validity %(valid_from)s – "
                 "%(valid_until)s.")


class InsufficientUnits(DomainError):
    """More units were asked than one recording may take on that date; ``remaining`` is that
    most (``units_available`` for the date, as the API shows it)."""

    code = "insufficient_units"
    status = 409
    message = _l("Not enough units left: %(remaining)s remain for this date, %(requested)s "
                 "were asked.")


def period_for(session: Session, voucher_id: int, day: dt.date) -> VoucherPeriod | None:
    return session.execute(
        sa.select(VoucherPeriod).where(VoucherPeriod.voucher_id == voucher_id,
                                       VoucherPeriod.starts_on <= day,
                                       VoucherPeriod.ends_on >= day)
    ).scalar_one_or_none()


def may_record_on(voucher: Voucher, day: dt.date) -> bool:
    """Whether a service event dated ``day`` can be recorded on the voucher now at all, as
    ``record_redemption`` decides it: the voucher is assigned (an exhausted one has no units; an
    issued, expired or cancelled one is not in a provider's use), the day is inside its
    validity, and the day is not in the future (a service is recorded once delivered)."""
    return (voucher.status == VoucherStatus.ASSIGNED
            and voucher.valid_from <= day <= voucher.valid_until
            and day <= clock.today())


def recordable_units(voucher: Voucher, period: VoucherPeriod) -> int:
    """The most (hundredths) that one recording may take from ``period`` of ``voucher``:
    what is left of the period (a monthly allotment), never more than the voucher has left,
    in whole units for a service that is not divisible."""
    units = max(0, min(voucher.units_remaining, period.units_remaining))
    if not voucher.service_type.fractional_units:
        units -= units % UNIT_SCALE
    return units


def units_available_on(session: Session, vouchers: Iterable[Voucher],
                       day: dt.date) -> dict[int, int]:
    """``units_available`` of many vouchers (by id) with one query for their periods: 0 for
    those on which nothing can be recorded on ``day`` (see ``may_record_on``)."""
    vouchers = list(vouchers)
    usable = {v.id: v for v in vouchers if may_record_on(v, day)}
    available = dict.fromkeys((v.id for v in vouchers), 0)
    if usable:
        periods = session.execute(
            sa.select(VoucherPeriod).where(VoucherPeriod.voucher_id.in_(usable),
                                           VoucherPeriod.starts_on <= day,
                                           VoucherPeriod.ends_on >= day)
        ).scalars()
        for period in periods:
            available[period.voucher_id] = recordable_units(usable[period.voucher_id], period)
    return available


def units_available(session: Session, voucher: Voucher, day: dt.date) -> int:
    """The most (hundredths) that one service event dated ``day`` may still record on the
    voucher: the units left, limited by what is left of the period (month) containing ``day``;
    0 when nothing can be recorded for that day (not assigned, outside the validity, a future
    day). ``take_units`` enforces the same figure, and ``InsufficientUnits`` reports it."""
    return units_available_on(session, [voucher], day)[voucher.id]


@functools.cache
def _take_from_period() -> sa.Update:
    """The conditional UPDATE of the period that contains the day (built once)."""
    day = sa.bindparam("day", type_=sa.Date())
    units = sa.bindparam("units_taken", type_=sa.BigInteger())
    return (sa.update(VoucherPeriod)
            .where(VoucherPeriod.voucher_id == sa.bindparam("the_voucher"),
                   VoucherPeriod.starts_on <= day, VoucherPeriod.ends_on >= day,
                   VoucherPeriod.units_used + units <= VoucherPeriod.units_granted)
            .values(units_used=VoucherPeriod.units_used + units)
            .returning(VoucherPeriod)
            .execution_options(synchronize_session=False, populate_existing=True))


@functools.cache
def _take_from_voucher() -> sa.Update:
    """The voucher's total, only while it is assigned (built once)."""
    units = sa.bindparam("units_taken", type_=sa.BigInteger())
    return (sa.update(Voucher)
            .where(Voucher.id == sa.bindparam("the_voucher"),
                   Voucher.status == VoucherStatus.ASSIGNED)
            .values(units_used=Voucher.units_used + units)
            .returning(Voucher.units_used)
            .execution_options(synchronize_session=False))


def take_units(session: Session, voucher: Voucher, day: dt.date, units: int,
               language: str = "fi") -> VoucherPeriod:
    """Use ``units`` (hundredths) of an assigned voucher on ``day``. Marks the voucher
    exhausted when its last unit is used. Raises VoucherNotActive, OutsideValidity or
    InsufficientUnits and then changes nothing.

    Two statements on the way that succeeds (each UPDATE returns the new figures), so that a
    busy integration pays few round trips; the failures look the period up to explain."""
    if units <= 0:
        raise ValueError("units must be positive")
    params = {"the_voucher": voucher.id, "day": day, "units_taken": units}
    period = session.execute(_take_from_period(), params).scalar_one_or_none()
    if period is None:
        period = period_for(session, voucher.id, day)
        if period is None:
            raise OutsideValidity(day=day.isoformat(), valid_from=voucher.valid_from.isoformat(),
                                  valid_until=voucher.valid_until.isoformat())
        session.refresh(period)
        raise InsufficientUnits(remaining=format_units(recordable_units(voucher, period),
                                                       language),
                                requested=format_units(units, language))
    used = session.execute(_take_from_voucher(), params).scalar_one_or_none()
    if used is None:
        session.refresh(voucher)
        raise VoucherNotActive(state=label(voucher.status))
    set_committed_value(voucher, "units_used", used)
    if used == voucher.units_granted:
        voucher.status = VoucherStatus.EXHAUSTED
        voucher.closed_at = clock.now()
        session.flush()
    return period


def give_back_units(session: Session, voucher: Voucher, period_id: int, units: int) -> None:
    """Return units (a voided or corrected event). An exhausted voucher whose validity has not
    ended becomes usable again."""
    if units <= 0:
        raise ValueError("units must be positive")
    session.execute(
        sa.update(VoucherPeriod).where(VoucherPeriod.id == period_id)
        .values(units_used=VoucherPeriod.units_used - units)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.update(Voucher).where(Voucher.id == voucher.id)
        .values(units_used=Voucher.units_used - units)
        .execution_options(synchronize_session=False)
    )
    session.refresh(voucher)
    if voucher.status == VoucherStatus.EXHAUSTED and voucher.valid_until >= clock.today():
        voucher.status = VoucherStatus.ASSIGNED
        voucher.closed_at = None
    session.flush()
