"""Feedback: a client's 0–10 rating of one service event, with an optional comment."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from voucher import clock
from voucher.db import Base


class Feedback(Base):
    """One rating per service event, given by the voucher's client. ``provider_id`` is the
    event's provider, kept here so that averages per provider need no join."""

    __tablename__ = "feedback"
    __table_args__ = (
        sa.CheckConstraint("score BETWEEN 0 AND 10", name="score_0_to_10"),
        sa.UniqueConstraint("redemption_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(sa.ForeignKey("redemptions.id"))
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id"), index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    #: 0 = would not recommend at all, 10 = would recommend warmly (an NPS-style scale).
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
