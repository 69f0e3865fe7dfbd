"""Counters on Redis: one string per counter, charged and given back by scripts."""

from __future__ import annotations

from collections.abc import Sequence

from ..redis import RedisBackend, RedisPart, ScriptCall
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

    async def hit(self, checks: Sequence[CounterCheck]) -> CounterState:
        args: list[int] = []
        for check in checks:
            args += [check.limit, max(1, int(check.ttl_seconds * 1000))]
        refused, *counts = await self._hit(keys=[_counter_key(check.key) for check in checks], args=args)
        return CounterState(
            not refused,
            tuple(int(count) for count in counts),
            int(refused) - 1 if refused else None,
        )

    async def peek(self, key: str) -> int:
        return int(await self.client.get(_counter_key(key)) or 0)

    async def release(self, *keys: str) -> None:
        await self._release(keys=[_counter_key(key) for key in keys])

    def release_call(self, *keys: str) -> ScriptCall:
        """`release` as a script call, for another domain to send in its own round trip."""
        return (self._release, [_counter_key(key) for key in keys], [])
