"""Counters on Redis: one string per counter, charged and given back by scripts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..redis import RedisBackend, RedisPart, RedisStep, no_result
from . import CounterCheck, CounterState, CounterStore

# KEYS: counters. ARGV: limit and ttl ms of each. All or nothing.
# Returns {refused index (0 = all charged), count...}.
_HIT = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = tonumber(redis.call('GET', key) or '0')
end
for i = 1, #KEYS do
  if counts[i] >= tonumber(ARGV[2 * i - 1]) then return {i, unpack(counts)} end
end
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
end
return {0, unpack(counts)}
"""

_RELEASE = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
"""


def _counter_key(key: str) -> str:
    # One hash tag for every counter: a turn's visitor, stream and global counters are checked in
    # one atomic script, which on a cluster needs one slot. Counters are tiny and a chat backend's
    # request rate is far below what one node serves.
    return f"pb:{{counters}}:{key}"


class RedisCounterStore(RedisPart, CounterStore):
    def __init__(self, backend: RedisBackend) -> None:
        super().__init__(backend)
        self._hit = self.client.register_script(_HIT)
        self._release = self.client.register_script(_RELEASE)

    def hit_step(self, checks: Sequence[CounterCheck]) -> RedisStep[CounterState]:
        args: list[int] = []
        for check in checks:
            args += [check.limit, max(1, int(check.ttl_seconds * 1000))]
        return RedisStep([(self._hit, [_counter_key(check.key) for check in checks], args)], _counter_state)

    async def peek(self, key: str) -> int:
        return int(await self.client.get(_counter_key(key)) or 0)

    def release_step(self, keys: Sequence[str]) -> RedisStep[None]:
        return RedisStep([(self._release, [_counter_key(key) for key in keys], [])], no_result)


def _counter_state(replies: list[Any]) -> CounterState:
    refused, *counts = replies[0]
    return CounterState(not refused, tuple(int(count) for count in counts), int(refused) - 1 if refused else None)
