"""Account operations: log in (with throttling), passwords, one-time links, creating users."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts import passwords
from voucher.accounts.models import LoginAttempt, Role, TokenPurpose, User, UserToken
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError, ValidationFailed
from voucher.mail.services import absolute_url, queue_email


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    message = _l("The e-mail address or password is wrong.")


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429
    message = _l("Too many failed login attempts. Try again in %(minutes)d minutes, or reset "
                 "your password.")


class InvalidLink(DomainError):
    code = "invalid_link"
    status = 410
    message = _l("This link has expired or has already been used. Ask for a new one.")


class EmailTaken(DomainError):
    code = "email_taken"
    status = 409
    message = _l("An account with this e-mail address already exists.")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.execute(
        sa.select(User).where(User.email == normalize_email(email))
    ).scalar_one_or_none()


def _recent_failures(session: Session, column, value: str, since: dt.datetime) -> int:
    return session.execute(
        sa.select(sa.func.count()).select_from(LoginAttempt)
        .where(column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since)
    ).scalar_one()


def login_limits(config) -> dict:
    """The throttling settings ``authenticate`` and ``record_failed_login`` take."""
    return {
        "max_failures": config["LOGIN_MAX_FAILURES"],
        "max_failures_per_ip": config["LOGIN_MAX_FAILURES_PER_IP"],
        "window_minutes": config["LOGIN_WINDOW_MINUTES"],
    }


def authenticate(
    session: Session, *, email: str, password: str, ip: str, limits: dict
) -> User:
    """Check a login; a successful one is recorded. Too many recent failures of the account or
    of the address refuse even a right password (TooManyAttempts).

    ``limits``: max_failures (per account), max_failures_per_ip, window_minutes.
    A wrong password raises InvalidCredentials, which dooms the request: the caller records the
    failure with ``record_failed_login`` in a unit of its own, so that it counts.
    """
    email = normalize_email(email)
    now = clock.now()
    window = dt.timedelta(minutes=limits["window_minutes"])
    minutes = limits["window_minutes"]
    ip_failures = _recent_failures(session, LoginAttempt.ip, ip, now - window)
    if ip_failures >= limits["max_failures_per_ip"]:
        raise TooManyAttempts(minutes=minutes)
    user = find_user_by_email(session, email)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        remaining = int((user.locked_until - now).total_seconds() // 60) + 1
        raise TooManyAttempts(minutes=remaining)

    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not (ok and user is not None and user.is_active):
        raise InvalidCredentials()
    session.add(LoginAttempt(email=email[:254], ip=ip, succeeded=True, at=now))
    user.locked_until = None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def record_failed_login(session: Session, *, email: str, ip: str, limits: dict) -> None:
    """A wrong password (or second-factor code) counts against the account and the address;
    the account locks for the window when it reaches ``max_failures`` (its owner gets an
    e-mail). Runs in a unit of its own, committed although the login is refused."""
    email = normalize_email(email)
    now = clock.now()
    window = dt.timedelta(minutes=limits["window_minutes"])
    session.add(LoginAttempt(email=email[:254], ip=ip, succeeded=False, at=now))
    session.flush()
    user = find_user_by_email(session, email)
    if user is None or (user.locked_until is not None and user.locked_until > now):
        return
    if _recent_failures(session, LoginAttempt.email, email, now - window) >= \
            limits["max_failures"]:
        _lock_account(session, user, until=now + window, ip=ip)


def record_login(session: Session, user: User, actor: Actor) -> None:
    """A session starts (after the password, and the code when two-factor is on)."""
    user.last_login_at = clock.now()
    record_event(session, actor, "user.logged_in", "user", user.id)


def _lock_account(session: Session, user: User, *, until: dt.datetime, ip: str) -> None:
    user.locked_until = until
    record_event(session, Actor.system("login-throttle"), "user.locked", "user", user.id,
                 until=until.isoformat(), ip=ip)
    queue_email(session, to=user.email, template="accounts/account_locked",
                language=user.language, user=user, until=until,
                reset_link=absolute_url("accounts.request_reset"))


def record_logout(session: Session, user: User, actor: Actor) -> None:
    record_event(session, actor, "user.logged_out", "user", user.id)


def _check_new_password(new_password: str, confirm: str | None, email: str) -> None:
    errors = {}
    problems = passwords.password_problems(new_password, email=email)
    if problems:
        errors["new_password"] = " ".join(problems)
    elif confirm is not None and confirm != new_password:
        errors["confirm_password"] = str(_l("The passwords do not match."))
    if errors:
        raise ValidationFailed(errors)


def _set_password(session: Session, user: User, new_password: str) -> None:
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = clock.now()
    user.session_version += 1  # every other session of this user ends
    user.locked_until = None


def change_password(
    session: Session, user: User, *, current_password: str, new_password: str,
    confirm_password: str, actor: Actor,
) -> None:
    """Change one's own password; the current one must be given. Other sessions end."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise ValidationFailed({"current_password": str(_l("The current password is wrong."))})
    _check_new_password(new_password, confirm_password, user.email)
    _set_password(session, user, new_password)
    record_event(session, actor, "user.password_changed", "user", user.id)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session, user: User, purpose: TokenPurpose, valid_for: dt.timedelta
) -> str:
    """Create a single-use link token; only its hash is stored. Older unused tokens of the same
    purpose stop working."""
    now = clock.now()
    session.execute(
        sa.update(UserToken)
        .where(UserToken.user_id == user.id, UserToken.purpose == purpose,
               UserToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(UserToken(user_id=user.id, purpose=purpose, token_hash=_hash_token(token),
                          created_at=now, expires_at=now + valid_for))
    session.flush()
    return token


def find_valid_token(session: Session, token: str, purpose: TokenPurpose) -> UserToken:
    """The unused, unexpired token row, or InvalidLink."""
    row = session.execute(
        sa.select(UserToken).where(UserToken.token_hash == _hash_token(token or ""),
                                   UserToken.purpose == purpose)
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= clock.now():
        raise InvalidLink()
    return row


def _consume_token(session: Session, row: UserToken) -> None:
    # Conditional update: two simultaneous uses of one link cannot both succeed.
    result = session.execute(
        sa.update(UserToken).where(UserToken.id == row.id, UserToken.used_at.is_(None))
        .values(used_at=clock.now())
    )
    if result.rowcount != 1:
        raise InvalidLink()


def request_password_reset(session: Session, *, email: str, hours: int, ip: str | None) -> None:
    """E-mail a reset link if the account exists. The answer is the same either way, so the
    form cannot be used to find out who has an account."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        return
    token = issue_token(session, user, TokenPurpose.PASSWORD_RESET, dt.timedelta(hours=hours))
    queue_email(session, to=user.email, template="accounts/password_reset",
                language=user.language, user=user, hours=hours,
                link=absolute_url("accounts.reset_password", token=token))
    record_event(session, Actor(None, "password-reset-form", ip), "user.password_reset_requested",
                 "user", user.id)


def reset_password(
    session: Session, *, token: str, new_password: str, confirm_password: str,
    purpose: TokenPurpose = TokenPurpose.PASSWORD_RESET,
) -> User:
    """Set a new password with a reset or invitation link; the link is used up."""
    row = find_valid_token(session, token, purpose)
    user = row.user
    _check_new_password(new_password, confirm_password, user.email)
    _consume_token(session, row)
    _set_password(session, user, new_password)
    action = "user.invitation_accepted" if purpose == TokenPurpose.INVITATION else \
        "user.password_reset"
    record_event(session, Actor(user.id, f"user:{user.id}"), action, "user", user.id)
    return user


def create_user(
    session: Session, *, email: str, role: Role, display_name: str, actor: Actor,
    language: str = "fi", password: str | None = None, provider_id: int | None = None,
    client_id: int | None = None, municipalities=(),
) -> User:
    """Create an account. Without a password the user must be invited to set one."""
    email = normalize_email(email)
    if find_user_by_email(session, email) is not None:
        raise EmailTaken(field="email")
    user = User(email=email, role=role, display_name=display_name, language=language,
                provider_id=provider_id, client_id=client_id,
                password_hash=passwords.hash_password(password) if password else None)
    user.municipalities = list(municipalities)
    session.add(user)
    session.flush()
    record_event(session, actor, "user.created", "user", user.id, role=str(role),
                 client_id=client_id)
    return user


def invite_user(session: Session, user: User, *, days: int, actor: Actor) -> str:
    """E-mail an invitation link with which the user sets a password."""
    token = issue_token(session, user, TokenPurpose.INVITATION, dt.timedelta(days=days))
    queue_email(session, to=user.email, template="accounts/invitation", language=user.language,
                user=user, days=days, link=absolute_url("accounts.accept_invitation", token=token))
    record_event(session, actor, "user.invited", "user", user.id)
    return token


def load_user_for_session(session: Session, identity: str) -> User | None:
    """Flask-Login's loader: the user of a session identity 'id:version', if still valid."""
    user_id, _, version = (identity or "").partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user
