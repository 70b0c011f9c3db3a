"""Account operations: log in (throttled by voucher/accounts/throttling.py), passwords,
one-time links, creating and locking users."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts import passwords, sessions, throttling
from voucher.accounts.models import Role, TokenPurpose, User, UserToken
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError, ValidationFailed
from voucher.mail.services import absolute_url, queue_email


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    message = _l("The e-mail address or password is wrong.")


class InvalidLink(DomainError):
    code = "invalid_link"
    status = 410
    message = _l("This link has expired or has already been used. Ask for a new one.")


class TooManyLinks(DomainError):
    code = "too_many_links"
    status = 429
    message = _l("Several links have already been e-mailed to this account within the hour. "
                 "Try again later.")


#: Reset and invitation e-mails per hour, per account and per requesting address.
DEFAULT_LINK_LIMITS = {"per_account": 3, "per_address": 10}


def link_limits_from(config) -> dict:
    return {"per_account": config["LINK_EMAILS_PER_ACCOUNT_PER_HOUR"],
            "per_address": config["LINK_EMAILS_PER_ADDRESS_PER_HOUR"]}


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


def authenticate(
    session: Session, *, email: str, password: str, ip: str, limits: dict
) -> User:
    """Check a login; a successful one is recorded. During a pause that failed attempts asked
    for (voucher/accounts/throttling.py) even a right password is refused (TooManyAttempts),
    without being checked.

    ``limits``: throttling.limits_from(config). A wrong password raises InvalidCredentials,
    which dooms the request: the caller records the failure with
    ``throttling.record_failed_login`` in a unit of its own, so that it counts.
    """
    email = normalize_email(email)
    throttling.check_login_allowed(session, email=email, ip=ip, limits=limits)
    user = find_user_by_email(session, email)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not (ok and user is not None and user.is_active):
        raise InvalidCredentials()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def record_login(session: Session, user: User, actor: Actor) -> str:
    """A session starts (after the password, and the code when two-factor is on): its row is
    created and its token, for the cookie, returned. The address becomes one the account has
    logged in from (throttling spares it)."""
    user.last_login_at = clock.now()
    throttling.record_success(session, email=user.email, ip=actor.ip or "unknown")
    record_event(session, actor, "user.logged_in", "user", user.id)
    return sessions.open_session(session, user, ip=actor.ip)


def record_logout(session: Session, user: User, actor: Actor, *, token: str | None) -> None:
    """The session of ``token`` ends on the server: a copy of its cookie no longer works."""
    sessions.end(session, token, "logout")
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


def _set_password(session: Session, user: User, new_password: str,
                  keep_session: str | None = None) -> None:
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = clock.now()
    # Every other session and pending login of this user ends.
    sessions.end_all(session, user, "password_changed", keep=keep_session)


def change_password(
    session: Session, user: User, *, current_password: str, new_password: str,
    confirm_password: str, actor: Actor, keep_session: str | None = None,
) -> None:
    """Change one's own password; the current one must be given. Other sessions end (all but
    the one whose token is ``keep_session``)."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise ValidationFailed({"current_password": str(_l("The current password is wrong."))})
    _check_new_password(new_password, confirm_password, user.email)
    _set_password(session, user, new_password, keep_session)
    record_event(session, actor, "user.password_changed", "user", user.id)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session, user: User, purpose: TokenPurpose, valid_for: dt.timedelta,
    ip: str | None = None,
) -> str:
    """Create a single-use link token; only its hash is stored. Older unused tokens of the same
    purpose stop working. ``ip``: the address that asked for it (counted by link limits)."""
    now = clock.now()
    session.execute(
        sa.update(UserToken)
        .where(UserToken.user_id == user.id, UserToken.purpose == purpose,
               UserToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(UserToken(user_id=user.id, purpose=purpose, token_hash=_hash_token(token),
                          created_at=now, expires_at=now + valid_for,
                          requested_ip=(ip or "")[:64] or None))
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


def links_allowed(session: Session, user: User, purpose: TokenPurpose, *, ip: str | None,
                  limits: dict) -> bool:
    """Whether another link of ``purpose`` may be e-mailed: at most ``per_account`` an hour to
    the user, and ``per_address`` an hour asked from one address (whatever the accounts), so
    nobody can flood a mailbox or the outbox."""
    since = clock.now() - dt.timedelta(hours=1)
    issued = sa.select(sa.func.count()).select_from(UserToken).where(
        UserToken.purpose == purpose, UserToken.created_at >= since)
    if session.execute(issued.where(UserToken.user_id == user.id)).scalar_one() >= \
            limits["per_account"]:
        return False
    return not ip or session.execute(issued.where(UserToken.requested_ip == ip)).scalar_one() \
        < limits["per_address"]


def request_password_reset(session: Session, *, email: str, hours: int, ip: str | None,
                           limits: dict | None = None) -> None:
    """E-mail a reset link if the account exists and its link limits allow (``limits``:
    per_account, per_address, each an hour). The answer is the same in every case, so the form
    cannot be used to find out who has an account, nor to flood one with e-mail."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        return
    actor = Actor(None, "password-reset-form", ip)
    if not links_allowed(session, user, TokenPurpose.PASSWORD_RESET, ip=ip,
                         limits=limits or DEFAULT_LINK_LIMITS):
        record_event(session, actor, "user.password_reset_throttled", "user", user.id)
        return
    token = issue_token(session, user, TokenPurpose.PASSWORD_RESET, dt.timedelta(hours=hours),
                        ip=ip)
    queue_email(session, to=user.email, template="accounts/password_reset",
                language=user.language, user=user, hours=hours,
                link=absolute_url("accounts.reset_password", token=token))
    record_event(session, actor, "user.password_reset_requested", "user", user.id)


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


def invite_user(session: Session, user: User, *, days: int, actor: Actor,
                limits: dict | None = None) -> str:
    """E-mail an invitation link with which the user sets a password; refused (TooManyLinks)
    beyond the link limits (``limits``: per_account, per_address, each an hour)."""
    if not links_allowed(session, user, TokenPurpose.INVITATION, ip=actor.ip,
                         limits=limits or DEFAULT_LINK_LIMITS):
        raise TooManyLinks()
    token = issue_token(session, user, TokenPurpose.INVITATION, dt.timedelta(days=days),
                        ip=actor.ip)
    queue_email(session, to=user.email, template="accounts/invitation", language=user.language,
                user=user, days=days, link=absolute_url("accounts.accept_invitation", token=token))
    record_event(session, actor, "user.invited", "user", user.id)
    return token


def load_user_for_session(session: Session, identity: str, token: str | None) -> User | None:
    """Flask-Login's loader: the user of a session identity 'id:version' whose server-side
    session (``token``, from the cookie) is still open."""
    user_id, _, version = (identity or "").partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    return sessions.user_of(session, user_id=int(user_id), version=int(version), token=token)


def lock_user(session: Session, user: User, *, actor: Actor) -> None:
    """An administrator locks an account: it cannot log in, and every session of it ends at
    once, on every server."""
    if user.id == actor.user_id:
        raise DomainError(_l("You cannot lock your own account."))
    user.is_active = False
    sessions.end_all(session, user, "locked")
    record_event(session, actor, "user.locked_by_admin", "user", user.id)


def unlock_user(session: Session, user: User, *, actor: Actor) -> None:
    """An administrator opens a locked account again (its old sessions stay ended)."""
    user.is_active = True
    record_event(session, actor, "user.unlocked", "user", user.id)
