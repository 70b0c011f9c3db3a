"""Money is integer euro cents, units are integer hundredths. No floats anywhere.

Parsing accepts what people type in Finland ("35,50", "35.50 €", "1 234,5"); formatting follows
the reader's language.
"""

from __future__ import annotations

import functools
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
    """3550 -> '35,50 €' (fi, sv) or '€35.50' (en): what Babel's format_currency gives, made
    from the locale's symbols read off Babel once (Babel's own path costs tens of microseconds
    a call, and a report page has thousands of amounts)."""
    if cents is None:
        return ""
    shape = _euro_shape(locale)
    if shape is None:
        return format_currency(cents_to_decimal(cents), "EUR", locale=locale)
    prefix, suffix, minus_prefix, minus_suffix, group, decimal = shape
    euros, part = divmod(abs(cents), 100)
    digits = f"{euros:,}".replace(",", group) + decimal + f"{part:02d}"
    return (minus_prefix + digits + minus_suffix) if cents < 0 else (prefix + digits + suffix)


@functools.lru_cache(maxsize=16)
def _euro_shape(locale: str) -> tuple[str, str, str, str, str, str] | None:
    """(prefix, suffix, negative prefix, negative suffix, group and decimal symbols) of euro
    amounts in LOCALE, as Babel formats them; None when Babel's amounts do not have that shape
    (other grouping rules, a symbol with digits), and Babel formats each amount itself."""
    def parts(amount: str) -> tuple[str, str, str] | None:
        text = format_currency(Decimal(amount), "EUR", locale=locale)
        start, end = text.find("1"), text.rfind("89") + 2
        return (text[:start], text[end:], text[start:end]) if 0 <= start < end else None

    positive, negative, small = parts("1234567.89"), parts("-1234567.89"), parts("1.89")
    if None in (positive, negative, small) or len(positive[2]) != 12:
        return None
    group, decimal = positive[2][1], positive[2][-3]
    if positive[2] != f"1{group}234{group}567{decimal}89" or negative[2] != positive[2] \
            or small != (positive[0], positive[1], f"1{decimal}89") or group.isdigit():
        return None
    return positive[0], positive[1], negative[0], negative[1], group, decimal


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
