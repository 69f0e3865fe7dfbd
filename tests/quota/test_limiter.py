"""The limiter on both stores: windows aligned to UTC midnight, roll-over with an injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from portfolio_backend.quota import Bound, Limiter
from portfolio_backend.settings import RateSpec
from portfolio_backend.store import Stores

DAILY = Bound("chat", RateSpec(3, 86400), "limit")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def midnight(year: int, month: int, day: int) -> float:
    return datetime(year, month, day, tzinfo=UTC).timestamp()


async def test_a_daily_window_resets_at_utc_midnight(stores: Stores) -> None:
    clock = Clock(midnight(2026, 11, 24) + 86400 - 5)  # 23:59:55 UTC
    limiter = Limiter(stores.counters, clock)
    decisions = [(await limiter.charge([(DAILY, "v")]))[0] for _ in range(4)]
    assert [decision.allowed for decision in decisions] == [True, True, True, False]
    assert decisions[-1].reset == int(midnight(2026, 11, 25))
    assert decisions[-1].retry_after == 5
    clock.now = midnight(2026, 11, 25) + 1  # a new day
    fresh = (await limiter.charge([(DAILY, "v")]))[0]
    assert fresh.allowed
    assert fresh.remaining == 2


async def test_peek_spends_nothing(stores: Stores) -> None:
    limiter = Limiter(stores.counters, Clock(midnight(2026, 1, 1) + 10))
    await limiter.charge([(DAILY, "v")])
    for _ in range(5):
        peeked = await limiter.peek(DAILY, "v")
    assert peeked.count == 1
    assert peeked.remaining == 2


async def test_forty_concurrent_requests_give_exactly_the_limit(stores: Stores) -> None:
    limiter = Limiter(stores.counters, Clock(midnight(2026, 1, 1) + 10))
    bound = Bound("chat", RateSpec(10, 86400), "limit")
    results = await asyncio.gather(*(limiter.charge([(bound, "crowd")]) for _ in range(40)))
    assert sum(result[0].allowed for result in results) == 10


async def test_headers_carry_the_seed_and_ietf_fields(stores: Stores) -> None:
    limiter = Limiter(stores.counters, Clock(midnight(2026, 1, 1) + 3600))
    decision = (await limiter.charge([(DAILY, "v")]))[0]
    headers = decision.headers()
    assert headers["X-RateLimit-Limit"] == "3"
    assert headers["X-RateLimit-Remaining"] == "2"
    assert headers["X-RateLimit-Reset"] == str(int(midnight(2026, 1, 2)))
    assert headers["RateLimit-Policy"] == '"chat";q=3;w=86400'
    assert headers["RateLimit"] == '"chat";r=2;t=82800'
    assert "Retry-After" not in headers
