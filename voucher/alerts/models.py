"""OperatorAlert: a finding that needs a person (money the books do not explain, a job that
keeps failing). Raised once per key, e-mailed to the administrators, resolved with a note."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from voucher import clock
from voucher.db import Base


class OperatorAlert(Base):
    __tablename__ = "operator_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What was found, e.g. "stripe.unknown_intent"; its text is registered by the domain.
    kind: Mapped[str] = mapped_column(sa.String(60), index=True)
    #: One alert per key (e.g. the kind and the Stripe object's id): finding it again is quiet.
    key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    #: Ids and amounts only, never personal data.
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    raised_at: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
    resolved_at: Mapped[dt.datetime | None]
    resolved_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(sa.String(1000))
