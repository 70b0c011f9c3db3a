"""The electronic voucher's codes.

The voucher code is 20 symbols drawn with ``secrets`` from an alphabet of 31 that leaves out
the look-alikes 0/O and 1/I/L: 20 × log2(31) ≈ 99 bits of randomness, so codes can be neither
guessed nor enumerated. It is written in groups of four for reading aloud over the phone.
The confirmation code is a short second secret printed on the decision letter; a provider
needs both to activate a voucher.
"""

from __future__ import annotations

import hmac
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 20
GROUP = 4
CONFIRMATION_LENGTH = 6


def _group(symbols: str) -> str:
    return "-".join(symbols[i:i + GROUP] for i in range(0, len(symbols), GROUP))


def new_voucher_code() -> str:
    """A fresh voucher code, e.g. ``7KQX-M2RT-9HCW-PV4N-ZD3E``."""
    return _group("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)))


def new_confirmation_code() -> str:
    """A fresh confirmation code, e.g. ``K7M2QX``."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CONFIRMATION_LENGTH))


def _symbols(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch not in " -\u00a0\t")


def normalize_voucher_code(text: str) -> str | None:
    """The stored form of a typed code (any case, spaces or dashes), or None when it cannot be
    a voucher code."""
    symbols = _symbols(text)
    if len(symbols) != CODE_LENGTH or any(ch not in ALPHABET for ch in symbols):
        return None
    return _group(symbols)


def confirmation_matches(stored: str, typed: str) -> bool:
    """Compare in constant time, ignoring case and spaces."""
    return hmac.compare_digest(stored.encode(), _symbols(typed).encode())
