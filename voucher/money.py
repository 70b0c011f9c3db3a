"""Money is integer euro cents, units are integer hundredths. No floats anywhere.

Parsing accepts what people type in Finland ("35,50", "35.50 €", "1 234,5"); formatting follows
the reader's language.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency, format_decimal

UNIT_SCALE = 100  # units are stored in hundredths: 150 means 1.5 hours

_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")


def _to_decimal(text: str) -> Decimal:
    cleaned = (text or "").strip().replace("€", "").replace("EUR", "")
    cleaned = cleaned.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not _NUMBER.match(cleaned):
        raise ValueError(f"not a number: {text!r}")
    try:
        return Decimal(cleaned.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise ValueError(f"not a number: {text!r}") from exc


def parse_cents(text: str) -> int:
    """'35,50' -> 3550. Raises ValueError on anything that is not euros with at most 2 decimals."""
    value = _to_decimal(text)
    if value.as_tuple().exponent < -2:
        raise ValueError("more than two decimals")
    return int(value * 100)


def parse_units(text: str) -> int:
    """'1,5' -> 150 (hundredths). Raises ValueError on more than two decimals."""
    value = _to_decimal(text)
    if value.as_tuple().exponent < -2:
        raise ValueError("more than two decimals")
    return int(value * UNIT_SCALE)


def cents_to_decimal(cents: int) -> Decimal:
    """Cents as a Decimal of euros, for libraries that want euros (SEPA, XLSX)."""
    return Decimal(cents) / 100


def format_cents(cents: int | None, locale: str = "fi") -> str:
    """3550 -> '35,50 €' (fi, sv) or '€35.50' (en)."""
    if cents is None:
        return ""
    return format_currency(cents_to_decimal(cents), "EUR", locale=locale)


def format_units(hundredths: int | None, locale: str = "fi") -> str:
    """150 -> '1,5' (fi, sv) or '1.5' (en); whole units without decimals."""
    if hundredths is None:
        return ""
    return format_decimal(Decimal(hundredths) / UNIT_SCALE, format="#,##0.##", locale=locale)


def units_times_cents(hundredths: int, cents: int) -> int:
    """Price of a number of units, rounded half up to the cent."""
    exact = Decimal(hundredths) * Decimal(cents) / UNIT_SCALE
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_payment(hundredths: int, unit_price_cents: int, unit_value_cents: int) -> tuple[int, int]:
    """(voucher_pays, client_pays) for a service event.

    The voucher pays ``min(price, value) × units``; the client's self-share is the rest of the
    price, never negative. Both are rounded so that they always add up to ``price × units``.
    """
    total = units_times_cents(hundredths, unit_price_cents)
    voucher_pays = units_times_cents(hundredths, min(unit_price_cents, unit_value_cents))
    return voucher_pays, total - voucher_pays
