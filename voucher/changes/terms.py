"""A decision's terms as a change stores them, the unit value on a service date, the periods
after a change, and what a decision still needs from its budgets.

What a voucher *needs* from the budget of a year: the voucher's share of its service events of
that year (void ones aside), plus, while it can still be used, its units left at the value they
would be paid at. A change moves the voucher's commitment in each budget by the difference
between the need of the new decision and that of the old one, so the margin a voucher already
had (services priced below its value) stays as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.vouchers.models import Recurrence, Voucher, VoucherPeriod, VoucherStatus
from voucher.vouchers.periods import PeriodPlan, commitment_by_year, plan_periods

#: The terms a change may change, and the others that a letter needs (stored alike).
TERM_KEYS = ("service_type_id", "value_basis", "unit_value_cents", "value_raise_reason",
             "calculation", "recurrence", "units_per_period", "units_granted", "valid_from",
             "valid_until")
#: States in which a voucher can still be used: its units left still count as its need.
USABLE = (VoucherStatus.ISSUED, VoucherStatus.ASSIGNED, VoucherStatus.EXHAUSTED)


def terms_of(voucher: Voucher) -> dict:
    """The voucher's terms as JSON (dates as ISO text)."""
    terms = {}
    for key in TERM_KEYS:
        value = getattr(voucher, key)
        terms[key] = value.isoformat() if isinstance(value, dt.date) else (
            str(value) if key in ("value_basis", "recurrence") else value)
    return terms


def snapshot(voucher: Voucher, *, decided_at: dt.datetime | None, made_by: int | None,
             approved_by: int | None) -> dict:
    """The decision in force as it is now: its number, date, makers and terms."""
    return {**terms_of(voucher), "decision_number": voucher.decision_number,
            "decided_at": decided_at.isoformat() if decided_at else None,
            "made_by_user_id": made_by, "approved_by_user_id": approved_by}


def day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@dataclass
class PeriodChange:
    """One period after a change: an existing row (kept, its units granted changed) or a new
    month; ``used`` as it is now."""

    starts_on: dt.date
    ends_on: dt.date
    granted: int
    used: int = 0
    row: VoucherPeriod | None = None


def periods_after(voucher: Voucher, *, units_per_period: int, valid_until: dt.date,
                  starts_on: dt.date) -> tuple[list[PeriodChange], list[VoucherPeriod]]:
    """The periods of the changed decision, and the existing periods it drops (past a
    shortened validity). A monthly voucher's months that ended before the change started keep
    their units; the others (the month of the start too) get the new monthly units."""
    existing = {p.starts_on: p for p in voucher.periods}
    plan = plan_periods(voucher.recurrence, units_per_period, voucher.valid_from, valid_until)
    result = []
    for planned in plan:
        row = existing.pop(planned.starts_on, None)
        granted = planned.units
        if voucher.recurrence == Recurrence.MONTHLY and row is not None and \
                row.ends_on < starts_on:
            granted = row.units_granted
        result.append(PeriodChange(planned.starts_on, planned.ends_on, granted,
                                   row.units_used if row is not None else 0, row))
    return result, list(existing.values())


def _remaining_need(periods: list[PeriodChange], value_for) -> dict[int, int]:
    """The units left of each period at the value of the day nearest today in it, per year."""
    today = clock.today()
    need: dict[int, int] = {}
    for period in periods:
        left = period.granted - period.used
        if left <= 0:
            continue
        nearest = min(max(today, period.starts_on), period.ends_on)
        plan = PeriodPlan(period.starts_on, period.ends_on, left)
        for year, cents in commitment_by_year([plan], value_for(nearest)).items():
            need[year] = need.get(year, 0) + cents
    return need


def event_shares_by_year(session: Session, voucher_id: int) -> dict[int, int]:
    """What the voucher pays for its service events that are not void, per year."""
    year = sa.extract("year", Redemption.service_date)
    return {int(y): int(total) for y, total in session.execute(
        sa.select(year, sa.func.sum(Redemption.voucher_pays_cents))
        .where(Redemption.voucher_id == voucher_id, Redemption.status != RedemptionStatus.VOID)
        .group_by(year))}


def need_by_year(*, events: dict[int, int], periods: list[PeriodChange], value_for,
                 usable: bool) -> dict[int, int]:
    """The need per year: the events' voucher shares and, when the voucher can still be used,
    its units left (``value_for(day)`` gives the value of a service on a day)."""
    need = dict(events)
    if usable:
        for year, cents in _remaining_need(periods, value_for).items():
            need[year] = need.get(year, 0) + cents
    return need


def current_periods(voucher: Voucher) -> list[PeriodChange]:
    return [PeriodChange(p.starts_on, p.ends_on, p.units_granted, p.units_used, p)
            for p in voucher.periods]
