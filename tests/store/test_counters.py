"""The counters contract, on SQLite, Redis and Redis Cluster (the `stores` fixture)."""

from __future__ import annotations

import asyncio

from portfolio_backend.store import CounterCheck, Stores


async def test_counters_charge_all_or_nothing(stores: Stores) -> None:
    visitor = CounterCheck("chat:v:0", 2, 60)
    global_ = CounterCheck("global:all:0", 3, 60)
    assert (await stores.counters.hit([visitor, global_])).allowed
    assert (await stores.counters.hit([visitor, global_])).allowed
    refused = await stores.counters.hit([visitor, global_])
    assert not refused.allowed
    assert refused.refused == 0
    assert refused.counts == (2, 2)
    # the refused check charged nothing, so the global counter still has room for another visitor
    other = await stores.counters.hit([CounterCheck("chat:w:0", 2, 60), global_])
    assert other.allowed
    assert other.counts == (1, 3)


async def test_release_gives_one_back_and_never_goes_negative(stores: Stores) -> None:
    check = CounterCheck("streams:v", 1, 600)
    assert (await stores.counters.hit([check])).allowed
    assert not (await stores.counters.hit([check])).allowed
    await stores.counters.release("streams:v")
    await stores.counters.release("streams:v")
    assert await stores.counters.peek("streams:v") == 0
    assert (await stores.counters.hit([check])).allowed


async def test_peek_counts_nothing_and_reads_zero_for_an_unknown_counter(stores: Stores) -> None:
    assert await stores.counters.peek("chat:nobody:0") == 0
    await stores.counters.hit([CounterCheck("chat:v:0", 5, 60)])
    assert await stores.counters.peek("chat:v:0") == 1
    assert await stores.counters.peek("chat:v:0") == 1


async def test_concurrent_hits_are_exact(stores: Stores) -> None:
    check = CounterCheck("chat:crowd:0", 10, 60)
    results = await asyncio.gather(*(stores.counters.hit([check]) for _ in range(40)))
    assert sum(result.allowed for result in results) == 10
    assert await stores.counters.peek("chat:crowd:0") == 10
