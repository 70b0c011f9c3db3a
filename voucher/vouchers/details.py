"""What a voucher's pages show: its calculation, periods, commitments, provider history,
service events and the record of its transitions."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session

from voucher.accounts.models import Role, User
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.i18n import current_language
from voucher.money import units_times_cents
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.vouchers import queries
from voucher.vouchers.delivery import delivery_of, review_deadline
from voucher.vouchers.lifecycle import can_be_refused
from voucher.vouchers.models import ACTIVE_STATUSES, Voucher, VoucherStatus
from voucher.vouchers.value import calculation_steps

#: How each recorded transition reads in the voucher's history.
HISTORY_LABELS = {
    "voucher.drafted": _l("Draft saved"),
    "voucher.submitted_for_approval": _l("Decision made, sent for a second approval"),
    "voucher.approved": _l("Decision approved"),
    "voucher.rejected": _l("Decision rejected"),
    "voucher.issued": _l("Voucher issued and committed against the budget"),
    "voucher.provider_chosen": _l("Provider chosen, waiting for its answer"),
    "voucher.request_accepted": _l("Provider accepted the client"),
    "voucher.request_declined": _l("Provider declined"),
    "voucher.activated": _l("Provider activated the voucher with its codes"),
    "voucher.assigned": _l("Provider in charge of the voucher"),
    "voucher.cancelled": _l("Voucher cancelled, unused commitment released"),
    "voucher.refused": _l("The client refused the voucher; commitment released"),
    "voucher.expired": _l("Voucher expired, unused commitment released"),
    "voucher.commitment_released": _l("Unused commitment released"),
    "voucher.change_proposed": _l("Change of the decision proposed"),
    "voucher.change_approved": _l("Change decision made, commitment moved"),
    "voucher.change_rejected": _l("Change of the decision rejected"),
    "voucher.change_withdrawn": _l("Change of the decision withdrawn"),
}


@dataclass
class Commitment:
    budget: Budget
    committed_cents: int
    released_cents: int

    @property
    def open_cents(self) -> int:
        return self.committed_cents - self.released_cents


def commitments_of(session: Session, voucher_id: int) -> list[Commitment]:
    """The voucher's commitments and releases, per budget."""
    rows = session.execute(
        sa.select(BudgetEntry.budget_id, BudgetEntry.kind, sa.func.sum(BudgetEntry.amount_cents))
        .where(BudgetEntry.voucher_id == voucher_id)
        .group_by(BudgetEntry.budget_id, BudgetEntry.kind)
    ).all()
    sums: dict[int, dict] = {}
    for budget_id, kind, total in rows:
        sums.setdefault(budget_id, {})[kind] = int(total)
    budgets = session.execute(sa.select(Budget).where(Budget.id.in_(sums))
                              .order_by(Budget.year)).scalars()
    return [Commitment(b, sums[b.id].get(EntryKind.COMMIT, 0),
                       sums[b.id].get(EntryKind.RELEASE, 0)) for b in budgets]


def history_of(session: Session, voucher_id: int) -> list[dict]:
    """The voucher's transitions with who made them."""
    events = [e for e in queries.voucher_history(session, voucher_id)
              if e.action in HISTORY_LABELS]
    ids = {e.actor_user_id for e in events if e.actor_user_id}
    users = {u.id: u for u in session.execute(sa.select(User).where(User.id.in_(ids))).scalars()}
    return [{"at": e.at, "what": HISTORY_LABELS[e.action],
             "who": users[e.actor_user_id].display_name if e.actor_user_id in users
             else _l("the system"), "reason": (e.data or {}).get("reason")} for e in events]


@dataclass
class Usage:
    """What the client has got of the voucher: events, and the sums of who paid what."""

    events: list[Redemption]
    voucher_paid_cents: int
    self_share_cents: int

    @classmethod
    def of(cls, session: Session, voucher_id: int) -> Usage:
        events = queries.service_events(session, voucher_id)
        counted = [e for e in events if e.status != RedemptionStatus.VOID]
        return cls(events, sum(e.voucher_pays_cents for e in counted),
                   sum(e.client_pays_cents for e in counted))


def remaining_value_cents(voucher: Voucher) -> int:
    """What the units left are worth at the voucher's value."""
    return units_times_cents(voucher.units_remaining, voucher.unit_value_cents)


def detail_context(session: Session, voucher: Voucher, **extra) -> dict:
    """Everything the staff's voucher page shows, and which actions the viewer may take."""
    is_case_manager = current_user.role == Role.CASE_MANAGER
    pending = voucher.status == VoucherStatus.PENDING_APPROVAL
    own = voucher.created_by_user_id == current_user.id
    return {
        "voucher": voucher,
        "steps": calculation_steps(voucher.calculation, current_language()),
        "commitments": commitments_of(session, voucher.id),
        "assignments": queries.assignments_of(session, voucher.id),
        "usage": Usage.of(session, voucher.id),
        "history": history_of(session, voucher.id),
        "remaining_value": remaining_value_cents(voucher),
        "maker": session.get(User, voucher.created_by_user_id),
        "approver": session.get(User, voucher.approved_by_user_id)
        if voucher.approved_by_user_id else None,
        "can_approve": is_case_manager and pending and not own,
        "can_edit": is_case_manager and voucher.status == VoucherStatus.DRAFT,
        # A decision waiting for approval is withdrawn by its maker; others reject it.
        "can_cancel": is_case_manager and (voucher.status in (VoucherStatus.DRAFT,
                                                              *ACTIVE_STATUSES)
                                           or (pending and own)),
        "can_choose": is_case_manager and voucher.status in ACTIVE_STATUSES,
        "can_record_refusal": is_case_manager and can_be_refused(session, voucher),
        # A change of decision (voucher.changes): of an issued decision, also one that has
        # ended (its value, for the services recorded on it).
        "can_change": is_case_manager and voucher.issued_at is not None and
        voucher.status not in (VoucherStatus.DRAFT, VoucherStatus.PENDING_APPROVAL),
        "has_letter": voucher.issued_at is not None,
        "delivery": (sent := delivery_of(session, voucher.id)),
        "review_deadline": review_deadline(sent),
        **extra,
    }

