"""Configuration: parsed from the environment, and a bad value stops start-up with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from portfolio_backend.llm import provider_from_settings
from portfolio_backend.settings import RateSpec, Settings
from portfolio_backend.store import StoreError, open_stores

from .conftest import ROOT
from .fixtures.redis_server import RedisServer


@pytest.mark.parametrize(
    ("text", "limit", "window"),
    [("10/day", 10, 86400), ("5/minute", 5, 60), (" 3 / hours ", 3, 3600), ("1/second", 1, 1)],
)
def test_rates_parse(text: str, limit: int, window: int) -> None:
    assert RateSpec.parse(text) == RateSpec(limit, window)


@pytest.mark.parametrize("text", ["10", "ten/day", "0/day", "10/week", "-1/day"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a rate"):
        RateSpec.parse(text)


def test_the_seed_redis_variables_select_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_HOST", "cache.internal")
    monkeypatch.setenv("REDIS_PORT", "6380")
    monkeypatch.setenv("REDIS_DB", "2")
    assert Settings(_env_file=None).redis_dsn == "redis://cache.internal:6380/2"  # type: ignore[call-arg]


# every character that means something in a URL: the path, query, fragment, escape and userinfo ones
URL_HOSTILE_PASSWORD = "p/a?ss#w%2Frd@:x y"


async def test_a_redis_password_with_url_characters_opens_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = RedisServer(tmp_path / "redis").start("--requirepass", URL_HOSTILE_PASSWORD)
    try:
        monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
        monkeypatch.setenv("REDIS_PORT", str(server.port))
        monkeypatch.setenv("REDIS_PASSWORD", URL_HOSTILE_PASSWORD)
        store = await open_stores(Settings(_env_file=None))  # type: ignore[call-arg]
        try:
            await store.check()
        finally:
            await store.close()
        monkeypatch.setenv("REDIS_PASSWORD", URL_HOSTILE_PASSWORD + "-wrong")  # the check above means something
        store = await open_stores(Settings(_env_file=None))  # type: ignore[call-arg]
        try:
            with pytest.raises(StoreError):
                await store.check()
        finally:
            await store.close()
    finally:
        server.stop()


def test_lists_come_from_comma_separated_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.dev, https://b.dev")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8,2001:db8::/32")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.cors_origins == ["https://a.dev", "https://b.dev"]
    assert [str(network) for network in settings.trusted_proxies] == ["10.0.0.0/8", "2001:db8::/32"]


def test_an_empty_api_key_means_the_demo_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    assert provider_from_settings(Settings(_env_file=None)).provider == "demo"  # type: ignore[call-arg]


@pytest.mark.parametrize("workers", ["0", "two", "65"])
def test_worker_counts_outside_1_to_64_are_refused(monkeypatch: pytest.MonkeyPatch, workers: str) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", workers)
    with pytest.raises(ValidationError, match="web_concurrency"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_a_bad_setting_stops_start_up_with_its_name_and_no_traceback() -> None:
    env = {**os.environ, "RATE_LIMIT": "lots", "PORT": "0", "OPENAI_API_KEY": "sk-should-not-appear"}
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "RATE_LIMIT" in result.stderr
    assert "Traceback" not in result.stderr
    assert "sk-should-not-appear" not in result.stderr


@pytest.mark.parametrize(("given", "level"), [("info", "INFO"), ("warning", "WARNING"), (" Debug ", "DEBUG")])
def test_log_levels_are_read_in_any_case_as_uvicorn_spells_them(
    monkeypatch: pytest.MonkeyPatch, given: str, level: str
) -> None:
    monkeypatch.setenv("LOG_LEVEL", given)
    assert Settings(_env_file=None).log_level == level  # type: ignore[call-arg]


def test_an_unknown_log_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(ValidationError, match="log_level"):
        Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize("value", ["calculate; drop", "auto,calculate", "x" * 65])
def test_a_tool_choice_is_auto_or_a_tool_name(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("OPENAI_TOOL_CHOICE", value)
    with pytest.raises(ValidationError, match="openai_tool_choice"):
        Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/privacy", "privacy.html"])
def test_a_privacy_url_the_widget_could_not_link_is_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("PRIVACY_URL", url)
    with pytest.raises(ValidationError, match="PRIVACY_URL"):
        Settings(_env_file=None)  # type: ignore[call-arg]
