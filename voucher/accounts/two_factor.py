"""Two-factor authentication with time-based one-time codes (TOTP, RFC 6238, via pyotp).

Optional for administrators, case managers and provider users; required for staff when
VOUCHER_REQUIRE_TOTP is set and for provider users when VOUCHER_REQUIRE_PROVIDER_TOTP is.
Turning it on or off ends the user's other sessions. The secret is stored encrypted like
identity codes; a code is accepted once (the last used time step is remembered) and within one
step of clock drift.
"""

from __future__ import annotations

import pyotp
import segno
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts import passwords, sessions
from voucher.accounts.models import Role, User
from voucher.audit.services import Actor, record_event
from voucher.crypto import cipher
from voucher.errors import ValidationFailed

ISSUER = "Voucher"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(uri: str, label: str) -> str:
    """The provisioning URI as an inline SVG QR code (no inline styles: CSP-safe)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _matching_step(secret: str, code: str) -> int | None:
    """The time step the code belongs to (now ± one step), or None."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = clock.now()
    step = totp.timecode(now)
    for candidate in (step, step - 1, step + 1):
        if totp.generate_otp(candidate) == code:
            return candidate
    return None


def enable(session: Session, user: User, *, secret: str, code: str, actor: Actor,
           keep_session: str | None = None) -> None:
    """Turn two-factor authentication on after the user proved the app works. Every other
    session of the user ends (all but ``keep_session``'s)."""
    step = _matching_step(secret, code)
    if step is None:
        raise ValidationFailed({"code": str(_l("The code is wrong. Check that the time on "
                                               "your phone is right and try again."))})
    user.totp_secret_encrypted = cipher().encrypt(secret)
    user.totp_last_step = step
    sessions.end_all(session, user, "two_factor_changed", keep=keep_session)
    record_event(session, actor, "user.two_factor_enabled", "user", user.id)


def disable(session: Session, user: User, *, password: str, actor: Actor,
            keep_session: str | None = None) -> None:
    """Turn it off; the password must be given. Every other session ends."""
    if not passwords.verify_password(user.password_hash, password):
        raise ValidationFailed({"password": str(_l("The password is wrong."))})
    user.totp_secret_encrypted = None
    user.totp_last_step = None
    sessions.end_all(session, user, "two_factor_changed", keep=keep_session)
    record_event(session, actor, "user.two_factor_disabled", "user", user.id)


def verify(session: Session, user: User, code: str) -> bool:
    """Check a login code; each code works only once."""
    if user.totp_secret_encrypted is None:
        return False
    step = _matching_step(cipher().decrypt(user.totp_secret_encrypted), code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


#: Who may turn two-factor authentication on (clients log in with strong identification).
AVAILABLE_TO = (Role.ADMIN, Role.CASE_MANAGER, Role.PROVIDER)


def available_to(user: User) -> bool:
    return user.role in AVAILABLE_TO


def required_for(user: User, required_by_config: bool, providers_required: bool = False) -> bool:
    """Staff must use two-factor authentication when the deployment requires it
    (VOUCHER_REQUIRE_TOTP), and provider users when VOUCHER_REQUIRE_PROVIDER_TOTP is set: each
    of them may change the provider's bank account, where the authority pays."""
    if user.role == Role.PROVIDER:
        return providers_required
    return required_by_config and user.is_staff
