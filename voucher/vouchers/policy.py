"""The authority-wide issuing policy: above which total value a decision needs four eyes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from voucher.audit.services import Actor, record_event
from voucher.vouchers.models import VoucherPolicy


def current_policy(session: Session) -> VoucherPolicy:
    """The single policy row (the migration seeds it; created here if it ever went missing)."""
    policy = session.get(VoucherPolicy, 1)
    if policy is None:
        policy = VoucherPolicy(id=1)
        session.add(policy)
        session.flush()
    return policy


def needs_second_approval(session: Session, total_cents: int) -> bool:
    """Decisions whose total value is above the threshold need a second case manager."""
    return total_cents > current_policy(session).four_eyes_threshold_cents


def set_four_eyes_threshold(session: Session, *, threshold_cents: int, actor: Actor) -> None:
    """Change the threshold; decisions already waiting keep waiting for approval."""
    if threshold_cents < 0:
        raise ValueError("the threshold cannot be negative")
    policy = current_policy(session)
    before = policy.four_eyes_threshold_cents
    policy.four_eyes_threshold_cents = threshold_cents
    session.flush()
    record_event(session, actor, "voucher_policy.changed", "voucher_policy", 1,
                 four_eyes_threshold_cents=threshold_cents, before=before)
