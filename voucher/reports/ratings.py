"""Provider ratings for the reports: the clients' 0–10 feedback on the period's services.

Same rule as the public register: a provider's average is shown only from MIN_RATINGS ratings
(of events that still stand), so that a single client's opinion is neither decisive nor
identifiable.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.feedback.models import Feedback
from voucher.feedback.services import MIN_RATINGS
from voucher.redemptions.models import Redemption, RedemptionStatus


def average_ratings(session: Session, provider_ids: list[int], *, starts_on: dt.date,
                    ends_on: dt.date) -> dict[int, Decimal]:
    """Average rating per provider id over feedback on services of the period (providers
    without enough ratings are left out)."""
    if not provider_ids:
        return {}
    rows = session.execute(
        sa.select(Feedback.provider_id, sa.func.avg(Feedback.score))
        .join(Redemption, Redemption.id == Feedback.redemption_id)
        .where(Feedback.provider_id.in_(provider_ids),
               Redemption.status != RedemptionStatus.VOID,
               Redemption.service_date.between(starts_on, ends_on))
        .group_by(Feedback.provider_id)
        .having(sa.func.count() >= MIN_RATINGS)
    ).all()
    return {provider_id: Decimal(str(average)).quantize(Decimal("0.1"), ROUND_HALF_UP)
            for provider_id, average in rows}
