"""Giving feedback on a service event, and providers' average ratings.

A client rates each service event they received once, 0–10, with an optional comment. A
provider's average is published (the register, the API's ``rating``) only when it rests on at
least ``MIN_RATINGS`` ratings, so that one or two opinions do not define a company and a
single client's rating cannot be read from it. Ratings of events later voided do not count.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError, NotFound, ValidationFailed
from voucher.feedback.models import Feedback
from voucher.providers.models import Provider
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.vouchers.models import Voucher

MIN_RATINGS = 5
MAX_COMMENT_LENGTH = 2000
_RATEABLE = (RedemptionStatus.RECORDED, RedemptionStatus.INVOICED, RedemptionStatus.SETTLED)


class AlreadyRated(DomainError):
    code = "already_rated"
    status = 409
    message = _l("You have already given feedback on this service.")


def _rateable_query(client_id: int):
    return (sa.select(Redemption)
            .join(Voucher, Voucher.id == Redemption.voucher_id)
            .where(Voucher.client_id == client_id, Redemption.corrects_id.is_(None),
                   Redemption.status.in_(_RATEABLE),
                   Redemption.service_date <= clock.today()))


def client_services(session: Session, *, client_id: int, limit: int = 100
                    ) -> list[tuple[Redemption, Provider, Feedback | None]]:
    """The client's received services, newest first, with the provider and the feedback."""
    rows = session.execute(
        _rateable_query(client_id).add_columns(Provider, Feedback)
        .join(Provider, Provider.id == Redemption.provider_id)
        .outerjoin(Feedback, Feedback.redemption_id == Redemption.id)
        .options(joinedload(Redemption.voucher).joinedload(Voucher.service_type))
        .order_by(Redemption.service_date.desc(), Redemption.id.desc()).limit(limit)
    ).all()
    return [tuple(row) for row in rows]


def unrated_by_voucher(session: Session, *, client_id: int) -> dict[int, int]:
    """Voucher id → how many of its received services the client has not rated yet (those
    ``client_services`` lists with a "give feedback" link)."""
    return dict(session.execute(
        _rateable_query(client_id).with_only_columns(Redemption.voucher_id, sa.func.count())
        .outerjoin(Feedback, Feedback.redemption_id == Redemption.id)
        .where(Feedback.id.is_(None)).group_by(Redemption.voucher_id)).all())


def find_client_service(session: Session, *, client_id: int,
                        redemption_id: int) -> tuple[Redemption, Provider]:
    """A service event the client received, with its provider; NotFound for anyone else's."""
    row = session.execute(
        _rateable_query(client_id).add_columns(Provider)
        .join(Provider, Provider.id == Redemption.provider_id)
        .where(Redemption.id == redemption_id)
        .options(joinedload(Redemption.voucher).joinedload(Voucher.service_type))
    ).one_or_none() if 0 < redemption_id < 2**31 else None
    if row is None:
        raise NotFound()
    return row[0], row[1]


def give_feedback(session: Session, *, client_id: int, redemption_id: int, score: int,
                  comment: str | None, actor: Actor) -> Feedback:
    """Rate a received service once: AlreadyRated the second time."""
    redemption, _provider = find_client_service(session, client_id=client_id,
                                                redemption_id=redemption_id)
    if score is None or not 0 <= score <= 10:
        raise ValidationFailed({"score": _("Choose a number from 0 to 10.")})
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_COMMENT_LENGTH:
        raise ValidationFailed({"comment": _("The comment can be at most %(max)d characters "
                                             "long.", max=MAX_COMMENT_LENGTH)})
    feedback = Feedback(redemption_id=redemption.id, provider_id=redemption.provider_id,
                        client_id=client_id, score=score, comment=comment)
    try:
        with session.begin_nested():
            session.add(feedback)
            session.flush()
    except sa.exc.IntegrityError as exc:
        raise AlreadyRated() from exc
    record_event(session, actor, "feedback.given", "feedback", feedback.id, client_id=client_id,
                 redemption_id=redemption.id, provider_id=redemption.provider_id, score=score)
    return feedback


def published_ratings() -> sa.Subquery:
    """(provider_id, rating) of the providers whose average is published (≥ MIN_RATINGS
    ratings of events that still stand), for sorting in SQL."""
    return (
        sa.select(Feedback.provider_id.label("provider_id"),
                  sa.func.avg(Feedback.score).label("rating"))
        .join(Redemption, Redemption.id == Feedback.redemption_id)
        .where(Redemption.status != RedemptionStatus.VOID)
        .group_by(Feedback.provider_id)
        .having(sa.func.count() >= MIN_RATINGS)
        .subquery("published_ratings")
    )


def rating_averages(session: Session, provider_ids, *, starts_on: dt.date | None = None,
                    ends_on: dt.date | None = None) -> dict[int, Decimal]:
    """{provider_id: average score to one decimal} for providers with at least MIN_RATINGS
    ratings of events that still stand (of services in the period, when one is given); the
    others are left out, so that one client's opinion is neither decisive nor identifiable."""
    provider_ids = list(provider_ids)
    if not provider_ids:
        return {}
    in_period = [Redemption.service_date.between(starts_on, ends_on)] \
        if starts_on and ends_on else []
    rows = session.execute(
        sa.select(Feedback.provider_id, sa.func.avg(Feedback.score))
        .join(Redemption, Redemption.id == Feedback.redemption_id)
        .where(Feedback.provider_id.in_(provider_ids),
               Redemption.status != RedemptionStatus.VOID, *in_period)
        .group_by(Feedback.provider_id)
        .having(sa.func.count() >= MIN_RATINGS)
    ).all()
    return {provider_id: Decimal(str(average)).quantize(Decimal("0.1"), ROUND_HALF_UP)
            for provider_id, average in rows}


def average_ratings(session: Session, provider_ids) -> dict[int, float]:
    """All-time averages as numbers, for the register and its API."""
    return {provider_id: float(average)
            for provider_id, average in rating_averages(session, provider_ids).items()}
