"""What one chat turn costs the store, counted (never timed), with everything on: the quota, the
global cap, both budgets, the usage ledger, a session and resume (docs/performance.md).

- Redis: round trips as the wire sees them, through a RESP relay in front of the server (a
  pipeline of any length is one): 3 with a session (its history, admission, settlement), 2 without.
- Redis Cluster: script runs as the nodes count them (INFO commandstats; every step is a script): a
  batch sends each step to its own node, at once, so the turn waits on the same three waves (two
  without a session), of 12 and 5 requests.
- SQLite: write transactions (admission reads the history inside its own): 2 with a session or without.

The resume flusher is held off (its first tick is SYNC_SECONDS after a turn starts), so a turn
that ends before it writes its events once, with its settlement: what these counts assert.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
import redis
from asgi_lifespan import LifespanManager

from portfolio_backend.app import create_app
from portfolio_backend.live import sync
from portfolio_backend.settings import Settings
from portfolio_backend.store import Stores
from portfolio_backend.store.sqlite import SqliteBackend

from ..fixtures.redis_cluster import LocalRedisCluster
from ..fixtures.redis_server import RedisServer
from ..fixtures.resp_counter import RespCounter
from ..fixtures.upstream import Reply, ScriptedUpstream
from ..sse import parse_events

TURNS = 3
# per turn: (with a session, without)
# (on a cluster, a turn with a session settles its transcript copy with two more script runs, in
# the same wave: the copy in the session's slot, its indexes in the transcripts' one)
EXPECTED = {"sqlite": (2, 2), "redis": (3, 2), "redis-cluster": (12, 5)}
# every step of a turn is a script: commandstats counts the commands the scripts run as well
SCRIPT_RUNS = ("cmdstat_evalsha", "cmdstat_eval")


@dataclass
class Counted:
    """The store a service runs on, and how to read what it has sent to it so far."""

    overrides: dict[str, Any]
    count: Callable[[Stores], int]


@pytest.fixture
async def counted(store_kind: str, request: pytest.FixtureRequest) -> AsyncIterator[Counted]:
    if store_kind == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        relay = RespCounter(server.port)
        await relay.start()
        yield Counted({"redis_url": f"redis://127.0.0.1:{relay.port}/0"}, lambda _: relay.round_trips)
        await relay.stop()
    elif store_kind == "redis-cluster":
        cluster: LocalRedisCluster = request.getfixturevalue("redis_cluster")
        yield Counted({}, lambda _: _cluster_requests(cluster))
    else:

        def transactions(stores: Stores) -> int:
            assert isinstance(stores.backend, SqliteBackend)
            return stores.backend.transactions

        yield Counted({}, transactions)


def _cluster_requests(cluster: LocalRedisCluster) -> int:
    total = 0
    for node in cluster.nodes:
        client = redis.Redis(port=node.port, decode_responses=True)
        stats = client.info("commandstats")
        total += sum(stats[name]["calls"] for name in SCRIPT_RUNS if name in stats)
        client.close()
    return total


async def test_a_turn_costs_three_round_trips_with_a_session_and_two_without(
    store_kind: str,
    counted: Counted,
    upstream_settings: Callable[..., Settings],
    upstream: ScriptedUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sync, "SYNC_SECONDS", 60.0)  # no flush while the turns run (module docstring)
    monkeypatch.setattr(upstream, "default", Reply(chunks=["Hello", " there."]))
    settings = upstream_settings(
        **counted.overrides,
        global_daily_requests=1000,
        daily_budget_usd=5.0,
        visitor_daily_tokens=100_000,
        model_prices={"gpt-4o-mini": {"input": 0.15, "output": 0.6}},
        knowledge_dir=None,
    )
    async with LifespanManager(create_app(settings)) as manager:
        stores: Stores = manager._state["stores"]  # the app's own connection (asgi-lifespan keeps the state here)
        transport = httpx2.ASGITransport(app=manager.app, client=("203.0.113.7", 50000))
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            session_id = (await client.post("/session")).json()["session_id"]

            async def turns(body: dict[str, Any]) -> int:
                await answered(client, body)  # warm-up: scripts loaded, connections open
                before = counted.count(stores)
                for _ in range(TURNS):
                    await answered(client, body)
                return counted.count(stores) - before

            with_session = await turns({"prompt": "Hi", "session_id": session_id})
            without = await turns({"prompt": "Hi"})

    assert (with_session / TURNS, without / TURNS) == EXPECTED[store_kind]


async def answered(client: httpx2.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post("/stream", json=body)
    assert response.status_code == 200, response.text
    assert parse_events(response.text)[-1]["type"] == "end"
