"""The Redis backend every domain shares: one client (or cluster client), its scripts, its keys.

For several processes or hosts sharing one Redis or a Redis Cluster. Every key carries a hash tag
(`{...}`), so the keys one operation touches share a cluster slot; data kept per session uses the
session's tag (`session_key`), so a session goes in one DEL. Each operation is one round trip: a
Lua script or a single pipeline. Domain stores build on `RedisPart`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from redis import asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.driver_info import DriverInfo
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

from .base import Backend, Step, StoreContract

REDIS_ERRORS: tuple[type[BaseException], ...] = (
    RedisError,
    # not a RedisError: a cluster client with no reachable node, or a slot no node serves
    RedisClusterException,
    OSError,
    TimeoutError,
)

# Connections per process: each store call holds one for a single round trip, so a few hundred
# cover a burst of visitors; calls beyond that wait for one. A burst of 500 simultaneous turns on
# a saturated process made calls wait past 2 s for a connection (bench/run.py), so waiting for a
# free connection has its own, longer, bound than a Redis answer (the store timeout).
MAX_CONNECTIONS = 200
POOL_WAIT_SECONDS = 10.0

# One script run: the script, its keys, its arguments.
ScriptCall = tuple[AsyncScript, list[str], list[Any]]

_T = TypeVar("_T")
_A = TypeVar("_A")


@dataclass(frozen=True, slots=True)
class RedisStep(Step[_T]):
    """A store operation as script runs, sent with other steps' in one pipeline, and what it
    makes of their replies."""

    calls: list[ScriptCall]
    decode: Callable[[list[Any]], _T]


class _SlotMappedCluster(RedisCluster):
    """A cluster client that loads the slot map before its first command, even under concurrency.

    redis-py (8.1) sends commands issued before the map is loaded to the default node; each one
    answers MOVED, every fifth MOVED makes the client close and reopen every connection, and the
    commands in flight on them fail with AttributeError. 40 concurrent quota checks on a new client
    lost a few of them this way (tests/store and tests/quota on the cluster). `initialize()` (public,
    and a flag test once the map is loaded) takes a lock, so the first command loads the map and the
    others wait for it; it also runs again after the client drops its map (a node went away).
    """

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        await self.initialize()
        return await super().execute_command(*args, **kwargs)


class RedisBackend(Backend):
    name = "redis"
    backend_errors = REDIS_ERRORS

    def __init__(self, url: str, *, timeout: float = 2.0, cluster: bool = False) -> None:
        options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "decode_responses": True,
            # Built once: left to redis-py, every new connection looks its version up in the installed
            # package metadata (~0.6 ms of CPU), which a burst of visitors opening 200 connections pays
            # on the event loop (bench/run.py). The CLIENT SETINFO it sends is unchanged.
            "driver_info": DriverInfo(),
        }
        self.client: Any
        self.cluster = cluster
        if cluster:
            self.client = _SlotMappedCluster.from_url(url, **options)
        else:
            # redis-py's default pool fails a call with MaxConnectionsError once 100 are in flight (500
            # visitors arriving together got 400 503s); this one makes the extra calls wait their turn.
            pool = aioredis.BlockingConnectionPool.from_url(
                url, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECONDS, health_check_interval=30, **options
            )
            self.client = aioredis.Redis.from_pool(pool)
        # the parts of `session_key` that domains keep per session, deleted with the session
        self.session_parts: list[str] = []

    @staticmethod
    def session_key(session_id: str, part: str) -> str:
        """The key of one part of a session's data; all of them share the session's hash tag."""
        return f"pb:s:{{{session_id}}}:{part}"

    def keep_with_session(self, part: str) -> None:
        """Declare a `session_key` part that a deleted session takes with it (in the same DEL)."""
        self.session_parts.append(part)

    async def run_scripts(self, calls: Sequence[ScriptCall]) -> list[Any]:
        """Run scripts in one round trip (on a cluster, at once to their own nodes); their results in order."""
        if len(calls) == 1:  # no pipeline to build for one script
            script, keys, args = calls[0]
            return [await script(keys=keys, args=args)]
        if isinstance(self.client, RedisCluster):
            # a cluster pipeline refuses scripts (EVALSHA)
            return list(await asyncio.gather(*(script(keys=keys, args=args) for script, keys, args in calls)))
        # Not `script(client=pipe)`: a pipeline holding Script objects sends SCRIPT EXISTS first, a
        # round trip of its own on every turn. A script Redis does not know yet (first call, Redis
        # restarted) answers NOSCRIPT without running, and is loaded and run below.
        async with self.client.pipeline(transaction=False) as pipe:
            for script, keys, args in calls:
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            results: list[Any] = await pipe.execute(raise_on_error=False)
        for position, result in enumerate(results):
            if isinstance(result, NoScriptError):
                script, keys, args = calls[position]
                results[position] = await script(keys=keys, args=args)
            elif isinstance(result, Exception):
                raise result
        return results

    async def run_steps(self, steps: Sequence[Step[Any]]) -> list[Any]:
        redis_steps = [_redis_step(step) for step in steps]
        replies = await self.run_scripts([call for step in redis_steps for call in step.calls])
        results, start = [], 0
        for step in redis_steps:
            results.append(step.decode(replies[start : start + len(step.calls)]))
            start += len(step.calls)
        return results

    async def run_then(self, first: Step[_A], then: Callable[[_A], Sequence[Step[Any]]]) -> tuple[_A, list[Any]]:
        (result,) = await self.run_steps([first])
        steps = then(result)
        return result, (await self.run_steps(steps) if steps else [])

    async def check(self) -> None:
        if isinstance(self.client, RedisCluster):
            # every primary: one PING reaches one node, and a master that is down takes its slots
            # (perhaps the counters' one, so every /stream) with it
            await self.client.ping(target_nodes=RedisCluster.PRIMARIES)
        else:
            await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()


def no_result(replies: list[Any]) -> None:  # noqa: ARG001 (a decode takes the replies)
    """The decode of a step whose replies say nothing."""
    return None


def _redis_step(step: Step[Any]) -> RedisStep[Any]:
    if not isinstance(step, RedisStep):
        raise TypeError(f"a Redis backend cannot run {type(step).__name__}")
    return step


class RedisPart(StoreContract):
    """Base of a domain store on Redis: its errors become StoreError; `client` is the shared one."""

    name = "redis"
    backend_errors: ClassVar[tuple[type[BaseException], ...]] = REDIS_ERRORS

    def __init__(self, backend: RedisBackend) -> None:
        self.backend = backend
        self.client: Any = backend.client

    async def run_step(self, step: Step[_T]) -> _T:
        result: _T = (await self.backend.run_steps([step]))[0]
        return result
