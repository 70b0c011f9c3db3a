"""Configuration, read once from the environment.

Every setting has one name (``VOUCHER_*`` in the environment, the same without the prefix in
Flask's config) and, where a safe value exists, a default. Secrets have no default in
production: the app refuses to start and says what to set.
"""

from __future__ import annotations

import os
from pathlib import Path

ENVIRONMENTS = ("development", "test", "production")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "development-only-secret-key-never-use-in-production"  # noqa: S105
# A fixed Fernet key for development and tests only; production must set its own.
DEV_IDENTITY_KEY = "ZGV2ZWxvcG1lbnQtb25seS1pZGVudGl0eS1rZXkhISE="
DEV_IDENTITY_INDEX_KEY = "development-only-identity-index-key"


class ConfigError(RuntimeError):
    """A required setting is missing or invalid; raised at start-up."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _required_secret(name: str, production: bool, dev_default: str, how: str) -> str:
    value = _env(name)
    if value is None:
        if production:
            raise ConfigError(f"{name} is not set. {how}")
        return dev_default
    return value


def load_config(env: str | None = None) -> dict:
    """Read the environment into Flask config keys; fail loudly on missing secrets."""
    env = env or _env("VOUCHER_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"VOUCHER_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    production = env == "production"
    instance_path = Path(_env("VOUCHER_INSTANCE_PATH", str(PROJECT_ROOT / "instance")))

    secret_key = _required_secret(
        "VOUCHER_SECRET_KEY", production, DEV_SECRET_KEY,
        "Production needs a long random secret, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
    )
    identity_keys = _required_secret(
        "VOUCHER_IDENTITY_KEYS", production, DEV_IDENTITY_KEY,
        "It encrypts personal identity codes: a comma-separated list of Fernet keys, newest "
        "first (`python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'`).",
    )
    identity_index_key = _required_secret(
        "VOUCHER_IDENTITY_INDEX_KEY", production, DEV_IDENTITY_INDEX_KEY,
        "It makes the lookup index of personal identity codes (an HMAC key): a long random "
        "secret that never changes, e.g. `python -c 'import secrets; "
        "print(secrets.token_urlsafe(48))'`.",
    )
    session_timeout = _env_int("VOUCHER_SESSION_TIMEOUT_MINUTES", 30)
    max_upload = _env_int("VOUCHER_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
    retention_years = _env_int("VOUCHER_RETENTION_YEARS", 12)
    if retention_years < 1:
        raise ConfigError("VOUCHER_RETENTION_YEARS must be at least 1 (years after a client's "
                          f"last voucher ended), got {retention_years}")

    return {
        "VOUCHER_ENV": env,
        "TESTING": env == "test",
        "SECRET_KEY": secret_key,
        "DATABASE_URL": _env(
            "VOUCHER_DATABASE_URL", f"sqlite:///{instance_path / 'voucher.sqlite3'}"
        ),
        "IDENTITY_KEYS": [k.strip() for k in identity_keys.split(",") if k.strip()],
        "IDENTITY_INDEX_KEY": identity_index_key,
        "INSTANCE_PATH": str(instance_path),
        "UPLOAD_DIR": _env("VOUCHER_UPLOAD_DIR", str(instance_path / "uploads")),
        "BASE_URL": _env("VOUCHER_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # E-mail: queued in the outbox, delivered by `flask --app voucher outbox send`.
        "MAIL_FROM": _env("VOUCHER_MAIL_FROM", "Kallio palveluseteli <noreply@example.fi>"),
        "SMTP_HOST": _env("VOUCHER_SMTP_HOST"),
        "SMTP_PORT": _env_int("VOUCHER_SMTP_PORT", 25),
        "SMTP_USER": _env("VOUCHER_SMTP_USER"),
        "SMTP_PASSWORD": _env("VOUCHER_SMTP_PASSWORD"),
        "SMTP_STARTTLS": _env_bool("VOUCHER_SMTP_STARTTLS", False),
        # Stripe: without a secret key the online self-share payment is switched off.
        "STRIPE_SECRET_KEY": _env("VOUCHER_STRIPE_SECRET_KEY"),
        "STRIPE_PUBLISHABLE_KEY": _env("VOUCHER_STRIPE_PUBLISHABLE_KEY"),
        "STRIPE_WEBHOOK_SECRET": _env("VOUCHER_STRIPE_WEBHOOK_SECRET"),
        "STRIPE_API_BASE": _env("VOUCHER_STRIPE_API_BASE"),
        "STRIPE_JS_URL": _env("VOUCHER_STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        #: Seconds to wait for each Stripe call, and how often the SDK repeats a call whose
        #: connection failed (with the same idempotency key).
        "STRIPE_TIMEOUT_SECONDS": _env_int("VOUCHER_STRIPE_TIMEOUT_SECONDS", 10),
        "STRIPE_NETWORK_RETRIES": _env_int("VOUCHER_STRIPE_NETWORK_RETRIES", 1),
        # Days after the month's invoice for paying self-shares online; then the provider bills.
        "SELF_SHARE_PAY_DAYS": _env_int("VOUCHER_SELF_SHARE_PAY_DAYS", 14),
        # The organising authority: payer of the SEPA batches.
        "AUTHORITY_NAME": _env("VOUCHER_AUTHORITY_NAME", "Peruspalvelukuntayhtymä Kallio"),
        "AUTHORITY_IBAN": _env("VOUCHER_AUTHORITY_IBAN", "FI4950009420028730"),
        "AUTHORITY_BIC": _env("VOUCHER_AUTHORITY_BIC", "OKOYFIHH"),
        # Security.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "SESSION_TIMEOUT_MINUTES": session_timeout,
        "PERMANENT_SESSION_LIFETIME": session_timeout * 60,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "MAX_UPLOAD_BYTES": max_upload,
        # Werkzeug's hard limit sits above ours so that we can answer with a form error.
        "MAX_CONTENT_LENGTH": max_upload * 6,
        "LOGIN_MAX_FAILURES": _env_int("VOUCHER_LOGIN_MAX_FAILURES", 5),
        "LOGIN_MAX_FAILURES_PER_IP": _env_int("VOUCHER_LOGIN_MAX_FAILURES_PER_IP", 30),
        "LOGIN_WINDOW_MINUTES": _env_int("VOUCHER_LOGIN_WINDOW_MINUTES", 15),
        "PASSWORD_RESET_HOURS": _env_int("VOUCHER_PASSWORD_RESET_HOURS", 2),
        "INVITATION_DAYS": _env_int("VOUCHER_INVITATION_DAYS", 14),
        "REQUIRE_TOTP": _env_bool("VOUCHER_REQUIRE_TOTP", False),
        #: Number of reverse proxies in front of the app whose X-Forwarded-* headers to trust.
        "PROXY_COUNT": _env_int("VOUCHER_PROXY_COUNT", 0),
        "RATELIMIT_STORAGE_URI": _env("VOUCHER_RATELIMIT_STORAGE_URI", "memory://"),
        "API_RATE_LIMIT": _env("VOUCHER_API_RATE_LIMIT", "600 per minute"),
        #: Years after a client's last voucher ended before retention pseudonymises them.
        "RETENTION_YEARS": retention_years,
        "LOG_JSON": _env_bool("VOUCHER_LOG_JSON", production),
        "BABEL_DEFAULT_LOCALE": "fi",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Helsinki",
    }
