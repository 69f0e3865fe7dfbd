"""The usage contract on every backend: reservations that hold the budget atomically, an exact
account per day, visitor and session, and retention."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from portfolio_backend.store import Stores
from portfolio_backend.store.usage import BudgetKind, Reservation, TurnUsage

from ..conftest import connect

# today: Redis drops a day's keys by the wall clock, `keep_days` after it
DAY = int(time.time() // 86400)


def _turn(
    reservation: Reservation, session_id: str | None = "s-1", *, prompt: int = 100, completion: int = 20
) -> TurnUsage:
    return TurnUsage(
        reservation=reservation,
        session_id=session_id,
        prompt_tokens=prompt,
        cached_tokens=30,
        completion_tokens=completion,
        micro_usd=prompt * 2 + completion * 8,
        estimated=session_id is None,
    )


async def test_a_recorded_turn_counts_for_its_day_visitor_and_session(stores: Stores) -> None:
    usage = stores.usage
    first = Reservation(DAY, "visitor-a", 90, 180)
    state = await usage.reserve(first, day_limit_micro_usd=0, visitor_limit_tokens=0, keep_days=90)
    assert state.allowed
    assert (await usage.day_micro_usd(DAY)) == 180  # held while the turn runs
    await usage.record(_turn(first), keep_days=90)
    second = Reservation(DAY, "visitor-a", 90, 180)
    await usage.reserve(second, day_limit_micro_usd=0, visitor_limit_tokens=0, keep_days=90)
    await usage.record(_turn(second, session_id=None), keep_days=90)
    third = Reservation(DAY, "visitor-b", 90, 180)
    await usage.reserve(third, day_limit_micro_usd=0, visitor_limit_tokens=0, keep_days=90)
    await usage.release(third)  # never ran

    (day,) = await usage.days(DAY, DAY)
    assert (day.turns, day.visitors, day.prompt_tokens, day.cached_tokens, day.completion_tokens) == (2, 1, 200, 60, 40)
    assert (day.micro_usd, day.estimated_turns, day.reserved_micro_usd) == (2 * 360, 1, 0)
    assert await usage.day_micro_usd(DAY) == 720
    assert await usage.visitor(DAY, "visitor-a") == type(await usage.visitor(DAY, "visitor-a"))(2, 240, 720)
    assert (await usage.visitor(DAY, "visitor-b")).turns == 0
    assert (await usage.session(DAY, "s-1")).tokens == 120
    assert [d.turns for d in await usage.days(DAY - 1, DAY + 1)] == [0, 2, 0]


async def test_a_reached_budget_refuses_and_changes_nothing(stores: Stores) -> None:
    usage = stores.usage
    held = Reservation(DAY, "visitor-a", 500, 1000)
    assert (await usage.reserve(held, day_limit_micro_usd=1000, visitor_limit_tokens=0, keep_days=90)).allowed
    refused = await usage.reserve(
        Reservation(DAY, "visitor-b", 1, 1), day_limit_micro_usd=1000, visitor_limit_tokens=0, keep_days=90
    )
    assert refused.refused is BudgetKind.DAILY_USD
    tokens = await usage.reserve(
        Reservation(DAY, "visitor-a", 1, 1), day_limit_micro_usd=0, visitor_limit_tokens=500, keep_days=90
    )
    assert tokens.refused is BudgetKind.VISITOR_TOKENS
    assert await usage.day_micro_usd(DAY) == 1000
    # the next day starts from nothing
    assert (
        await usage.reserve(
            Reservation(DAY + 1, "visitor-a", 1, 1), day_limit_micro_usd=1000, visitor_limit_tokens=500, keep_days=90
        )
    ).allowed


async def test_concurrent_reservations_from_two_connections_admit_exactly_what_fits(
    stores: Stores, store_env: dict[str, Any]
) -> None:
    other = await connect(store_env)
    try:
        calls = [
            (stores if n % 2 else other).usage.reserve(
                Reservation(DAY, "visitor-a", 300, 7), day_limit_micro_usd=0, visitor_limit_tokens=1000, keep_days=90
            )
            for n in range(40)
        ]
        states = await asyncio.gather(*calls)
    finally:
        await other.close()
    assert sum(state.allowed for state in states) == math.ceil(1000 / 300)
    (day,) = await stores.usage.days(DAY, DAY)
    assert day.reserved_micro_usd == 4 * 7


async def test_days_past_retention_are_dropped(stores: Stores) -> None:
    usage = stores.usage
    old = Reservation(DAY - 100, "visitor-a", 1, 1)
    await usage.reserve(old, day_limit_micro_usd=0, visitor_limit_tokens=0, keep_days=90)
    await usage.record(_turn(old), keep_days=90)
    now = Reservation(DAY, "visitor-a", 1, 1)
    await usage.reserve(now, day_limit_micro_usd=0, visitor_limit_tokens=0, keep_days=90)
    await usage.record(_turn(now), keep_days=90)
    assert (await usage.days(DAY - 100, DAY - 100))[0].turns == 0
    assert (await usage.days(DAY - 90, DAY))[-1].turns == 1
