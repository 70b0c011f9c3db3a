"""Finnish payment reference numbers (viitenumero) for invoices.

A reference is 4–20 digits: a base and a check digit computed with the weights 7, 3, 1
repeating from the right (Finance Finland's standard). The check digit is
``(10 − weighted sum mod 10) mod 10``. An invoice's base is ``1`` followed by its number padded
to six digits, so that references have no leading zeros (banks drop them) and a constant length
for the first million invoices.
"""

from __future__ import annotations

from stdnum import iso11649

_WEIGHTS = (7, 3, 1)


def check_digit(base: str) -> int:
    """The 7-3-1 check digit of a reference base (3–19 digits)."""
    if not (base.isascii() and base.isdigit()) or not 3 <= len(base) <= 19:
        raise ValueError(f"a reference base is 3–19 digits, got {base!r}")
    total = sum(int(digit) * _WEIGHTS[i % 3] for i, digit in enumerate(reversed(base)))
    return (10 - total % 10) % 10


def reference_for_invoice(number: int) -> str:
    """The payment reference of an invoice number, e.g. 42 → 10000427."""
    if number <= 0:
        raise ValueError("invoice numbers start from 1")
    base = f"1{number:06d}"
    return f"{base}{check_digit(base)}"


def is_valid_reference(reference: str | None) -> bool:
    """A Finnish reference with a correct check digit, or an RF creditor reference."""
    if not reference:
        return False
    compact = reference.replace(" ", "").upper()
    if compact.startswith("RF"):
        return iso11649.is_valid(compact)
    return (compact.isascii() and compact.isdigit() and 4 <= len(compact) <= 20
            and check_digit(compact[:-1]) == int(compact[-1]))


def format_reference(reference: str) -> str:
    """Groups of five digits from the right, as printed on Finnish invoices."""
    digits = reference.replace(" ", "")
    head = len(digits) % 5
    groups = ([digits[:head]] if head else []) + [
        digits[i:i + 5] for i in range(head, len(digits), 5)]
    return " ".join(groups)
