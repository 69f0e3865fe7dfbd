"""What a turn costs: a price table of USD per million tokens, built in for common OpenAI models and
overridable per model by MODEL_PRICES.

Costs are integer micro-dollars (1e-6 USD), so counters add exactly in Redis and SQLite; with prices
per million tokens, micro-dollars are simply tokens x price. A turn's cost is rounded up, so rounding
never lets spend slip under a budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..llm import Usage
from ..settings import ModelPrice

# USD per 1M tokens (input, cached input, output), from OpenAI's pricing page as of 2025-11.
# A dated snapshot (gpt-4o-2024-08-06) is priced as its family; MODEL_PRICES overrides any entry.
BUILTIN_PRICES: dict[str, ModelPrice] = {
    "gpt-5": ModelPrice(input=1.25, cached_input=0.125, output=10.0),
    "gpt-5-mini": ModelPrice(input=0.25, cached_input=0.025, output=2.0),
    "gpt-5-nano": ModelPrice(input=0.05, cached_input=0.005, output=0.4),
    "gpt-4.1": ModelPrice(input=2.0, cached_input=0.5, output=8.0),
    "gpt-4.1-mini": ModelPrice(input=0.4, cached_input=0.1, output=1.6),
    "gpt-4.1-nano": ModelPrice(input=0.1, cached_input=0.025, output=0.4),
    "gpt-4o": ModelPrice(input=2.5, cached_input=1.25, output=10.0),
    "gpt-4o-mini": ModelPrice(input=0.15, cached_input=0.075, output=0.6),
    "o3": ModelPrice(input=2.0, cached_input=0.5, output=8.0),
    "o3-mini": ModelPrice(input=1.1, cached_input=0.55, output=4.4),
    "o4-mini": ModelPrice(input=1.1, cached_input=0.275, output=4.4),
    "gpt-4-turbo": ModelPrice(input=10.0, output=30.0),
    "gpt-3.5-turbo": ModelPrice(input=0.5, output=1.5),
    # the offline demo model costs nothing, but its (estimated) tokens are still counted
    "offline-demo": ModelPrice(input=0.0, output=0.0),
}


class PriceTable:
    """Prices by model name: MODEL_PRICES first, then the built-in table; exact name, else the
    longest known name the model's name extends (`gpt-4o-mini-2024-07-18` is `gpt-4o-mini`)."""

    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None) -> None:
        self.prices = {**BUILTIN_PRICES, **(overrides or {})}
        self._found: dict[str, ModelPrice | None] = {}

    def price(self, model: str) -> ModelPrice | None:
        """The model's price, or None when neither table knows it."""
        if model not in self._found:
            name = model.rsplit("/", 1)[-1]  # OpenRouter-style "openai/gpt-4o-mini"
            exact = self.prices.get(model) or self.prices.get(name)
            family = max((known for known in self.prices if name.startswith(known + "-")), key=len, default=None)
            self._found[model] = exact or (self.prices[family] if family else None)
        return self._found[model]

    def cost_micro_usd(self, model: str, usage: Usage) -> int:
        """The cost of `usage` on `model` in micro-dollars, rounded up; 0 for a model with no price."""
        price = self.price(model)
        if price is None:
            return 0
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        cached_price = price.input if price.cached_input is None else price.cached_input
        micro = (
            (usage.prompt_tokens - cached) * price.input
            + cached * cached_price
            + usage.completion_tokens * price.output
        )
        return math.ceil(micro - 1e-9)  # float noise must not round 150.0000000001 up to 151
