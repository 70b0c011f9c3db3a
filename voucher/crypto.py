"""Encryption of personal identity codes (and TOTP secrets) at rest.

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a list of keys, newest first:
new values are encrypted with the newest key, old values stay readable with any listed key, and
``rotate`` re-encrypts a value with the newest. Uniqueness and lookup use a separate HMAC
"blind index", so the database never needs the plaintext.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class DataCipher:
    def __init__(self, keys: list[str], index_key: str):
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        self._primary = Fernet(keys[0].encode())
        self._index_key = index_key.encode()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")

    def rotate(self, token: str) -> str:
        """The same value encrypted with the newest key."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")

    def is_current(self, token: str) -> bool:
        """True when the value is already encrypted with the newest key."""
        try:
            self._primary.decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def blind_index(self, normalized: str) -> str:
        """A keyed hash for equality lookups of an encrypted value."""
        return hmac.new(self._index_key, normalized.encode("utf-8"), hashlib.sha256).hexdigest()


def cipher() -> DataCipher:
    """The app's cipher, built from IDENTITY_KEYS and IDENTITY_INDEX_KEY."""
    app = current_app._get_current_object()
    existing = app.extensions.get("voucher.cipher")
    if existing is None:
        existing = DataCipher(app.config["IDENTITY_KEYS"], app.config["IDENTITY_INDEX_KEY"])
        app.extensions["voucher.cipher"] = existing
    return existing
