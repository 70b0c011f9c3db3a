"""Finding vouchers within what the person may see.

A case manager sees the vouchers paid by the municipalities assigned to them, an administrator
all of them; a client their own issued vouchers; a provider the requests sent to it and the
vouchers it is in charge of. Anything else is "not found" (404), so existence never leaks.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, joinedload

from voucher import clock
from voucher.accounts.models import Role, User, case_manager_municipalities
from voucher.audit.models import AuditEvent
from voucher.clients.models import Client
from voucher.errors import NotFound
from voucher.pages import Page, count_rows, paginate
from voucher.redemptions.models import Redemption
from voucher.vouchers.codes import normalize_voucher_code
from voucher.vouchers.models import (
    ACTIVE_STATUSES,
    AssignmentStatus,
    Voucher,
    VoucherAssignment,
    VoucherPeriod,
    VoucherStatus,
)


def staff_scope(query: sa.Select, user: User) -> sa.Select:
    """Limit a voucher query to the user's municipalities (administrators see all)."""
    if user.role == Role.ADMIN:
        return query
    if user.role != Role.CASE_MANAGER:
        return query.where(sa.false())
    mine = sa.select(case_manager_municipalities.c.municipality_id).where(
        case_manager_municipalities.c.user_id == user.id)
    return query.where(Voucher.municipality_id.in_(mine))


def _listed(with_client: bool = True) -> list:
    """Loader options of a voucher list: what each row shows (client, service, municipality,
    provider) comes in the list's own query, never one query per row."""
    return [*([joinedload(Voucher.client)] if with_client else []),
            joinedload(Voucher.service_type), joinedload(Voucher.municipality),
            joinedload(Voucher.provider)]


#: "Ending soon" on the staff's voucher list and the case manager's home page.
ENDING_SOON_DAYS = 30
#: A voucher's allotment is "nearly used" once this per cent of its current period is used.
NEARLY_USED_PERCENT = 80


class FollowUp(enum.StrEnum):
    """The case manager's follow-up lists: a home page figure each, and the voucher list
    filtered to what that figure counts (``/vouchers/?follow=…``)."""

    ENDING_SOON = "ending-soon"  #: in use, validity ends within ENDING_SOON_DAYS
    NEARLY_USED = "nearly-used"  #: in use, NEARLY_USED_PERCENT of this period's units used
    WAITING_FOR_PROVIDER = "waiting-for-provider"  #: a provider has not answered yet


def ending_soon_by(today: dt.date) -> dt.date:
    """The last day a voucher may end on to count as ending soon."""
    return today + dt.timedelta(days=ENDING_SOON_DAYS)


def follow_up_condition(follow: FollowUp, today: dt.date, *,
                        ending_by: dt.date | None = None) -> sa.ColumnElement[bool]:
    """The vouchers of a follow-up list (``ending_by``: another horizon for "ending soon",
    the reminders' setting)."""
    in_use = sa.and_(Voucher.status.in_(ACTIVE_STATUSES), Voucher.valid_until >= today)
    if follow == FollowUp.ENDING_SOON:
        return sa.and_(in_use, Voucher.valid_until <= (ending_by or ending_soon_by(today)))
    if follow == FollowUp.NEARLY_USED:
        return sa.and_(in_use, sa.exists().where(
            VoucherPeriod.voucher_id == Voucher.id, VoucherPeriod.starts_on <= today,
            VoucherPeriod.ends_on >= today,
            100 * VoucherPeriod.units_used >= NEARLY_USED_PERCENT * VoucherPeriod.units_granted))
    return sa.exists().where(VoucherAssignment.voucher_id == Voucher.id,
                             VoucherAssignment.status == AssignmentStatus.PROPOSED)


def _staff_vouchers(user: User, *, status: VoucherStatus | None, text: str,
                    follow: FollowUp | None) -> sa.Select:
    query = staff_scope(sa.select(Voucher).join(Client, Client.id == Voucher.client_id), user)
    if status is not None:
        query = query.where(Voucher.status == status)
    if follow is not None:
        query = query.where(follow_up_condition(follow, clock.today()))
    text = (text or "").strip()
    if text:
        code = normalize_voucher_code(text)
        if code:
            query = query.where(Voucher.code == code)
        else:
            pattern = "%" + text.lower().replace("%", r"\%").replace("_", r"\_") + "%"
            full_name = sa.func.lower(Client.first_name + " " + Client.last_name)
            query = query.where(full_name.like(pattern, escape="\\"))
    return query


def find_staff_vouchers(session: Session, user: User, *, status: VoucherStatus | None = None,
                        text: str = "", follow: FollowUp | None = None,
                        page: int = 1) -> Page:
    """Vouchers in the user's scope, newest first, by state, by a follow-up list and by code
    or client name."""
    query = _staff_vouchers(user, status=status, text=text, follow=follow).options(
        contains_eager(Voucher.client), *_listed(with_client=False))
    return paginate(session, query.order_by(Voucher.created_at.desc(), Voucher.id.desc()), page)


def count_staff_vouchers(session: Session, user: User, *, status: VoucherStatus | None = None,
                         text: str = "", follow: FollowUp | None = None) -> int:
    """How many vouchers ``find_staff_vouchers`` finds with the same filters (its ``total``),
    in one query."""
    query = _staff_vouchers(user, status=status, text=text, follow=follow)
    return count_rows(session, query)


def voucher_for_staff(session: Session, user: User, voucher_id: int) -> Voucher:
    voucher = session.execute(
        staff_scope(sa.select(Voucher).where(Voucher.id == voucher_id), user)
    ).scalar_one_or_none()
    if voucher is None:
        raise NotFound()
    return voucher


def awaiting_approval_by(session: Session, user: User) -> list[Voucher]:
    """Decisions in the user's municipalities that wait for a second case manager (not the
    user's own)."""
    return list(session.execute(
        staff_scope(sa.select(Voucher), user)
        .where(Voucher.status == VoucherStatus.PENDING_APPROVAL,
               Voucher.created_by_user_id != user.id)
        .order_by(Voucher.created_at).options(*_listed())
    ).scalars())


def decisions_in_progress(session: Session, user: User) -> list[Voucher]:
    """The user's own drafts and decisions waiting for someone else's approval."""
    return list(session.execute(
        sa.select(Voucher).where(
            Voucher.created_by_user_id == user.id,
            Voucher.status.in_([VoucherStatus.DRAFT, VoucherStatus.PENDING_APPROVAL]))
        .order_by(Voucher.created_at).options(*_listed())
    ).scalars())


def vouchers_of_client(session: Session, client_id: int) -> list[Voucher]:
    return list(session.execute(
        sa.select(Voucher).where(Voucher.client_id == client_id)
        .order_by(Voucher.created_at.desc(), Voucher.id.desc())
    ).scalars())


def _client_visible(query: sa.Select, user: User) -> sa.Select:
    # A client sees decisions once made: not drafts, not those still waiting for approval.
    return query.where(Voucher.client_id == user.client_id, Voucher.issued_at.is_not(None))


def client_vouchers(session: Session, user: User) -> list[Voucher]:
    """The logged-in client's vouchers, current ones first."""
    if user.role != Role.CLIENT or user.client_id is None:
        return []
    rank = sa.case((Voucher.status.in_([VoucherStatus.ISSUED, VoucherStatus.ASSIGNED]), 0),
                   else_=1)
    return list(session.execute(
        _client_visible(sa.select(Voucher), user).order_by(rank, Voucher.valid_until.desc())
    ).scalars())


def voucher_for_client(session: Session, user: User, voucher_id: int) -> Voucher:
    voucher = None
    if user.role == Role.CLIENT and user.client_id is not None:
        voucher = session.execute(
            _client_visible(sa.select(Voucher).where(Voucher.id == voucher_id), user)
        ).scalar_one_or_none()
    if voucher is None:
        raise NotFound()
    return voucher


def provider_requests(session: Session, provider_id: int) -> list[VoucherAssignment]:
    """Clients' requests waiting for the provider's answer, oldest first."""
    return list(session.execute(
        sa.select(VoucherAssignment).where(VoucherAssignment.provider_id == provider_id,
                                           VoucherAssignment.status == AssignmentStatus.PROPOSED)
        .order_by(VoucherAssignment.chosen_at)
    ).scalars())


def provider_vouchers(session: Session, provider_id: int, page: int = 1) -> Page:
    """The vouchers the provider is in charge of, ending soonest first."""
    return paginate(session, sa.select(Voucher).where(
        Voucher.provider_id == provider_id,
        Voucher.status.in_([VoucherStatus.ASSIGNED, VoucherStatus.EXHAUSTED]))
        .order_by(Voucher.valid_until, Voucher.id), page)


def request_for_provider(session: Session, provider_id: int,
                         assignment_id: int) -> VoucherAssignment:
    found = session.get(VoucherAssignment, assignment_id)
    if found is None or found.provider_id != provider_id:
        raise NotFound()
    return found


def voucher_for_provider(session: Session, provider_id: int, voucher_id: int) -> Voucher:
    voucher = session.get(Voucher, voucher_id)
    if voucher is None or voucher.provider_id != provider_id:
        raise NotFound()
    return voucher


def assignments_of(session: Session, voucher_id: int) -> list[VoucherAssignment]:
    return list(session.execute(
        sa.select(VoucherAssignment).where(VoucherAssignment.voucher_id == voucher_id)
        .order_by(VoucherAssignment.chosen_at, VoucherAssignment.id)
    ).scalars())


def service_events(session: Session, voucher_id: int) -> list[Redemption]:
    """The voucher's service events, newest first (voided ones too, marked)."""
    return list(session.execute(
        sa.select(Redemption).where(Redemption.voucher_id == voucher_id)
        .order_by(Redemption.service_date.desc(), Redemption.id.desc())
    ).scalars())


def voucher_history(session: Session, voucher_id: int) -> list[AuditEvent]:
    """Every recorded transition of the voucher, in order."""
    return list(session.execute(
        sa.select(AuditEvent).where(AuditEvent.object_type == "voucher",
                                    AuditEvent.object_id == str(voucher_id))
        .order_by(AuditEvent.id)
    ).scalars())
