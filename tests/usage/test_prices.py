"""Prices: the built-in table, dated snapshots priced as their family, MODEL_PRICES overriding."""

from __future__ import annotations

import pytest

from portfolio_backend.llm import Usage
from portfolio_backend.settings import ModelPrice, Settings
from portfolio_backend.usage import PriceTable


def test_a_dated_snapshot_is_priced_as_its_family_not_a_shorter_one() -> None:
    table = PriceTable()
    assert table.price("gpt-4o-mini-2024-07-18") == table.price("gpt-4o-mini")
    assert table.price("gpt-4o-2024-08-06") == table.price("gpt-4o")
    assert table.price("openai/gpt-4.1-mini") == table.price("gpt-4.1-mini")
    assert table.price("llama3.1:8b") is None


def test_cached_prompt_tokens_cost_the_cached_price_and_a_turn_rounds_up() -> None:
    table = PriceTable()
    # gpt-4o: $2.50 in, $1.25 cached in, $10 out per 1M tokens = micro-dollars per token
    assert table.cost_micro_usd("gpt-4o", Usage(prompt_tokens=1000, cached_tokens=400, completion_tokens=100)) == (
        600 * 2.5 + 400 * 1.25 + 100 * 10
    )
    assert table.cost_micro_usd("gpt-4o-mini", Usage(prompt_tokens=1)) == 1  # 0.15 micro-dollars, rounded up
    assert table.cost_micro_usd("llama3.1:8b", Usage(prompt_tokens=10**6)) == 0


def test_model_prices_override_and_extend_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "MODEL_PRICES", '{"gpt-4o-mini": {"input": 1, "output": 2}, "llama3.1:8b": {"input": 0.1, "output": 0.2}}'
    )
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    table = PriceTable(settings.model_prices)
    assert table.price("gpt-4o-mini") == ModelPrice(input=1, output=2)
    assert table.cost_micro_usd("llama3.1:8b", Usage(prompt_tokens=100, completion_tokens=100)) == 30


def test_a_malformed_price_stops_start_up_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_PRICES", '{"m": {"input": -1, "output": 2}}')
    with pytest.raises(ValueError, match="model_prices"):
        Settings(_env_file=None)  # type: ignore[call-arg]
