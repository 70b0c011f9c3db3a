"""The one place that reads the clock. Tests move it with ``freeze``/``unfreeze``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return _frozen if _frozen is not None else dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in Finland, which is what every business date means."""
    return now().astimezone(HELSINKI).date()


def local(moment: dt.datetime) -> dt.datetime:
    """A stored UTC moment as Finnish local time, for display."""
    return moment.astimezone(HELSINKI)


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight of a Finnish date, as an aware UTC datetime."""
    return dt.datetime.combine(day, dt.time(), HELSINKI).astimezone(dt.UTC)


def freeze(moment: dt.datetime | dt.date) -> None:
    """Stop the clock at a moment (a date means noon in Helsinki). For tests and demo data."""
    global _frozen
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time(12), HELSINKI)
    if moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = moment.astimezone(dt.UTC)


def unfreeze() -> None:
    """Let the clock run again."""
    global _frozen
    _frozen = None


@contextmanager
def frozen_at(moment: dt.datetime | dt.date) -> Iterator[None]:
    """Run a block as if it were ``moment`` (demo data made in the past), then put the clock
    back as it was, running or frozen."""
    global _frozen
    previous = _frozen
    freeze(moment)
    try:
        yield
    finally:
        _frozen = previous
