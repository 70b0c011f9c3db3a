"""Configuration comes from the environment and production refuses to start without secrets."""

import pytest

from voucher import create_app
from voucher.config import ConfigError, load_config


def test_production_without_secret_key_fails_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("VOUCHER_ENV", "production")
    monkeypatch.delenv("VOUCHER_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="VOUCHER_SECRET_KEY is not set"):
        create_app()


def test_production_needs_identity_keys_too(monkeypatch):
    monkeypatch.setenv("VOUCHER_ENV", "production")
    monkeypatch.setenv("VOUCHER_SECRET_KEY", "x" * 40)
    monkeypatch.delenv("VOUCHER_IDENTITY_KEYS", raising=False)
    with pytest.raises(ConfigError, match="VOUCHER_IDENTITY_KEYS is not set"):
        load_config()


def test_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("VOUCHER_ENV", "staging")
    with pytest.raises(ConfigError, match="VOUCHER_ENV must be one of"):
        load_config()


def test_defaults_are_development_on_sqlite_under_instance(monkeypatch):
    for name in ("VOUCHER_ENV", "VOUCHER_DATABASE_URL", "VOUCHER_INSTANCE_PATH"):
        monkeypatch.delenv(name, raising=False)
    config = load_config()
    assert config["VOUCHER_ENV"] == "development"
    assert config["DATABASE_URL"].startswith("sqlite:///")
    assert config["DATABASE_URL"].endswith("instance/voucher.sqlite3")
    assert config["SESSION_COOKIE_SECURE"] is False


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("VOUCHER_ENV", "production")
    monkeypatch.setenv("VOUCHER_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("VOUCHER_IDENTITY_KEYS", "ZGV2ZWxvcG1lbnQtb25seS1pZGVudGl0eS1rZXkhISE=")
    monkeypatch.setenv("VOUCHER_IDENTITY_INDEX_KEY", "y" * 40)
    config = load_config()
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
