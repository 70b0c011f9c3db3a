"""Delivering decisions: a client with an e-mail address and a login gets an e-mail notice and
reads the letter in their own pages (electronic delivery); everyone else gets the letter by
post, through the post room's queue: a batch PDF of the waiting letters with their addresses,
then "posted on" a day. The day the decision counts as received (the third day after an
electronic delivery, the seventh after posting) starts the 30 days for a request for review."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.clients.services import client_account
from voucher.errors import ValidationFailed
from voucher.pages import count_rows
from voucher.vouchers.letter import REVIEW_DAYS, receipt_days
from voucher.vouchers.models import DecisionDelivery, DeliveryMethod, Voucher
from voucher.vouchers.queries import staff_scope


def deliver(session: Session, voucher: Voucher, *, change_id: int | None = None
            ) -> DecisionDelivery:
    """Record how the just made decision reaches the client (in the issuing transaction, or
    the approval of the change decision ``change_id``)."""
    account = client_account(session, voucher.client_id)
    electronic = bool(voucher.client.email) and account is not None and account.is_active
    today = clock.today()
    delivery = DecisionDelivery(voucher_id=voucher.id, voucher_change_id=change_id,
                                method=DeliveryMethod.POST)
    if electronic:
        delivery.method = DeliveryMethod.ELECTRONIC
        delivery.sent_on = today
        delivery.received_on = receipt_days(today)[0]
    session.add(delivery)
    session.flush()
    return delivery


def delivery_of(session: Session, voucher_id: int, *, change_id: int | None = None
                ) -> DecisionDelivery | None:
    """The delivery of the voucher's issuing decision, or of its change decision
    ``change_id``."""
    which = DecisionDelivery.voucher_change_id.is_(None) if change_id is None \
        else DecisionDelivery.voucher_change_id == change_id
    return session.execute(sa.select(DecisionDelivery).where(
        DecisionDelivery.voucher_id == voucher_id, which)).scalar_one_or_none()


def delivery_in_force(session: Session, voucher_id: int) -> DecisionDelivery | None:
    """The delivery of the voucher's decision in force: its newest (a change decision's once
    one is approved)."""
    return session.execute(sa.select(DecisionDelivery).where(
        DecisionDelivery.voucher_id == voucher_id).order_by(DecisionDelivery.id.desc()).limit(1)
    ).scalar_one_or_none()


def review_deadline(delivery: DecisionDelivery | None) -> dt.date | None:
    """The last day of the time for a request for review, once the decision is received."""
    if delivery is None or delivery.received_on is None:
        return None
    return delivery.received_on + dt.timedelta(days=REVIEW_DAYS)


def _waiting_letters(user) -> sa.Select:
    return staff_scope(
        sa.select(DecisionDelivery).join(Voucher, Voucher.id == DecisionDelivery.voucher_id)
        .where(DecisionDelivery.method == DeliveryMethod.POST,
               DecisionDelivery.sent_on.is_(None)), user)


def post_queue(session, user) -> list[DecisionDelivery]:
    """Letters waiting to be printed and posted, oldest first, in the user's scope."""
    return list(session.execute(_waiting_letters(user).order_by(
        DecisionDelivery.queued_at, DecisionDelivery.id)).scalars())


def count_post_queue(session, user) -> int:
    """How many letters ``post_queue`` lists, in one query (the home page's figure)."""
    return count_rows(session, _waiting_letters(user))


def mark_posted(session: Session, user, delivery_ids: list[int], *, posted_on: dt.date | None,
                actor: Actor) -> int:
    """The letters of the batch were posted on ``posted_on``; returns how many were marked
    (those already marked, or outside the user's scope, are left as they are)."""
    if posted_on is None or posted_on > clock.today():
        raise ValidationFailed({"posted_on": str(_l(
            "Give the day the letters were posted: today or earlier."))})
    waiting = {d.id: d for d in post_queue(session, user)}
    chosen = [waiting[i] for i in delivery_ids if i in waiting]
    if not chosen:
        raise ValidationFailed({"posted_on": str(_l("There are no letters waiting to be "
                                                    "posted in this batch."))})
    received = receipt_days(posted_on)[1]
    marked = session.execute(
        sa.update(DecisionDelivery)
        .where(DecisionDelivery.id.in_([d.id for d in chosen]),
               DecisionDelivery.sent_on.is_(None))
        .values(sent_on=posted_on, received_on=received, posted_by_user_id=actor.user_id)
        .execution_options(synchronize_session=False)).rowcount
    for delivery in chosen:
        record_event(session, actor, "voucher.letter_posted", "voucher", delivery.voucher_id,
                     posted_on=posted_on.isoformat(), received_on=received.isoformat())
    return marked
