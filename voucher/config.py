"""Configuration, read once from the environment.

Every setting has one name (``VOUCHER_*`` in the environment, the same without the prefix in
Flask's config) and, where a safe value exists, a default. Production is what runs when nothing
says otherwise (no ``VOUCHER_ENV``): secrets, the public address, the database, the mail and the
payer's account have no default there, and the app refuses to start naming every setting to
fix. Only ``scripts/run``, the tests and the benchmarks choose ``development`` or ``test``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

ENVIRONMENTS = ("development", "test", "production")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "development-only-secret-key-never-use-in-production"  # noqa: S105
# A fixed Fernet key for development and tests only; production must set its own.
DEV_IDENTITY_KEY = "ZGV2ZWxvcG1lbnQtb25seS1pZGVudGl0eS1rZXkhISE="
DEV_IDENTITY_INDEX_KEY = "development-only-identity-index-key"


class ConfigError(click.ClickException):
    """A required setting is missing or invalid; raised at start-up. A ClickException, so
    that the ``flask`` commands (cron) print the message alone and exit 1."""


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


#: Values published in this repository (development, the demo's fake Stripe): production
#: refuses to start with any of them, whatever else is set.
PUBLISHED_VALUES = {
    "VOUCHER_SECRET_KEY": {DEV_SECRET_KEY},
    "VOUCHER_IDENTITY_KEYS": {DEV_IDENTITY_KEY},
    "VOUCHER_IDENTITY_INDEX_KEY": {DEV_IDENTITY_INDEX_KEY},
    "VOUCHER_STRIPE_SECRET_KEY": {"sk_test_demo"},
    "VOUCHER_STRIPE_PUBLISHABLE_KEY": {"pk_test_demo"},
    "VOUCHER_STRIPE_WEBHOOK_SECRET": {"whsec_demo"},
}
_RANDOM_COMMAND = "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`"
#: What production needs and has no safe default for, with how to make or find each.
PRODUCTION_REQUIRED = {
    "VOUCHER_SECRET_KEY": f"a long random secret that signs sessions, e.g. {_RANDOM_COMMAND}",
    "VOUCHER_IDENTITY_KEYS": (
        "the Fernet keys that encrypt personal identity codes, comma-separated, newest first "
        "(`python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'`)"),
    "VOUCHER_IDENTITY_INDEX_KEY": (
        "the HMAC key of the identity-code lookup index, a long random secret that never "
        f"changes, e.g. {_RANDOM_COMMAND}"),
    "VOUCHER_DATABASE_URL": "the PostgreSQL database, e.g. postgresql://voucher@/voucher",
    "VOUCHER_BASE_URL": "the public https address, e.g. https://palveluseteli.example.fi",
    "VOUCHER_MAIL_FROM": "the sender of the e-mail, e.g. Palveluseteli <noreply@example.fi>",
    "VOUCHER_SMTP_HOST": "the mail server that `outbox send` delivers through",
    "VOUCHER_AUTHORITY_NAME": "the authority's name, the payer in the SEPA files",
    "VOUCHER_AUTHORITY_IBAN": "the IBAN the authority pays providers from",
    "VOUCHER_AUTHORITY_BIC": "the BIC of that account",
    "VOUCHER_AUTHORITY_BUSINESS_ID": "the authority's business ID (Y-tunnus), the buyer of the "
                                     "providers' e-invoices, e.g. 1234567-1",
    "VOUCHER_AUTHORITY_OVT": "the authority's e-invoice address (OVT code), e.g. 003712345671",
    "VOUCHER_AUTHORITY_EINVOICE_OPERATOR": (
        "the intermediator id of the authority's e-invoice operator, e.g. 003721291126"),
    "VOUCHER_AUTHORITY_STREET": (
        "the authority's street address, the debtor's structured address in pain.001.001.09 "
        "payment files, e.g. 'Kauppatie 1'"),
    "VOUCHER_AUTHORITY_POSTCODE": "the postcode of that address, e.g. 84100",
    "VOUCHER_AUTHORITY_TOWN": "the town of that address, e.g. Ylivieska",
    "VOUCHER_DECISION_DELEGATION": (
        "the delegation by which case managers make voucher decisions, as the decision letter "
        "cites it, e.g. 'Perusturvalautakunnan delegointipäätös 12.1.2026 § 5' "
        "(VOUCHER_DECISION_DELEGATION_SV for Swedish letters)"),
    "VOUCHER_VOUCHER_RULES": (
        "the authority's own rules for service vouchers that decisions apply, e.g. "
        "'Palvelusetelin sääntökirja, hyväksytty 15.1.2026 § 4' (VOUCHER_VOUCHER_RULES_SV)"),
    "VOUCHER_REGISTRY_ADDRESS": (
        "the registry office's postal address for requests for review, e.g. "
        "'Kirjaamo, PL 100, 84101 Ylivieska'"),
    "VOUCHER_ADMINISTRATIVE_COURT": (
        "the administrative court that appeals go to, with its address, as the review "
        "decisions' appeal instructions name it, e.g. 'Pohjois-Suomen hallinto-oikeus, PL 189, "
        "90101 Oulu' (VOUCHER_ADMINISTRATIVE_COURT_SV)"),
    "VOUCHER_REGISTRY_HOURS": (
        "the registry office's opening hours as the letter says them, e.g. 'ma–pe klo 9–15' "
        "(VOUCHER_REGISTRY_HOURS_SV)"),
}
#: Development and tests run without any environment; these stand in for production's.
DEVELOPMENT_DEFAULTS = {
    "VOUCHER_SECRET_KEY": DEV_SECRET_KEY,
    "VOUCHER_IDENTITY_KEYS": DEV_IDENTITY_KEY,
    "VOUCHER_IDENTITY_INDEX_KEY": DEV_IDENTITY_INDEX_KEY,
    "VOUCHER_BASE_URL": "http://127.0.0.1:5000",
    "VOUCHER_MAIL_FROM": "Kallio palveluseteli <noreply@example.fi>",
    "VOUCHER_AUTHORITY_NAME": "Peruspalvelukuntayhtymä Kallio",
    "VOUCHER_AUTHORITY_IBAN": "FI4950009420028730",
    "VOUCHER_AUTHORITY_BIC": "OKOYFIHH",
    "VOUCHER_AUTHORITY_BUSINESS_ID": "0213456-3",
    "VOUCHER_AUTHORITY_OVT": "003702134563",
    "VOUCHER_AUTHORITY_EINVOICE_OPERATOR": "003721291126",
    "VOUCHER_AUTHORITY_STREET": "Kauppatie 1",
    "VOUCHER_AUTHORITY_POSTCODE": "84100",
    "VOUCHER_AUTHORITY_TOWN": "Ylivieska",
    "VOUCHER_DECISION_DELEGATION": "Perusturvalautakunnan delegointipäätös 12.1.2026 § 5",
    "VOUCHER_DECISION_DELEGATION_SV": "Grundtrygghetsnämndens delegeringsbeslut 12.1.2026 § 5",
    "VOUCHER_VOUCHER_RULES": "Palvelusetelin sääntökirja, perusturvalautakunta 15.1.2026 § 4",
    "VOUCHER_VOUCHER_RULES_SV": "Regelbok för servicesedlar, grundtrygghetsnämnden 15.1.2026 § 4",
    "VOUCHER_REGISTRY_ADDRESS": "Kallion kirjaamo, PL 100, 84101 Ylivieska",
    "VOUCHER_REGISTRY_HOURS": "ma–pe klo 9–15",
    "VOUCHER_ADMINISTRATIVE_COURT": "Pohjois-Suomen hallinto-oikeus, PL 189, 90101 Oulu",
    "VOUCHER_ADMINISTRATIVE_COURT_SV": "Norra Finlands förvaltningsdomstol, PB 189, 90101 Uleåborg",
    "VOUCHER_REGISTRY_HOURS_SV": "mån–fre kl. 9–15",
}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _settings_problems(production: bool) -> list[str]:
    """Every missing, published or malformed setting, one line each (all at once, so that an
    operator fixes the environment in one go)."""
    problems = []
    if production:
        problems += [f"{name} is not set: {how}." for name, how in PRODUCTION_REQUIRED.items()
                     if _env(name) is None]
        problems += [f"{name} is a value published in the source code (development or the "
                     "demo); production needs its own." for name, published in
                     PUBLISHED_VALUES.items() if published & set(_split(_env(name, "")))]
        problems += _unsafe_in_production()
    problems += _malformed_identity_keys()
    problems += _malformed_account()
    problems += _malformed_payment_file()
    problems += _saml_problems(production)
    return problems


#: Strong identification (Suomi.fi e-Identification, SAML 2.0): all of these, or none.
SAML_REQUIRED = {
    "VOUCHER_SAML_ENTITY_ID": "this service's SAML entity id, e.g. "
                              "https://palveluseteli.example.fi/auth/saml/metadata",
    "VOUCHER_SAML_KEY_FILE": "the PEM file of the service's SAML private key (signs requests, "
                             "decrypts assertions)",
    "VOUCHER_SAML_CERT_FILE": "the PEM file of that key's certificate (in the metadata)",
    "VOUCHER_SAML_IDP_METADATA": "the identity provider's metadata: a file path, or an https "
                                 "URL that is fetched at start-up",
}


def _saml_problems(production: bool) -> list[str]:
    """SAML entirely absent is allowed (no strong identification); half of it is not."""
    given = {name for name in SAML_REQUIRED if _env(name) is not None}
    if not given:
        return []
    problems = [f"{name} is not set: {how}; strong identification needs it once any "
                "VOUCHER_SAML_* setting is set." for name, how in SAML_REQUIRED.items()
                if name not in given]
    for name in ("VOUCHER_SAML_KEY_FILE", "VOUCHER_SAML_CERT_FILE"):
        path = _env(name)
        if path is not None and not Path(path).is_file():
            problems.append(f"{name} names no readable file: {path!r}.")
    metadata = _env("VOUCHER_SAML_IDP_METADATA")
    if metadata is not None:
        if metadata.startswith(("http://", "https://")):
            if production and not metadata.startswith("https://"):
                problems.append("VOUCHER_SAML_IDP_METADATA must be an https address in "
                                f"production, got {metadata!r}.")
        elif not Path(metadata).is_file():
            problems.append(f"VOUCHER_SAML_IDP_METADATA names no readable file: {metadata!r}.")
    xmlsec = _env("VOUCHER_SAML_XMLSEC_BINARY", "/usr/bin/xmlsec1")
    if not Path(xmlsec).is_file():
        problems.append(f"VOUCHER_SAML_XMLSEC_BINARY: no xmlsec1 at {xmlsec!r} (Debian: "
                        "apt-get install xmlsec1).")
    return problems


def _unsafe_in_production() -> list[str]:
    problems = []
    secret = _env("VOUCHER_SECRET_KEY", "")
    if secret and len(secret) < 32:
        problems.append("VOUCHER_SECRET_KEY is too short: use at least 32 random characters, "
                        f"e.g. {_RANDOM_COMMAND}.")
    for name in ("VOUCHER_DATABASE_URL", "VOUCHER_REPORTS_DATABASE_URL"):
        database = _env(name, "")
        if database and not database.startswith("postgresql"):
            problems.append(f"{name} must be a PostgreSQL database (postgresql://…): "
                            "production runs several servers over one database.")
    for name in ("VOUCHER_BASE_URL", "VOUCHER_STRIPE_API_BASE"):
        address = _env(name, "")
        if address and not address.startswith("https://"):
            problems.append(f"{name} must be an https address in production, got {address!r}.")
    if _env("VOUCHER_RATELIMIT_STORAGE_URI", "").startswith("memory://"):
        problems.append("VOUCHER_RATELIMIT_STORAGE_URI=memory:// counts apart in every worker "
                        "and server: leave it unset (the database) or use redis://….")
    if _env("VOUCHER_STRIPE_SECRET_KEY"):
        problems += [f"{name} is not set: it is needed when VOUCHER_STRIPE_SECRET_KEY is."
                     for name in ("VOUCHER_STRIPE_PUBLISHABLE_KEY",
                                  "VOUCHER_STRIPE_WEBHOOK_SECRET") if _env(name) is None]
    return problems


def _malformed_identity_keys() -> list[str]:
    from cryptography.fernet import Fernet

    raw = _env("VOUCHER_IDENTITY_KEYS")
    if raw is None:
        return []
    for key in _split(raw) or [""]:
        try:
            Fernet(key)
        except ValueError:
            return ["VOUCHER_IDENTITY_KEYS must be Fernet keys (32 url-safe base64-encoded "
                    "bytes each), comma-separated."]
    return []


def _malformed_account() -> list[str]:
    from stdnum import bic, iban

    problems = []
    account, code = _env("VOUCHER_AUTHORITY_IBAN"), _env("VOUCHER_AUTHORITY_BIC")
    if account is not None and not iban.is_valid(account):
        problems.append(f"VOUCHER_AUTHORITY_IBAN is not a valid IBAN: {account!r}.")
    if code is not None and not bic.is_valid(code):
        problems.append(f"VOUCHER_AUTHORITY_BIC is not a valid BIC: {code!r}.")
    problems += _malformed_einvoice_address()
    return problems


def _malformed_einvoice_address() -> list[str]:
    """The business ID's checksum; the OVT code: 0037, eight digits, up to five more
    characters; the operator's id: 4–35 letters and digits (an OVT-like code or a BIC)."""
    import re

    from stdnum.fi import ytunnus

    problems = []
    business_id = _env("VOUCHER_AUTHORITY_BUSINESS_ID")
    if business_id is not None and not ytunnus.is_valid(business_id):
        problems.append(f"VOUCHER_AUTHORITY_BUSINESS_ID is not a valid business ID (Y-tunnus): "
                        f"{business_id!r}.")
    ovt = _env("VOUCHER_AUTHORITY_OVT")
    if ovt is not None and not re.fullmatch(r"0037[0-9]{8}[0-9A-Za-z]{0,5}", ovt):
        problems.append("VOUCHER_AUTHORITY_OVT is not an OVT code (0037, the business ID's "
                        f"eight digits, up to five more characters): {ovt!r}.")
    operator = _env("VOUCHER_AUTHORITY_EINVOICE_OPERATOR")
    if operator is not None and not re.fullmatch(r"[0-9A-Za-z]{4,35}", operator):
        problems.append("VOUCHER_AUTHORITY_EINVOICE_OPERATOR is not an operator's intermediator "
                        f"id (4–35 letters and digits): {operator!r}.")
    return problems


#: The pain.001 versions a payment file can be written in (voucher.settlement.sepa.FORMATS).
PAYMENT_FILE_FORMATS = ("pain.001.001.09", "pain.001.001.03")


def _malformed_payment_file() -> list[str]:
    problems = []
    chosen = _env("VOUCHER_PAYMENT_FILE_FORMAT")
    if chosen is not None and chosen not in PAYMENT_FILE_FORMATS:
        problems.append(f"VOUCHER_PAYMENT_FILE_FORMAT must be one of "
                        f"{', '.join(PAYMENT_FILE_FORMATS)}, got {chosen!r}.")
    country = _env("VOUCHER_AUTHORITY_COUNTRY")
    if country is not None and not (len(country) == 2 and country.isalpha()
                                    and country.isupper()):
        problems.append("VOUCHER_AUTHORITY_COUNTRY must be a two-letter ISO 3166 country code "
                        f"such as FI, got {country!r}.")
    return problems


def _setting(name: str, production: bool) -> str | None:
    """A required setting: the environment's, or in development and tests a stand-in."""
    return _env(name, None if production else DEVELOPMENT_DEFAULTS.get(name))


def load_config(env: str | None = None) -> dict:
    """Read the environment into Flask config keys. Without VOUCHER_ENV the rules are
    production's: a missing secret or a published development value stops the start, with
    every setting to fix named in one ConfigError."""
    env = env or _env("VOUCHER_ENV", "production")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"VOUCHER_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    production = env == "production"
    problems = _settings_problems(production)
    if problems:
        unset = "" if _env("VOUCHER_ENV") else (
            " (VOUCHER_ENV is not set, so production's rules apply; scripts/run and the tests "
            "set development or test themselves)")
        raise ConfigError(f"Voucher cannot start in {env} mode{unset}. Fix these settings:\n  "
                          + "\n  ".join(problems))
    instance_path = Path(_env("VOUCHER_INSTANCE_PATH", str(PROJECT_ROOT / "instance")))
    secret_key = _setting("VOUCHER_SECRET_KEY", production)
    identity_keys = _setting("VOUCHER_IDENTITY_KEYS", production)
    identity_index_key = _setting("VOUCHER_IDENTITY_INDEX_KEY", production)
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
        #: A read replica for the reports and their exports (optional).
        "REPORTS_DATABASE_URL": _env("VOUCHER_REPORTS_DATABASE_URL"),
        "IDENTITY_KEYS": _split(identity_keys),
        "IDENTITY_INDEX_KEY": identity_index_key,
        "INSTANCE_PATH": str(instance_path),
        "UPLOAD_DIR": _env("VOUCHER_UPLOAD_DIR", str(instance_path / "uploads")),
        "BASE_URL": _setting("VOUCHER_BASE_URL", production).rstrip("/"),
        # E-mail: queued in the outbox, delivered by `flask --app voucher outbox send`.
        "MAIL_FROM": _setting("VOUCHER_MAIL_FROM", production),
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
        # Days before a voucher's last day when the client and the case manager are reminded.
        "REMINDER_DAYS": _env_int("VOUCHER_REMINDER_DAYS", 30),
        # The organising authority: payer of the SEPA batches.
        "AUTHORITY_NAME": _setting("VOUCHER_AUTHORITY_NAME", production),
        "AUTHORITY_IBAN": _setting("VOUCHER_AUTHORITY_IBAN", production),
        "AUTHORITY_BIC": _setting("VOUCHER_AUTHORITY_BIC", production),
        # The buyer of the providers' e-invoices (Finvoice): business ID, e-invoice address
        # (OVT) and the operator's intermediator id.
        "AUTHORITY_BUSINESS_ID": _setting("VOUCHER_AUTHORITY_BUSINESS_ID", production),
        "AUTHORITY_OVT": _setting("VOUCHER_AUTHORITY_OVT", production),
        "AUTHORITY_EINVOICE_OPERATOR": _setting("VOUCHER_AUTHORITY_EINVOICE_OPERATOR",
                                                production),
        #: The authority's structured address (the debtor's PstlAdr in pain.001.001.09).
        "AUTHORITY_STREET": _setting("VOUCHER_AUTHORITY_STREET", production),
        "AUTHORITY_POSTCODE": _setting("VOUCHER_AUTHORITY_POSTCODE", production),
        "AUTHORITY_TOWN": _setting("VOUCHER_AUTHORITY_TOWN", production),
        "AUTHORITY_COUNTRY": _env("VOUCHER_AUTHORITY_COUNTRY", "FI"),
        #: The pain.001 version of the payment files: .09, or .03 for a bank that still
        #: wants it.
        "PAYMENT_FILE_FORMAT": _env("VOUCHER_PAYMENT_FILE_FORMAT", PAYMENT_FILE_FORMATS[0]),
        # What the decision letters cite and where requests for review go (fi, and sv when it
        # differs; an English letter uses the Finnish text).
        **{key: _setting(f"VOUCHER_{key}", production)
           for key in ("DECISION_DELEGATION", "VOUCHER_RULES", "REGISTRY_ADDRESS",
                       "REGISTRY_HOURS", "ADMINISTRATIVE_COURT")},
        **{f"{key}_SV": _setting(f"VOUCHER_{key}_SV", production)
           or _setting(f"VOUCHER_{key}", production)
           for key in ("DECISION_DELEGATION", "VOUCHER_RULES", "REGISTRY_HOURS",
                       "ADMINISTRATIVE_COURT")},
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
        #: Where rate-limit counters live: database:// (the app's), redis://…, memory:// (tests).
        "RATELIMIT_STORAGE_URI": _env("VOUCHER_RATELIMIT_STORAGE_URI", "database://"),
        "API_RATE_LIMIT": _env("VOUCHER_API_RATE_LIMIT", "600 per minute"),
        #: Years after a client's last voucher ended before retention pseudonymises them.
        "RETENTION_YEARS": retention_years,
        "LOG_JSON": _env_bool("VOUCHER_LOG_JSON", production),
        "BABEL_DEFAULT_LOCALE": "fi",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Helsinki",
        # Login throttling (voucher/accounts/throttling.py): pauses, never a lock.
        #: Failures of one account from one address before that pair has to pause.
        "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP": _env_int(
            "VOUCHER_LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP", 3),
        #: The longest pause the per-account and per-address counters ask of anyone.
        "LOGIN_MAX_DELAY_SECONDS": _env_int("VOUCHER_LOGIN_MAX_DELAY_SECONDS", 60),
        #: Wrong second-step codes that end a pending login, and per account in the window.
        "LOGIN_MAX_CODE_FAILURES": _env_int("VOUCHER_LOGIN_MAX_CODE_FAILURES", 5),
        "LOGIN_MAX_CODE_FAILURES_PER_ACCOUNT": _env_int(
            "VOUCHER_LOGIN_MAX_CODE_FAILURES_PER_ACCOUNT", 10),
        #: Reset and invitation e-mails an hour, per account and per requesting address.
        "LINK_EMAILS_PER_ACCOUNT_PER_HOUR": _env_int("VOUCHER_LINK_EMAILS_PER_ACCOUNT_PER_HOUR", 3),
        "LINK_EMAILS_PER_ADDRESS_PER_HOUR": _env_int(
            "VOUCHER_LINK_EMAILS_PER_ADDRESS_PER_HOUR", 10),
        #: Provider users (each of whom may change the provider's bank account) must use
        #: two-factor authentication.
        "REQUIRE_PROVIDER_TOTP": _env_bool("VOUCHER_REQUIRE_PROVIDER_TOTP", False),
        # Strong identification of residents (voucher/identification/): off unless set.
        "SAML_ENTITY_ID": _env("VOUCHER_SAML_ENTITY_ID"),
        "SAML_KEY_FILE": _env("VOUCHER_SAML_KEY_FILE"),
        "SAML_CERT_FILE": _env("VOUCHER_SAML_CERT_FILE"),
        "SAML_IDP_METADATA": _env("VOUCHER_SAML_IDP_METADATA"),
        "SAML_XMLSEC_BINARY": _env("VOUCHER_SAML_XMLSEC_BINARY", "/usr/bin/xmlsec1"),
        #: Seconds the IdP's clock may differ from ours (assertion times, NotOnOrAfter).
        "SAML_CLOCK_SKEW_SECONDS": _env_int("VOUCHER_SAML_CLOCK_SKEW_SECONDS", 60),
        #: Minutes a started login may take at the IdP before its answer is refused.
        "SAML_REQUEST_MINUTES": _env_int("VOUCHER_SAML_REQUEST_MINUTES", 15),
        #: Technical contact in the SP metadata (Suomi.fi asks for one).
        "SAML_CONTACT_EMAIL": _env("VOUCHER_SAML_CONTACT_EMAIL"),
        #: What residents with no client record are told to do: whom to contact.
        "CLIENT_HELP_CONTACT": _env("VOUCHER_CLIENT_HELP_CONTACT"),
    }
