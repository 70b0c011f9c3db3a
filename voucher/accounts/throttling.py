"""Login throttling that slows guessing down without letting anyone lock others out.

Failures are rows of ``login_attempts`` (the database, so every app server counts the same).
Nothing locks: each counter only asks for a pause after its last failure, growing with the
failures in the window (``LOGIN_WINDOW_MINUTES``), and an attempt in the pause is refused
without looking at the password (and without counting, so hammering gains nothing):

* **account and address** (``LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP`` free, then 30 s, 1 min,
  2 min … up to the window): the one guessing an account from one place slows down most;
* **account** (``LOGIN_MAX_FAILURES`` free, then 2 s doubling up to
  ``LOGIN_MAX_DELAY_SECONDS``): guesses from many addresses; it never applies to an address
  the account has logged in from before (``KNOWN_ADDRESS_DAYS``), so its owner gets in;
* **address** (``LOGIN_MAX_FAILURES_PER_IP`` free, then the same short pause): one address
  guessing many accounts; never for an account that has logged in from there before, so a
  shared NAT (or a proxy that hides every address) cannot keep the others out.

Anyone else waits at most ``LOGIN_MAX_DELAY_SECONDS``. When an account reaches
``LOGIN_MAX_FAILURES`` its owner gets one e-mail.

The second step (TOTP) counts apart: ``LOGIN_MAX_CODE_FAILURES`` wrong codes end the pending
login (whoever it is already knows the password: the owner is told), and
``LOGIN_MAX_CODE_FAILURES_PER_ACCOUNT`` in the window refuse the code step of the account
until the window has passed.
"""

from __future__ import annotations

import datetime as dt
import math

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import AttemptKind, LoginAttempt, User, UserSession
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError
from voucher.mail.services import absolute_url, queue_email

#: An address the account logged in from within this many days is known: the per-account
#: and per-address pauses do not apply to it.
KNOWN_ADDRESS_DAYS = 90
#: The first pause of the account-and-address counter, and of the others.
PAIR_BASE_SECONDS = 30
SHORT_BASE_SECONDS = 2


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429
    message = _l("Too many failed login attempts. Try again in %(minutes)d minutes, or reset "
                 "your password.")


class LoginPaused(TooManyAttempts):
    """A pause of seconds, not minutes."""

    message = _l("Too many failed login attempts. Wait %(seconds)d seconds and try again.")


class TooManyCodes(DomainError):
    code = "too_many_codes"
    status = 429
    message = _l("Too many wrong codes. Log in again with your password in %(minutes)d "
                 "minutes.")


def limits_from(config) -> dict:
    """The throttling settings, from the app's config."""
    return {
        "max_failures": config["LOGIN_MAX_FAILURES"],
        "max_failures_per_ip": config["LOGIN_MAX_FAILURES_PER_IP"],
        "max_failures_per_account_and_ip": config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"],
        "max_delay_seconds": config["LOGIN_MAX_DELAY_SECONDS"],
        "window_minutes": config["LOGIN_WINDOW_MINUTES"],
        "max_code_failures": config["LOGIN_MAX_CODE_FAILURES"],
        "max_code_failures_per_account": config["LOGIN_MAX_CODE_FAILURES_PER_ACCOUNT"],
    }


def pause_seconds(failures: int, *, free: int, base: int, cap: int) -> int:
    """The pause after the last failure: none for the first ``free`` failures, then ``base``
    seconds doubling with each further failure, never above ``cap``."""
    if failures < free:
        return 0
    return min(cap, base * 2 ** min(failures - free, 30))


def _failures(session: Session, since: dt.datetime, *conditions,
              kind: AttemptKind = AttemptKind.PASSWORD) -> tuple[int, dt.datetime | None]:
    """How many failed attempts of the kind (passwords, or second-step codes) match, and when
    the last one was."""
    return session.execute(
        sa.select(sa.func.count(), sa.func.max(LoginAttempt.at))
        .where(LoginAttempt.succeeded.is_(False), LoginAttempt.kind == kind,
               LoginAttempt.at >= since, *conditions)
    ).one()


def _known_address(session: Session, email: str, ip: str, now: dt.datetime) -> bool:
    return session.execute(
        sa.select(LoginAttempt.id).where(
            LoginAttempt.email == email, LoginAttempt.ip == ip,
            LoginAttempt.succeeded.is_(True),
            LoginAttempt.at >= now - dt.timedelta(days=KNOWN_ADDRESS_DAYS)).limit(1)
    ).first() is not None


def check_login_allowed(session: Session, *, email: str, ip: str, limits: dict) -> None:
    """Refuse (LoginPaused / TooManyAttempts) an attempt made during a pause; see the module's
    rules. Reads only: a refused attempt is not counted."""
    now = clock.now()
    since = now - dt.timedelta(minutes=limits["window_minutes"])
    window_seconds = limits["window_minutes"] * 60
    cap = min(limits["max_delay_seconds"], window_seconds)
    waits = []
    count, last = _failures(session, since, LoginAttempt.email == email, LoginAttempt.ip == ip)
    waits.append((last, pause_seconds(count, free=limits["max_failures_per_account_and_ip"],
                                      base=PAIR_BASE_SECONDS, cap=window_seconds)))
    if not _known_address(session, email, ip, now):
        count, last = _failures(session, since, LoginAttempt.email == email)
        waits.append((last, pause_seconds(count, free=limits["max_failures"],
                                          base=SHORT_BASE_SECONDS, cap=cap)))
        count, last = _failures(session, since, LoginAttempt.ip == ip)
        waits.append((last, pause_seconds(count, free=limits["max_failures_per_ip"],
                                          base=SHORT_BASE_SECONDS, cap=cap)))
    remaining = max([(last + dt.timedelta(seconds=pause) - now).total_seconds()
                     for last, pause in waits if last is not None and pause] or [0])
    if remaining > 0:
        seconds = math.ceil(remaining)
        if seconds <= 120:
            raise LoginPaused(seconds=seconds)
        raise TooManyAttempts(minutes=math.ceil(seconds / 60))


def record_success(session: Session, *, email: str, ip: str) -> None:
    session.add(LoginAttempt(email=email[:254], ip=ip, succeeded=True, at=clock.now()))


def record_failed_login(session: Session, *, email: str, ip: str, limits: dict) -> None:
    """A wrong password counts against the account, the address and both together; when the
    account reaches ``max_failures`` in the window its owner is told (once). Runs in a unit of
    its own, committed although the login is refused."""
    now = clock.now()
    session.add(LoginAttempt(email=email[:254], ip=ip, succeeded=False, at=now,
                             kind=AttemptKind.PASSWORD))
    session.flush()
    user = session.execute(sa.select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        return
    count, _last = _failures(session, now - dt.timedelta(minutes=limits["window_minutes"]),
                             LoginAttempt.email == email)
    if count == limits["max_failures"]:
        record_event(session, Actor.system("login-throttle"), "user.login_slowed", "user",
                     user.id, ip=ip)
        queue_email(session, to=user.email, template="accounts/failed_logins",
                    language=user.language, user=user,
                    reset_link=absolute_url("accounts.request_reset"))


def check_code_allowed(session: Session, user: User, *, limits: dict) -> None:
    """Refuse the second step while the account has had too many wrong codes in the window."""
    now = clock.now()
    window = dt.timedelta(minutes=limits["window_minutes"])
    count, last = _failures(session, now - window, LoginAttempt.email == user.email,
                            kind=AttemptKind.CODE)
    if count >= limits["max_code_failures_per_account"]:
        raise TooManyCodes(minutes=math.ceil((last + window - now).total_seconds() / 60))


def record_failed_code(session: Session, *, pending_id: int, ip: str, limits: dict) -> bool:
    """A wrong second-step code counts against its pending login and the account. The pending
    login ends at ``max_code_failures``, and the owner is told that someone who knew the
    password failed the second step. Returns whether the pending login ended. Runs in a unit
    of its own, committed although the code is refused."""
    session.execute(sa.update(UserSession).where(UserSession.id == pending_id)
                    .values(failed_codes=UserSession.failed_codes + 1))
    pending = session.get(UserSession, pending_id)
    user = session.get(User, pending.user_id)
    session.add(LoginAttempt(email=user.email, ip=ip, succeeded=False, at=clock.now(),
                             kind=AttemptKind.CODE))
    if pending.ended_at is not None or pending.failed_codes < limits["max_code_failures"]:
        return False
    pending.ended_at = clock.now()
    pending.end_reason = "too_many_codes"
    record_event(session, Actor.system("login-throttle"), "user.second_step_failed", "user",
                 user.id, ip=ip, codes=pending.failed_codes)
    queue_email(session, to=user.email, template="accounts/second_step_failed",
                language=user.language, user=user,
                reset_link=absolute_url("accounts.request_reset"))
    return True
