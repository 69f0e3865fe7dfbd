"""Turn buffers on Redis: per turn, a meta hash and an event list sharing the turn's hash tag;
the session's running turn is a key with the session's tag (another slot on a cluster)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..redis import RedisBackend, RedisPart, RedisStep, ScriptCall
from . import TurnAppend, TurnBufferStore, TurnControl, TurnPage

# The event list is contiguous from seq 1, so an event's seq is its list position + 1.
# KEYS: meta, events. ARGV: ttl ms, max events, ended (0/1), session id to begin with ('' for
# none), now ms, then seq, event, seq, event ...
# Returns {stop (0/1), last follow ms, 0}, or {0, 0, 1} for an unknown buffer not begun here.
_APPEND = """
local stored = tonumber(redis.call('HGET', KEYS[1], 'stored') or '-1')
if stored < 0 then
  if ARGV[4] == '' then return {0, 0, 1} end
  redis.call('DEL', KEYS[2])  -- begun again after a loss: no events left from before
  redis.call('HSET', KEYS[1], 'session', ARGV[4], 'stored', 0, 'started', ARGV[5])
  stored = 0
end
local max = tonumber(ARGV[2])
for i = 6, #ARGV, 2 do
  if tonumber(ARGV[i]) == stored + 1 then
    if stored < max then
      redis.call('RPUSH', KEYS[2], ARGV[i + 1])
      stored = stored + 1
    else
      redis.call('HSET', KEYS[1], 'overflowed', 1)
      break
    end
  end
end
redis.call('HSET', KEYS[1], 'stored', stored)
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'ended', 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if stored > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
local control = redis.call('HMGET', KEYS[1], 'stop', 'follow')
return {tonumber(control[1] or '0'), tonumber(control[2] or '0'), 0}
"""

# KEYS: meta, events. ARGV: after, limit, now ms.
# Returns {} for an unknown buffer, else {session, ended, overflowed, stored, ms to expiry, event...}.
_READ = """
local meta = redis.call('HMGET', KEYS[1], 'session', 'ended', 'overflowed', 'stored')
if not meta[1] then return {} end
local ttl = redis.call('PTTL', KEYS[1])  -- before the HSET below, which keeps it
redis.call('HSET', KEYS[1], 'follow', ARGV[3])
local after = tonumber(ARGV[1])
local events = redis.call('LRANGE', KEYS[2], after, after + tonumber(ARGV[2]) - 1)
local page = {meta[1], meta[2] or '0', meta[3] or '0', meta[4], tostring(ttl)}
for _, event in ipairs(events) do page[#page + 1] = event end
return page
"""

# KEYS: meta. Sets the stop flag of a running turn. Returns 1 if set.
_STOP = """
local ended = redis.call('HMGET', KEYS[1], 'session', 'ended')
if (not ended[1]) or ended[2] == '1' then return 0 end
redis.call('HSET', KEYS[1], 'stop', 1)
return 1
"""


# KEYS: the session's running-turn key. ARGV: turn id, ttl seconds.
_POINT = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 0
"""


def _meta_key(turn_id: str) -> str:
    return f"pb:t:{{{turn_id}}}:meta"


def _events_key(turn_id: str) -> str:
    return f"pb:t:{{{turn_id}}}:events"


def _running_key(session_id: str) -> str:
    return RedisBackend.session_key(session_id, "turn")


class RedisTurnBufferStore(RedisPart, TurnBufferStore):
    def __init__(self, backend: RedisBackend) -> None:
        super().__init__(backend)
        backend.keep_with_session("turn")
        self._append = self.client.register_script(_APPEND)
        self._read = self.client.register_script(_READ)
        self._stop = self.client.register_script(_STOP)
        self._point = self.client.register_script(_POINT)

    def append_step(
        self,
        appends: Sequence[TurnAppend],
        *,
        now: int,
        ttl_seconds: int,
        max_events: int,
        running_ttl_seconds: int | None = None,
    ) -> RedisStep[list[TurnControl]]:
        calls: list[ScriptCall] = []
        for append in appends:
            args: list[Any] = [ttl_seconds * 1000, max_events, 1 if append.ended else 0, append.begin or "", now]
            for seq, event in append.events:
                args += [seq, event]
            calls.append((self._append, [_meta_key(append.turn_id), _events_key(append.turn_id)], args))
        # not one transaction: a session's pointer, and each turn, live in cluster slots of their own
        calls += [
            (self._point, [_running_key(append.begin)], [append.turn_id, running_ttl_seconds or ttl_seconds])
            for append in appends
            if append.begin is not None
        ]
        count = len(appends)

        def decode(results: list[Any]) -> list[TurnControl]:
            # an ended turn's pointer stays until its TTL: `running_turn` reads the turn's own meta
            return [TurnControl(bool(stop), int(follow), bool(gone)) for stop, follow, gone in results[:count]]

        return RedisStep(calls, decode)

    async def read(self, turn_id: str, after: int, limit: int, now: int) -> TurnPage | None:
        page: list[str] = await self._read(keys=[_meta_key(turn_id), _events_key(turn_id)], args=[after, limit, now])
        if not page:
            return None
        session_id, ended, overflowed, stored = page[0], page[1] == "1", page[2] == "1", int(page[3])
        expires_at = now + max(int(page[4]), 0)
        events = [(after + position, event) for position, event in enumerate(page[5:], start=1)]
        last = events[-1][0] if events else after
        return TurnPage(session_id, events, ended and last >= stored, overflowed, expires_at, ended)

    async def request_stop(self, turn_id: str) -> bool:
        return bool(int(await self._stop(keys=[_meta_key(turn_id)])))

    async def running_turn(self, session_id: str) -> str | None:
        turn_id: str | None = await self.client.get(_running_key(session_id))
        if turn_id is None:
            return None
        # the pointer is advisory (another slot, left in place after the end): the turn's own meta decides
        meta = await self.client.hmget(_meta_key(turn_id), "session", "ended")
        if meta[0] != session_id or meta[1] == "1":
            return None
        return turn_id
