"""Spend: tokens per turn (the server's figure or a marked estimate), their cost by the price table,
and (usage.ledger) the per-day accounting and budgets kept in the store."""

from __future__ import annotations

from .estimate import estimate_prompt, estimate_round, estimate_tokens
from .prices import BUILTIN_PRICES, PriceTable

__all__ = ["BUILTIN_PRICES", "PriceTable", "estimate_prompt", "estimate_round", "estimate_tokens"]
