"""Decision numbers: every voucher decision gets one, unique in the authority, when it is
issued: ``PS-2026-000123``, counted per year without gaps (the counter's row is locked by the
update until the issuing transaction ends, so a rolled-back decision gives its number back).
The letter, the client's and the staff's pages and the API show it, and a later decision that
refers to this one cites it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from voucher import clock
from voucher.vouchers.models import DecisionNumberSequence

PREFIX = "PS"


def format_decision_number(year: int, number: int) -> str:
    return f"{PREFIX}-{year}-{number:06d}"


def take_decision_numbers(session: Session, moment: dt.datetime, count: int = 1) -> list[str]:
    """The next ``count`` numbers of the year of ``moment`` (Finnish time)."""
    year = clock.local(moment).year
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)(DecisionNumberSequence)
    session.execute(insert.values(year=year, last_number=0).on_conflict_do_nothing())
    last = session.execute(
        sa.update(DecisionNumberSequence).where(DecisionNumberSequence.year == year)
        .values(last_number=DecisionNumberSequence.last_number + count)
        .returning(DecisionNumberSequence.last_number)).scalar_one()
    return [format_decision_number(year, n) for n in range(last - count + 1, last + 1)]
