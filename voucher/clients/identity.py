"""Personal identity codes (henkilötunnus): validation, encryption, masking.

Codes are validated with python-stdnum (checksum, date, century sign). Temporary identifiers
(individual numbers 900–999) are accepted: organisations give them to people who do not yet
have a permanent code, and the demo data uses them so that it never names a real person.
"""

from __future__ import annotations

from dataclasses import dataclass

from stdnum.exceptions import ValidationError
from stdnum.fi import hetu

from voucher.crypto import cipher


class InvalidIdentityCode(ValueError):
    """Not a valid henkilötunnus."""


def normalize_identity_code(text: str) -> str:
    """The canonical upper-case form, or InvalidIdentityCode."""
    try:
        return hetu.validate((text or "").strip().upper(), allow_temporary=True)
    except ValidationError as exc:
        raise InvalidIdentityCode(str(exc)) from exc


def is_identity_code(text: str) -> bool:
    try:
        normalize_identity_code(text)
    except InvalidIdentityCode:
        return False
    return True


def mask_identity_code(code: str) -> str:
    """Birth date and century sign stay, the rest is hidden: 150344-****."""
    return code[:7] + "****"


@dataclass(frozen=True)
class ProtectedIdentityCode:
    encrypted: str
    index: str
    masked: str


def protect_identity_code(text: str) -> ProtectedIdentityCode:
    """Validate and turn a code into what is stored: ciphertext, blind index and mask."""
    code = normalize_identity_code(text)
    data_cipher = cipher()
    return ProtectedIdentityCode(
        encrypted=data_cipher.encrypt(code),
        index=data_cipher.blind_index(code),
        masked=mask_identity_code(code),
    )


def identity_code_index(text: str) -> str:
    """The blind index of a code, for finding a client by it."""
    return cipher().blind_index(normalize_identity_code(text))


def decrypt_identity_code(encrypted: str) -> str:
    """The plaintext code. Callers must record an audit event for every view."""
    return cipher().decrypt(encrypted)
