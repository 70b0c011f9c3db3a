"""The voucher's state machine, written down once.

    draft → pending_approval → issued → assigned → exhausted | expired | cancelled

Every move is a conditional UPDATE on the state the voucher was read in, so two people acting
on the same voucher at once (two approvers, a cancellation racing an acceptance) cannot both
succeed: the second one gets ``InvalidTransition`` and its transaction rolls back.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher.errors import DomainError
from voucher.labels import label
from voucher.vouchers.models import Voucher, VoucherStatus

S = VoucherStatus
TRANSITIONS: dict[VoucherStatus, frozenset[VoucherStatus]] = {
    S.DRAFT: frozenset({S.PENDING_APPROVAL, S.ISSUED, S.CANCELLED}),
    S.PENDING_APPROVAL: frozenset({S.ISSUED, S.CANCELLED, S.EXPIRED}),
    S.ISSUED: frozenset({S.ASSIGNED, S.CANCELLED, S.EXPIRED}),
    # Assigned → exhausted happens in vouchers.units.take_units (and back in give_back_units).
    S.ASSIGNED: frozenset({S.EXHAUSTED, S.CANCELLED, S.EXPIRED}),
    S.EXHAUSTED: frozenset({S.ASSIGNED}),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
}


class InvalidTransition(DomainError):
    code = "voucher_state"
    status = 409
    message = _l("This cannot be done: the voucher is %(state)s.")


def can_move(voucher: Voucher, to: VoucherStatus) -> bool:
    return to in TRANSITIONS[voucher.status]


def require_status(voucher: Voucher, *allowed: VoucherStatus) -> None:
    """Refuse with the voucher's state unless it is one of ``allowed``."""
    if voucher.status not in allowed:
        raise InvalidTransition(state=label(voucher.status))


def move(session: Session, voucher: Voucher, to: VoucherStatus, **values) -> None:
    """Move the voucher to ``to`` (setting ``values`` in the same UPDATE), or refuse."""
    if not can_move(voucher, to):
        raise InvalidTransition(state=label(voucher.status))
    update_in_state(session, voucher, status=to, **values)


def update_in_state(session: Session, voucher: Voucher, **values) -> None:
    """Set ``values`` only while the voucher is still in the state it was read in."""
    updated = session.execute(
        sa.update(Voucher).where(Voucher.id == voucher.id, Voucher.status == voucher.status)
        .values(**values).execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(voucher)
    if updated != 1:
        raise InvalidTransition(state=label(voucher.status))
