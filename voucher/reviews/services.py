"""Requests for review and the decisions on them.

A client files a request online, or a case manager records one received on paper with the
day it arrived. The time for a request (30 days from the day the decision counts as received,
``vouchers.delivery``) decides whether it is late; a late request is still recorded, and its
decision may dismiss it. Only one request of a decision waits at a time (a partial unique
index). A case manager other than the one who made the decision decides: upheld, changed (the
changed decision is then made as a new voucher decision) or dismissed, with the reasoning; the
review decision takes a decision number of its own and has its own letter, with the appeal
instructions to the administrative court.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.audit.services import Actor, FreeText, record_event
from voucher.errors import DomainError, NotFound, ValidationFailed
from voucher.pages import count_rows
from voucher.reviews.models import ReviewChannel, ReviewOutcome, ReviewRequest
from voucher.vouchers import notices
from voucher.vouchers.decision_numbers import take_decision_numbers
from voucher.vouchers.delivery import delivery_in_force, review_deadline
from voucher.vouchers.models import Voucher
from voucher.vouchers.queries import staff_scope

MAX_TEXT = 10_000


class RequestAlreadyOpen(DomainError):
    code = "review_already_open"
    status = 409
    message = _l("A request for review of this decision is already waiting for its decision.")


class AlreadyDecided(DomainError):
    code = "review_already_decided"
    status = 409
    message = _l("This request for review has already been decided.")


class OwnDecision(DomainError):
    code = "review_own_decision"
    status = 403
    message = _l("The case manager who made the decision cannot decide on its review: ask "
                 "another case manager.")


def deadline_of(session: Session, voucher: Voucher) -> dt.date | None:
    """The last day for a request for review of the decision in force, once it counts as
    received (a change decision's own delivery, when a change is in force)."""
    return review_deadline(delivery_in_force(session, voucher.id))


def _text(value: str | None, field: str, message) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed({field: str(message)})
    if len(value) > MAX_TEXT:
        raise ValidationFailed({field: str(_l("At most %(max)d characters.", max=MAX_TEXT))})
    return value


def file_request(session: Session, voucher: Voucher, *, channel: ReviewChannel,
                 received_on: dt.date | None, text: str | None, actor: Actor) -> ReviewRequest:
    """Record a request for review of an issued decision."""
    if voucher.issued_at is None:
        raise NotFound()
    text = _text(text, "request_text", _l("Write what you want changed in the decision and "
                                          "why."))
    if received_on is None or received_on > clock.today() or \
            received_on < clock.local(voucher.issued_at).date():
        raise ValidationFailed({"received_on": str(_l(
            "Give the day the request arrived: not before the decision, not in the future."))})
    deadline = deadline_of(session, voucher)
    request = ReviewRequest(voucher_id=voucher.id, channel=channel, received_on=received_on,
                            decision_number_reviewed=voucher.decision_number,
                            request_text=text, filed_by_user_id=actor.user_id,
                            late=deadline is not None and received_on > deadline)
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except sa.exc.IntegrityError as exc:
        raise RequestAlreadyOpen() from exc
    record_event(session, actor, "review.filed", "review_request", request.id,
                 client_id=voucher.client_id, voucher_id=voucher.id, channel=channel.value,
                 received_on=received_on.isoformat(), late=request.late)
    notices.notify_user(session, session.get(User, voucher.created_by_user_id), voucher,
                        "review_filed", review=request)
    notices.notify_client(session, voucher, "review_received", review=request)
    return request


def requests_of(session: Session, voucher_id: int) -> list[ReviewRequest]:
    return list(session.execute(sa.select(ReviewRequest).where(
        ReviewRequest.voucher_id == voucher_id).order_by(ReviewRequest.id)).scalars())


def _open(user: User) -> sa.Select:
    return staff_scope(
        sa.select(ReviewRequest).join(Voucher, Voucher.id == ReviewRequest.voucher_id)
        .where(ReviewRequest.decided_at.is_(None)), user)


def open_requests(session: Session, user: User) -> list[ReviewRequest]:
    """Requests waiting for a decision in the user's municipalities, oldest first."""
    return list(session.execute(_open(user).order_by(
        ReviewRequest.received_on, ReviewRequest.id)).scalars())


def count_open(session: Session, user: User) -> int:
    """How many requests ``open_requests`` lists, in one query (the home page's figure)."""
    return count_rows(session, _open(user))


def request_for_staff(session: Session, user: User, request_id: int) -> ReviewRequest:
    found = session.execute(staff_scope(
        sa.select(ReviewRequest).join(Voucher, Voucher.id == ReviewRequest.voucher_id)
        .where(ReviewRequest.id == request_id), user)).scalar_one_or_none() \
        if 0 < request_id < 2**31 else None
    if found is None:
        raise NotFound()
    return found


def request_for_client(session: Session, user: User, request_id: int) -> ReviewRequest:
    found = session.get(ReviewRequest, request_id) if 0 < request_id < 2**31 else None
    if found is None or user.client_id is None or found.voucher.client_id != user.client_id:
        raise NotFound()
    return found


def decide_request(session: Session, request: ReviewRequest, *, outcome: ReviewOutcome | None,
                   reasoning: str | None, decider: User, actor: Actor) -> ReviewRequest:
    """Decide the request once, by a case manager other than the decision's maker."""
    if request.voucher.created_by_user_id == decider.id:
        raise OwnDecision()
    if outcome is None:
        raise ValidationFailed({"outcome": str(_l("Choose the decision."))})
    reasoning = _text(reasoning, "reasoning", _l("Write the reasons for the decision."))
    now = clock.now()
    number = take_decision_numbers(session, now)[0]
    decided = session.execute(
        sa.update(ReviewRequest).where(ReviewRequest.id == request.id,
                                       ReviewRequest.decided_at.is_(None))
        .values(outcome=outcome, reasoning=reasoning, decision_number=number, decided_at=now,
                decided_by_user_id=decider.id)
        .execution_options(synchronize_session=False)).rowcount
    if decided != 1:
        raise AlreadyDecided()
    session.refresh(request)
    record_event(session, actor, "review.decided", "review_request", request.id,
                 client_id=request.voucher.client_id, voucher_id=request.voucher_id,
                 outcome=outcome.value, decision_number=number, reasoning=FreeText(reasoning))
    notices.notify_client(session, request.voucher, "review_decided", review=request)
    return request
