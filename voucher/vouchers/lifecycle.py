"""The end of a voucher's life: cancellation, the client's refusal, expiry, and releasing what
was not used.

What a voucher still needs from its budgets is the voucher's share of its service events that
are not void (settled or not: recorded and invoiced events will still be paid). Everything else
of its open commitment is released when it ends, per budget year. When a year's events outran
that year's share (a total voucher used mostly in its first year), the shortfall stays committed
in the other years, for the settlement to transfer; so the release never frees money that will
still be spent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.audit.services import Actor, FreeText, record_event
from voucher.budgets import ledger
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.errors import DomainError, ValidationFailed
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.vouchers import notices, states
from voucher.vouchers.models import (
    AssignmentStatus,
    Voucher,
    VoucherAssignment,
    VoucherStatus,
)

#: States whose voucher holds a commitment.
COMMITTED = (VoucherStatus.ISSUED, VoucherStatus.ASSIGNED, VoucherStatus.EXHAUSTED)
MIN_REASON_LENGTH = 5


def voucher_share_by_year(session: Session, voucher_id: int) -> dict[int, int]:
    """What the voucher pays for its non-void service events, per year of the service date."""
    year = sa.extract("year", Redemption.service_date)
    rows = session.execute(
        sa.select(year, sa.func.sum(Redemption.voucher_pays_cents))
        .where(Redemption.voucher_id == voucher_id, Redemption.status != RedemptionStatus.VOID)
        .group_by(year)
    ).all()
    return {int(y): int(total) for y, total in rows}


def unused_by_budget(session: Session, voucher: Voucher) -> dict[Budget, int]:
    """The part of the open commitment, per budget, that the voucher's events do not need."""
    open_by_budget = ledger.open_commitment_by_budget(session, voucher.id)
    if not open_by_budget:
        return {}
    budgets = session.execute(sa.select(Budget).where(Budget.id.in_(open_by_budget))
                              ).scalars().all()
    used = voucher_share_by_year(session, voucher.id)
    years = {b.year for b in budgets}
    surplus = {b: open_by_budget[b.id] - used.get(b.year, 0) for b in budgets}
    shortfall = sum(-s for s in surplus.values() if s < 0) + sum(
        cents for year, cents in used.items() if year not in years)
    unused = {}
    for budget in sorted(budgets, key=lambda b: b.year, reverse=True):
        available = max(0, surplus[budget])
        kept = min(available, shortfall)
        shortfall -= kept
        unused[budget] = available - kept
    return {b: cents for b, cents in sorted(unused.items(), key=lambda i: i[0].year) if cents}


def release_unused(session: Session, voucher: Voucher, *, reason: str,
                   user_id: int | None = None) -> int:
    """Release what the voucher no longer needs; returns the cents released."""
    released = 0
    for budget, cents in unused_by_budget(session, voucher).items():
        ledger.release(session, budget, cents, voucher_id=voucher.id, reason=reason,
                       user_id=user_id)
        released += cents
    return released


def end_assignments(session: Session, voucher: Voucher) -> list[VoucherAssignment]:
    """Close the voucher's open provider assignments (proposed or accepted)."""
    open_ones = session.execute(
        sa.select(VoucherAssignment).where(
            VoucherAssignment.voucher_id == voucher.id,
            VoucherAssignment.status.in_([AssignmentStatus.PROPOSED,
                                          AssignmentStatus.ACCEPTED]))
    ).scalars().all()
    for assignment in open_ones:
        assignment.status = AssignmentStatus.ENDED
        assignment.ended_at = clock.now()
    session.flush()
    return list(open_ones)


def cancel_voucher(session: Session, voucher: Voucher, *, reason: str, actor: Actor) -> int:
    """A case manager cancels a voucher (or discards a draft) with a reason. The unused
    commitment is released; the client and the provider are told. Returns the cents released."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationFailed({"reason": str(_l("Write the reason for the cancellation."))})
    before = voucher.status
    if before not in (VoucherStatus.DRAFT, VoucherStatus.PENDING_APPROVAL,
                      VoucherStatus.ISSUED, VoucherStatus.ASSIGNED):
        states.require_status(voucher, VoucherStatus.ISSUED)  # refuses with the state
    ended = end_assignments(session, voucher)
    states.move(session, voucher, VoucherStatus.CANCELLED, cancelled_at=clock.now(),
                cancel_reason=reason)
    released = release_unused(session, voucher, reason="cancelled", user_id=actor.user_id) \
        if before in COMMITTED else 0
    record_event(session, actor, "voucher.cancelled", "voucher", voucher.id,
                 client_id=voucher.client_id, reason=FreeText(reason), before=str(before),
                 released_cents=released)
    for assignment in ended:
        notices.notify_provider(session, assignment.provider, voucher, "cancelled_provider")
    if before in COMMITTED:
        notices.notify_client(session, voucher, "cancelled", reason=reason)
    return released


class CannotRefuse(DomainError):
    code = "cannot_refuse"
    status = 409
    message = _l("The voucher can no longer be refused: services have already been recorded "
                 "on it. Ask your case manager to end it.")


def _has_services(session: Session, voucher: Voucher) -> bool:
    return bool(voucher.units_used) or session.execute(sa.select(sa.exists().where(
        Redemption.voucher_id == voucher.id, Redemption.status != RedemptionStatus.VOID))
    ).scalar()


def can_be_refused(session: Session, voucher: Voucher) -> bool:
    """In force, and no service recorded on it yet (what refuse_voucher allows)."""
    return voucher.status in (VoucherStatus.ISSUED, VoucherStatus.ASSIGNED) and \
        not _has_services(session, voucher)


def refuse_voucher(session: Session, voucher: Voucher, *, refused_on: dt.date | None,
                   actor: Actor) -> int:
    """The client refuses the voucher (the right the letter tells of, 569/2009 section 6): the
    client themself, or a case manager who records a refusal received on paper or by phone
    on ``refused_on``. Only a voucher in force that no service has been recorded on can be
    refused; the whole commitment is released, the provider and the decision's maker are told,
    and the client gets a confirmation. Returns the cents released."""
    if refused_on is None or refused_on > clock.today() or (
            voucher.issued_at is not None and refused_on < clock.local(voucher.issued_at).date()):
        raise ValidationFailed({"refused_on": str(_l(
            "Give the day the client refused: not before the decision, not in the future."))})
    states.require_status(voucher, VoucherStatus.ISSUED, VoucherStatus.ASSIGNED)
    ended = end_assignments(session, voucher)
    states.move(session, voucher, VoucherStatus.CANCELLED, cancelled_at=clock.now(),
                refused_on=refused_on)
    # The state change above locked the voucher's row, so a service event recorded meanwhile
    # is seen here; then the refusal (all of it) is refused.
    if _has_services(session, voucher):
        raise CannotRefuse()
    released = release_unused(session, voucher, reason="refused", user_id=actor.user_id)
    record_event(session, actor, "voucher.refused", "voucher", voucher.id,
                 client_id=voucher.client_id, refused_on=refused_on.isoformat(),
                 released_cents=released)
    for assignment in ended:
        notices.notify_provider(session, assignment.provider, voucher, "cancelled_provider")
    notices.notify_user(session, session.get(User, voucher.created_by_user_id), voucher,
                        "refused_case_manager", refused_on=refused_on)
    notices.notify_client(session, voucher, "refused", refused_on=refused_on)
    return released


@dataclass
class ExpiryReport:
    expired: int = 0
    released_cents: int = 0


def expire_vouchers(session: Session, *, today: dt.date, grace_days: int = 0,
                    actor: Actor | None = None) -> ExpiryReport:
    """Expire vouchers whose validity ended more than ``grace_days`` before ``today`` and
    release what they did not use; used-up vouchers release their leftover then too. The grace
    lets providers record services delivered in the last days of the validity. Running it
    again changes nothing."""
    actor = actor or Actor.system("voucher-expiry")
    cutoff = today - dt.timedelta(days=grace_days)
    report = ExpiryReport()
    already_released = sa.exists().where(BudgetEntry.voucher_id == Voucher.id,
                                         BudgetEntry.kind == EntryKind.RELEASE)
    is_due = sa.and_(
        Voucher.valid_until < cutoff,
        sa.or_(Voucher.status.in_([VoucherStatus.PENDING_APPROVAL, VoucherStatus.ISSUED,
                                   VoucherStatus.ASSIGNED]),
               sa.and_(Voucher.status == VoucherStatus.EXHAUSTED, ~already_released)))
    due_ids = session.execute(
        sa.select(Voucher.id).where(is_due).order_by(Voucher.id)).scalars().all()
    for voucher_id in due_ids:
        # Two runs at once (cron on every server): the row lock queues the second behind the
        # first, and the second looks again once it has the lock (a statement of its own, so
        # it sees what the first committed), finding the voucher expired or its leftover
        # released: a commitment is released once.
        session.execute(sa.select(Voucher.id).where(Voucher.id == voucher_id).with_for_update())
        voucher = session.execute(
            sa.select(Voucher).where(Voucher.id == voucher_id, is_due)
            .execution_options(populate_existing=True)).scalar_one_or_none()
        if voucher is None:
            continue
        before = voucher.status
        if before != VoucherStatus.EXHAUSTED:
            end_assignments(session, voucher)
            states.move(session, voucher, VoucherStatus.EXPIRED, closed_at=clock.now())
            report.expired += 1
        released = release_unused(session, voucher, reason="expired") \
            if before in COMMITTED else 0
        report.released_cents += released
        if before != VoucherStatus.EXHAUSTED:
            record_event(session, actor, "voucher.expired", "voucher", voucher.id,
                         client_id=voucher.client_id, before=str(before),
                         released_cents=released)
        elif released:
            record_event(session, actor, "voucher.commitment_released", "voucher", voucher.id,
                         client_id=voucher.client_id, released_cents=released)
    return report
