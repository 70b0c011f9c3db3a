"""Reminders through the outbox (``vouchers remind``, daily from cron): before a voucher ends,
to the client and to the case manager who made the decision, VOUCHER_REMINDER_DAYS before its
last day; and to the client when a monthly allotment is nearly used (the case manager's
"nearly used" list, the same condition). Each reminder is sent once per voucher and end date or
month, however often the command runs, also when two runs meet (a unique row decides)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from voucher import clock
from voucher.accounts.models import User
from voucher.audit.services import Actor, record_event
from voucher.vouchers import notices
from voucher.vouchers.models import Recurrence, Voucher, VoucherPeriod, VoucherReminder
from voucher.vouchers.queries import FollowUp, follow_up_condition


class ReminderKind(enum.StrEnum):
    ENDING = "ending"
    NEARLY_USED = "nearly_used"


@dataclass
class ReminderReport:
    ending: int = 0
    nearly_used: int = 0


def _claim(session: Session, voucher_id: int, kind: ReminderKind, about: dt.date) -> bool:
    """Record the reminder; False when it was already sent (by this or a concurrent run)."""
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)(VoucherReminder)
    return session.execute(insert.values(
        voucher_id=voucher_id, kind=kind.value, about=about, sent_at=clock.now())
        .on_conflict_do_nothing().returning(VoucherReminder.id)).scalar() is not None


def send_reminders(session: Session, *, days_before_end: int,
                   today: dt.date | None = None) -> ReminderReport:
    """Queue the reminders that are due today; returns how many vouchers got one."""
    today = today or clock.today()
    report = ReminderReport()
    actor = Actor.system("voucher-reminders")
    ending = session.execute(sa.select(Voucher).where(
        follow_up_condition(FollowUp.ENDING_SOON, today,
                            ending_by=today + dt.timedelta(days=days_before_end)))
        .order_by(Voucher.id)).scalars().all()
    for voucher in ending:
        if not _claim(session, voucher.id, ReminderKind.ENDING, voucher.valid_until):
            continue
        days = (voucher.valid_until - today).days
        notices.notify_client(session, voucher, "ending", days=days)
        notices.notify_user(session, session.get(User, voucher.created_by_user_id), voucher,
                            "ending_case_manager", days=days)
        record_event(session, actor, "voucher.ending_reminded", "voucher", voucher.id,
                     client_id=voucher.client_id, valid_until=voucher.valid_until.isoformat())
        report.ending += 1
    current = aliased(VoucherPeriod)  # apart from the condition's own subquery
    nearly = session.execute(
        sa.select(Voucher, current).join(current, current.voucher_id == Voucher.id)
        .where(Voucher.recurrence == Recurrence.MONTHLY,
               follow_up_condition(FollowUp.NEARLY_USED, today),
               current.starts_on <= today, current.ends_on >= today)
        .order_by(Voucher.id)).all()
    for voucher, period in nearly:
        if not _claim(session, voucher.id, ReminderKind.NEARLY_USED, period.starts_on):
            continue
        notices.notify_client(session, voucher, "nearly_used", period=period)
        record_event(session, actor, "voucher.nearly_used_reminded", "voucher", voucher.id,
                     client_id=voucher.client_id, period=period.starts_on.isoformat())
        report.nearly_used += 1
    return report
