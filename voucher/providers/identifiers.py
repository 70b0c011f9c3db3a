"""Checking the identifiers a provider gives: business ID (Y-tunnus), IBAN and BIC.

Each returns the canonical form to store, or raises ``ValidationFailed`` naming the field.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from stdnum import bic, iban
from stdnum.exceptions import ValidationError
from stdnum.fi import ytunnus

from voucher.errors import ValidationFailed


def _checked(validate, text: str, field: str, message) -> str:
    try:
        return validate(text or "")
    except ValidationError as exc:
        raise ValidationFailed({field: str(message)}) from exc


def business_id(text: str, field: str = "business_id") -> str:
    """'07375462' or '0737546-2' -> '0737546-2'; the check digit must match."""
    return ytunnus.format(_checked(ytunnus.validate, text, field, _l(
        "This is not a valid business ID. It has seven digits, a hyphen and a check digit, "
        "e.g. 1234567-1; check the digits.")))


def bank_account(text: str, field: str = "iban") -> str:
    """An IBAN in its compact form (FI2112345600000785); the checksum must match."""
    return _checked(iban.validate, text, field, _l(
        "This is not a valid IBAN. A Finnish IBAN is FI followed by 16 digits, e.g. "
        "FI21 1234 5600 0007 85; check the digits."))


def bank_code(text: str, field: str = "bic") -> str:
    """A BIC (SWIFT code) in capitals, e.g. NDEAFIHH."""
    return _checked(bic.validate, text, field, _l(
        "This is not a valid BIC. It has 8 or 11 letters and digits, e.g. NDEAFIHH."))
