"""The Redis store, for several processes or hosts sharing one Redis (or a Redis Cluster).

Every key carries a hash tag (`{...}`), so the keys one operation touches share a cluster slot:
a session's meta and history, or one counter. Each operation is one round trip: a Lua script
or a single pipeline.
"""

from __future__ import annotations

from typing import Any, ClassVar

from redis import asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from .base import CounterState, Message, SessionMeta, SessionRecord, Store

# KEYS: meta, messages. ARGV: keep, ttl ms, now ms, message json...
# Returns the new message count, or -1 when the session is gone.
_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
for i = 4, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[1]), -1)
local user = '{"role":"user",'
while true do
  local first = redis.call('LINDEX', KEYS[2], 0)
  if (not first) or string.sub(first, 1, #user) == user then break end
  redis.call('LPOP', KEYS[2])
end
local n = redis.call('LLEN', KEYS[2])
redis.call('HSET', KEYS[1], 'last_activity', ARGV[3], 'message_count', n)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if n > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return n
"""

# KEYS: counter. ARGV: limit, ttl ms. Returns {allowed (0/1), count}.
_HIT = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return {0, n} end
n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, n}
"""

_RELEASE = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""

# How many session ids a visitor's index keeps; the session-creation quota bounds it first.
_INDEX_MAX = 200
_INDEX_TTL_SECONDS = 7 * 86400


def _meta_key(session_id: str) -> str:
    return f"pb:s:{{{session_id}}}:meta"


def _messages_key(session_id: str) -> str:
    return f"pb:s:{{{session_id}}}:msgs"


def _index_key(visitor: str) -> str:
    return f"pb:v:{{{visitor}}}:sessions"


def _counter_key(key: str) -> str:
    return f"pb:c:{{{key}}}"


class RedisStore(Store):
    name = "redis"
    backend_errors: ClassVar[tuple[type[BaseException], ...]] = (RedisError, OSError, TimeoutError)

    def __init__(self, url: str, *, timeout: float = 2.0, cluster: bool = False) -> None:
        options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "decode_responses": True,
        }
        self.client: Any
        if cluster:
            self.client = RedisCluster.from_url(url, **options)
        else:
            self.client = aioredis.Redis.from_url(url, health_check_interval=30, **options)
        self._append = self.client.register_script(_APPEND)
        self._hit = self.client.register_script(_HIT)
        self._release = self.client.register_script(_RELEASE)

    async def check(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()

    # sessions ----------------------------------------------------------------------------------

    async def create_session(self, session_id: str, visitor: str, now: int, ttl_seconds: int) -> SessionMeta:
        meta = {"visitor": visitor, "created_at": now, "last_activity": now, "message_count": 0}
        index = _index_key(visitor)
        # not a transaction: the session and the index live in different cluster slots
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hset(_meta_key(session_id), mapping=meta)
            pipe.expire(_meta_key(session_id), ttl_seconds)
            pipe.zadd(index, {session_id: now})
            pipe.zremrangebyrank(index, 0, -_INDEX_MAX - 1)
            pipe.expire(index, _INDEX_TTL_SECONDS)
            await pipe.execute()
        return SessionMeta(session_id, visitor, now, now, 0)

    async def load_session(self, session_id: str, now: int) -> SessionRecord | None:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(_meta_key(session_id))
            pipe.lrange(_messages_key(session_id), 0, -1)
            raw_meta, raw_messages = await pipe.execute()
        if not raw_meta:
            return None
        messages = [Message.from_json(item) for item in raw_messages]
        return SessionRecord(_meta_from(session_id, raw_meta, len(messages)), messages)

    async def append_turn(
        self, session_id: str, messages: list[Message], now: int, ttl_seconds: int, keep: int
    ) -> bool:
        result = await self._append(
            keys=[_meta_key(session_id), _messages_key(session_id)],
            args=[keep, ttl_seconds * 1000, now, *(message.to_json() for message in messages)],
        )
        return int(result) >= 0

    async def delete_session(self, session_id: str) -> bool:
        meta = await self.client.hgetall(_meta_key(session_id))
        deleted = int(await self.client.delete(_meta_key(session_id), _messages_key(session_id)))
        if meta.get("visitor"):
            await self.client.zrem(_index_key(meta["visitor"]), session_id)
        return deleted > 0

    async def list_sessions(self, visitor: str, now: int) -> list[SessionMeta]:
        index = _index_key(visitor)
        ids: list[str] = await self.client.zrevrange(index, 0, -1)
        metas = await self._metas(ids)
        gone = [session_id for session_id, meta in zip(ids, metas, strict=True) if meta is None]
        if gone:
            await self.client.zrem(index, *gone)
        return [meta for meta in metas if meta is not None]

    async def _metas(self, ids: list[str]) -> list[SessionMeta | None]:
        if not ids:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for session_id in ids:
                pipe.hgetall(_meta_key(session_id))
            raw = await pipe.execute()
        return [
            _meta_from(session_id, item, int(item.get("message_count", 0))) if item else None
            for session_id, item in zip(ids, raw, strict=True)
        ]

    async def list_all_sessions(self, cursor: str, count: int, now: int) -> tuple[str, list[SessionMeta]]:
        if isinstance(self.client, RedisCluster):
            # a cluster has one SCAN cursor per node: walk them all in one page
            ids = [key async for key in self.client.scan_iter(match="pb:s:*:meta", count=count)]
            next_cursor = 0
        else:
            next_cursor, ids = await self.client.scan(int(cursor or 0), match="pb:s:*:meta", count=count)
        session_ids = [key[len("pb:s:{") : -len("}:meta")] for key in ids]
        metas = await self._metas(session_ids)
        return (str(next_cursor) if int(next_cursor) else ""), [meta for meta in metas if meta]

    # counters ----------------------------------------------------------------------------------

    async def hit(self, key: str, limit: int, ttl_seconds: float) -> CounterState:
        allowed, count = await self._hit(keys=[_counter_key(key)], args=[limit, max(1, int(ttl_seconds * 1000))])
        return CounterState(bool(allowed), int(count))

    async def peek(self, key: str) -> int:
        return int(await self.client.get(_counter_key(key)) or 0)

    async def release(self, key: str) -> None:
        await self._release(keys=[_counter_key(key)])


def _meta_from(session_id: str, raw: dict[str, str], message_count: int) -> SessionMeta:
    return SessionMeta(
        session_id=session_id,
        visitor=raw.get("visitor", ""),
        created_at=int(raw.get("created_at", 0)),
        last_activity=int(raw.get("last_activity", 0)),
        message_count=message_count,
    )
