"""Helpers the account tests share: a user with two-factor authentication, a copied cookie."""

from __future__ import annotations

import pyotp

from tests import factories
from voucher import clock
from voucher.accounts import two_factor
from voucher.crypto import cipher


def user_with_two_factor(db, **kwargs):
    """A user (an administrator unless ``role`` says otherwise) with TOTP on; returns
    (user, secret)."""
    user = factories.user(db, **kwargs)
    secret = two_factor.new_secret()
    user.totp_secret_encrypted = cipher().encrypt(secret)
    db.flush()
    return user, secret


def code_now(secret: str) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def wrong_code(secret: str) -> str:
    """A six-digit code that is none of the codes accepted now (± one step)."""
    totp = pyotp.TOTP(secret)
    step = totp.timecode(clock.now())
    accepted = {totp.generate_otp(s) for s in (step - 1, step, step + 1)}
    return next(c for c in (f"{n:06d}" for n in range(1000000)) if c not in accepted)


def session_cookie(client) -> str:
    """The value of the client's session cookie (to copy into another browser)."""
    return client.get_cookie("session").value


def browser_with_cookie(app, value: str):
    """A new browser that holds a copy of someone's session cookie."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other
