"""Settings are refused at start with the variable's name, and never echo a password."""

from __future__ import annotations

import pytest

from syncbucket.config import ConfigError, load_settings


def refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(f"SYNCBUCKET_{name}", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    return str(caught.value)


def test_defaults_are_the_embedded_footprint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "BROKER_URL", "REDIS_URL"):
        monkeypatch.delenv(f"SYNCBUCKET_{name}", raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite:///syncbucket.db"
    assert settings.broker_url is None and settings.redis_url is None
    assert settings.api_port == 8080
    assert settings.dispatch_window("traces") == settings.traces_dispatch_window


def test_a_bad_number_names_the_variable_and_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    text = refusal(monkeypatch, TRACES_BURST="lots")
    assert "SYNCBUCKET_TRACES_BURST" in text and "'lots'" in text


def test_out_of_range_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "SYNCBUCKET_API_PORT" in refusal(monkeypatch, API_PORT="70000")
    assert "SYNCBUCKET_TRACES_RATE_PER_SECOND" in refusal(monkeypatch, TRACES_RATE_PER_SECOND="0")


def test_a_bad_url_is_refused_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    text = refusal(monkeypatch, BROKER_URL="rabbit://guest:S3cretPw@mq:5672/")
    assert "SYNCBUCKET_BROKER_URL" in text and "amqp://" in text
    assert "S3cretPw" not in text
    assert "guest:***@mq:5672" in text


def test_a_short_secret_key_is_refused_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    text = refusal(monkeypatch, SECRET_KEY="tooshort-but-secret")
    assert "SYNCBUCKET_SECRET_KEY" in text and "32 characters" in text
    assert "tooshort-but-secret" not in text


def test_missing_secret_key_says_how_to_make_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNCBUCKET_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="syncbucket keygen"):
        load_settings().require_secret_key()
