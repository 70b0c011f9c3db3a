"""Configuration comes from the environment, and production, the default, fails closed: it
refuses to start without its secrets, its address, its database and the payer's account, or
with a value published in the source code, and names every setting to fix."""

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from voucher import create_app
from voucher.config import (
    DEV_IDENTITY_INDEX_KEY,
    DEV_IDENTITY_KEY,
    DEV_SECRET_KEY,
    PRODUCTION_REQUIRED,
    ConfigError,
    load_config,
)

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "VOUCHER_SECRET_KEY": "s" * 48,
    "VOUCHER_IDENTITY_KEYS": Fernet.generate_key().decode(),
    "VOUCHER_IDENTITY_INDEX_KEY": "i" * 48,
    "VOUCHER_DATABASE_URL": "postgresql://voucher@/voucher",
    "VOUCHER_BASE_URL": "https://palveluseteli.example.fi",
    "VOUCHER_MAIL_FROM": "Palveluseteli <noreply@example.fi>",
    "VOUCHER_SMTP_HOST": "smtp.example.fi",
    "VOUCHER_AUTHORITY_NAME": "Esimerkin hyvinvointikuntayhtymä",
    "VOUCHER_AUTHORITY_IBAN": "FI2112345600000785",
    "VOUCHER_AUTHORITY_BIC": "NDEAFIHH",
    "VOUCHER_AUTHORITY_BUSINESS_ID": "0245678-1",
    "VOUCHER_AUTHORITY_OVT": "003702456781",
    "VOUCHER_AUTHORITY_EINVOICE_OPERATOR": "003721291126",
    "VOUCHER_AUTHORITY_STREET": "Hallintokatu 1",
    "VOUCHER_AUTHORITY_POSTCODE": "84100",
    "VOUCHER_AUTHORITY_TOWN": "Ylivieska",
    "VOUCHER_DECISION_DELEGATION": "Hyvinvointilautakunnan delegointipäätös 1.1.2027 § 3",
    "VOUCHER_VOUCHER_RULES": "Palvelusetelin sääntökirja 1.1.2027",
    "VOUCHER_REGISTRY_ADDRESS": "Kirjaamo, PL 1, 00100 Esimerkki",
    "VOUCHER_REGISTRY_HOURS": "ma–pe klo 9–15",
    "VOUCHER_ADMINISTRATIVE_COURT": "Esimerkin hallinto-oikeus, PL 1, 00100 Esimerkki",
}


@pytest.fixture
def environment(monkeypatch):
    """A clean environment: no VOUCHER_* at all; returns a setter."""
    import os

    for name in [n for n in os.environ if n.startswith("VOUCHER_")]:
        monkeypatch.delenv(name)

    def set_(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)
    return set_


def _problems(error: ConfigError) -> list[str]:
    return [line.strip() for line in str(error).splitlines()[1:]]


def test_without_voucher_env_production_rules_apply_and_every_missing_setting_is_named(
        environment):
    with pytest.raises(ConfigError) as raised:
        create_app()
    message = str(raised.value)
    assert "production" in message and "VOUCHER_ENV is not set" in message
    named = [line.split(" ")[0] for line in _problems(raised.value)]
    assert named == list(PRODUCTION_REQUIRED)


def test_importing_wsgi_without_voucher_env_exits_non_zero_naming_the_secret_key():
    environment = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "VOUCHER_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_flask_command_without_voucher_env_says_what_to_set_without_a_traceback():
    environment = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    result = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "voucher",
                             "outbox", "send"], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "VOUCHER_AUTHORITY_IBAN is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_complete_production_environment_starts(environment):
    environment(**PRODUCTION)
    config = load_config()
    assert config["VOUCHER_ENV"] == "production"
    assert config["AUTHORITY_NAME"] == "Esimerkin hyvinvointikuntayhtymä"
    assert config["BASE_URL"] == "https://palveluseteli.example.fi"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["LOG_JSON"] is True


@pytest.mark.parametrize("name", sorted(PRODUCTION_REQUIRED))
def test_production_refuses_to_start_without_each_required_setting(environment, name):
    environment(**{k: v for k, v in PRODUCTION.items() if k != name})
    with pytest.raises(ConfigError) as raised:
        load_config()
    assert [line.split(" ")[0] for line in _problems(raised.value)] == [name]


@pytest.mark.parametrize(("name", "published"), [
    ("VOUCHER_SECRET_KEY", DEV_SECRET_KEY),
    ("VOUCHER_IDENTITY_KEYS", DEV_IDENTITY_KEY),
    # A fixed new key (not generated at collection: pytest-xdist's workers must collect the
    # same test ids).
    ("VOUCHER_IDENTITY_KEYS", "bmV3LWtleS1mb3ItdGhlLXRlc3RzLTMyLWJ5dGVzISE=," + DEV_IDENTITY_KEY),
    ("VOUCHER_IDENTITY_INDEX_KEY", DEV_IDENTITY_INDEX_KEY),
    ("VOUCHER_STRIPE_SECRET_KEY", "sk_test_demo"),
    ("VOUCHER_STRIPE_PUBLISHABLE_KEY", "pk_test_demo"),
    ("VOUCHER_STRIPE_WEBHOOK_SECRET", "whsec_demo"),
])
def test_production_refuses_the_published_development_and_demo_values(
        environment, name, published):
    stripe = {"VOUCHER_STRIPE_SECRET_KEY": "sk_live_x", "VOUCHER_STRIPE_PUBLISHABLE_KEY":
              "pk_live_x", "VOUCHER_STRIPE_WEBHOOK_SECRET": "whsec_x"}
    environment(**{**PRODUCTION, **stripe, name: published})
    with pytest.raises(ConfigError, match=f"{name} is a value published in the source code"):
        load_config()


@pytest.mark.parametrize(("name", "value", "says"), [
    ("VOUCHER_SECRET_KEY", "short", "VOUCHER_SECRET_KEY is too short"),
    ("VOUCHER_DATABASE_URL", "sqlite:////srv/voucher.sqlite3", "must be a PostgreSQL database"),
    ("VOUCHER_BASE_URL", "http://palveluseteli.example.fi", "must be an https address"),
    ("VOUCHER_STRIPE_API_BASE", "http://127.0.0.1:8420", "must be an https address"),
    ("VOUCHER_AUTHORITY_IBAN", "FI2112345600000786", "not a valid IBAN"),
    ("VOUCHER_AUTHORITY_BIC", "NDEA", "not a valid BIC"),
    ("VOUCHER_AUTHORITY_BUSINESS_ID", "0245678-2", "not a valid business ID"),
    ("VOUCHER_AUTHORITY_OVT", "FI02456781", "not an OVT code"),
    ("VOUCHER_AUTHORITY_EINVOICE_OPERATOR", "bad id!", "not an operator's intermediator id"),
    ("VOUCHER_IDENTITY_KEYS", "not-a-fernet-key", "must be Fernet keys"),
    ("VOUCHER_RATELIMIT_STORAGE_URI", "memory://", "counts apart in every worker"),
    ("VOUCHER_PAYMENT_FILE_FORMAT", "pain.001.001.02", "must be one of pain.001.001.09"),
    ("VOUCHER_AUTHORITY_COUNTRY", "Finland", "two-letter ISO 3166 country code"),
])
def test_production_refuses_unsafe_or_malformed_values(environment, name, value, says):
    environment(**{**PRODUCTION, name: value})
    with pytest.raises(ConfigError, match=says):
        load_config()


def test_a_stripe_key_needs_the_publishable_key_and_the_webhook_secret(environment):
    environment(**PRODUCTION, VOUCHER_STRIPE_SECRET_KEY="sk_live_x")
    with pytest.raises(ConfigError) as raised:
        load_config()
    assert [line.split(" ")[0] for line in _problems(raised.value)] == [
        "VOUCHER_STRIPE_PUBLISHABLE_KEY", "VOUCHER_STRIPE_WEBHOOK_SECRET"]


def test_unknown_environment_is_refused(environment):
    environment(VOUCHER_ENV="staging")
    with pytest.raises(ConfigError, match="VOUCHER_ENV must be one of"):
        load_config()


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_and_tests_run_on_stand_ins_on_sqlite_under_instance(environment, env):
    environment(VOUCHER_ENV=env)
    config = load_config()
    assert config["VOUCHER_ENV"] == env
    assert config["SECRET_KEY"] == DEV_SECRET_KEY
    assert config["DATABASE_URL"].startswith("sqlite:///")
    assert config["DATABASE_URL"].endswith("instance/voucher.sqlite3")
    assert config["SESSION_COOKIE_SECURE"] is False


def test_development_still_refuses_a_malformed_account(environment):
    environment(VOUCHER_ENV="development", VOUCHER_AUTHORITY_IBAN="FI00")
    with pytest.raises(ConfigError, match="VOUCHER_AUTHORITY_IBAN is not a valid IBAN"):
        load_config()


def test_production_without_any_saml_setting_starts_without_strong_identification(environment):
    environment(**PRODUCTION)
    config = load_config()
    assert config["SAML_ENTITY_ID"] is None


def test_a_half_configured_saml_stops_the_start_naming_each_missing_setting(environment):
    environment(**PRODUCTION, VOUCHER_SAML_ENTITY_ID="https://palveluseteli.example.fi/saml")
    with pytest.raises(ConfigError) as raised:
        load_config()
    problems = " ".join(_problems(raised.value))
    for name in ("VOUCHER_SAML_KEY_FILE", "VOUCHER_SAML_CERT_FILE", "VOUCHER_SAML_IDP_METADATA"):
        assert f"{name} is not set" in problems
    assert "VOUCHER_SAML_ENTITY_ID is not set" not in problems


def test_saml_files_must_exist_and_a_metadata_address_be_https(environment, tmp_path):
    environment(**PRODUCTION, VOUCHER_SAML_ENTITY_ID="https://palveluseteli.example.fi/saml",
                VOUCHER_SAML_KEY_FILE=str(tmp_path / "missing-key.pem"),
                VOUCHER_SAML_CERT_FILE=str(tmp_path / "missing-cert.pem"),
                VOUCHER_SAML_IDP_METADATA="http://tunnistus.suomi.fi/metadata")
    with pytest.raises(ConfigError) as raised:
        load_config()
    problems = " ".join(_problems(raised.value))
    assert "VOUCHER_SAML_KEY_FILE names no readable file" in problems
    assert "VOUCHER_SAML_CERT_FILE names no readable file" in problems
    assert "VOUCHER_SAML_IDP_METADATA must be an https address" in problems


def test_a_complete_saml_configuration_starts(environment, tmp_path):
    for name in ("key.pem", "cert.pem", "idp.xml"):
        (tmp_path / name).write_text("x")
    environment(**PRODUCTION, VOUCHER_SAML_ENTITY_ID="https://palveluseteli.example.fi/saml",
                VOUCHER_SAML_KEY_FILE=str(tmp_path / "key.pem"),
                VOUCHER_SAML_CERT_FILE=str(tmp_path / "cert.pem"),
                VOUCHER_SAML_IDP_METADATA=str(tmp_path / "idp.xml"))
    config = load_config()
    assert config["SAML_ENTITY_ID"] == "https://palveluseteli.example.fi/saml"
    assert config["SAML_CLOCK_SKEW_SECONDS"] == 60


def test_the_payment_file_is_pain_001_001_09_with_the_authoritys_address(environment):
    environment(**PRODUCTION)
    config = load_config()
    assert config["PAYMENT_FILE_FORMAT"] == "pain.001.001.09"
    assert (config["AUTHORITY_STREET"], config["AUTHORITY_POSTCODE"], config["AUTHORITY_TOWN"],
            config["AUTHORITY_COUNTRY"]) == ("Hallintokatu 1", "84100", "Ylivieska", "FI")
    environment(**{**PRODUCTION, "VOUCHER_PAYMENT_FILE_FORMAT": "pain.001.001.03"})
    assert load_config()["PAYMENT_FILE_FORMAT"] == "pain.001.001.03"


@pytest.mark.parametrize("name", ["VOUCHER_AUTHORITY_STREET", "VOUCHER_AUTHORITY_POSTCODE",
                                  "VOUCHER_AUTHORITY_TOWN"])
def test_production_needs_the_authoritys_address(environment, name):
    environment(**{key: value for key, value in PRODUCTION.items() if key != name})
    with pytest.raises(ConfigError, match=f"{name} is not set"):
        load_config()
