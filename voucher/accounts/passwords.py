"""Argon2id password hashing (argon2-cffi) and the password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 256
#: OWASP's Password Storage Cheat Sheet, Argon2id: "m=7168 (7 MiB), t=5, p=1", the last of its
#: five configurations of "an equal level of defense" (46 MiB with one pass, down to 7 MiB with
#: five). Measured on two cores (2026-12-04): 14 ms of CPU a hash, where 46 MiB, t=1 took 57 ms,
#: half of it the kernel's (mapping and zeroing 46 MiB afresh for every hash, because a block
#: that large is always mapped and unmapped). 7 MiB lies under glibc's largest mmap threshold,
#: so a thread's malloc arena keeps a freed buffer and the next hash reuses it: what stays
#: resident is bounded at about one buffer per arena (at most one per thread), and four hashes
#: in flight took 28 MiB instead of 163. Hashes made with other parameters are rehashed at the
#: next login (``needs_rehash``).
OWASP_PARAMETERS = {"time_cost": 5, "memory_cost": 7168, "parallelism": 1}
_hasher = PasswordHasher(**OWASP_PARAMETERS)
# Verified against when the e-mail is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH: str | None = None


def configure(*, fast: bool) -> None:
    """Tests use cheap parameters; everything else OWASP's (``OWASP_PARAMETERS``)."""
    global _hasher, _DUMMY_HASH
    _hasher = (
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if fast
        else PasswordHasher(**OWASP_PARAMETERS)
    )
    _DUMMY_HASH = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; runs a full verification even without a hash."""
    global _DUMMY_HASH
    if password_hash is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hasher.hash("dummy password for timing")
        password_hash = _DUMMY_HASH
        password = password + "\x00never"
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problems(password: str, *, email: str | None = None) -> list[str]:
    """Why a new password is not acceptable (empty when it is)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(str(_l("The password must be at least %(n)d characters long.",
                               n=MIN_LENGTH)))
    if len(password) > MAX_LENGTH:
        problems.append(str(_l("The password can be at most %(n)d characters long.",
                               n=MAX_LENGTH)))
    if email and password.strip().lower() == email.strip().lower():
        problems.append(str(_l("The password cannot be your e-mail address.")))
    if len(set(password)) < 4:
        problems.append(str(_l("The password is too simple; use a few words or varied "
                               "characters.")))
    return problems
