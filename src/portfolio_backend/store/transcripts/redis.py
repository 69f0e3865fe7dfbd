"""Transcripts on Redis: a meta hash and a message list per conversation (expiring with its
retention), and sorted sets of session ids by expiry in one slot: every transcript's, each visitor's."""

from __future__ import annotations

from typing import Any

from redis.asyncio.cluster import RedisCluster

from ..redis import RedisBackend, RedisPart, RedisStep, no_result
from ..sessions import Message
from . import DAY_MS, TRANSCRIPT_MESSAGES_KEPT, Transcript, TranscriptMeta, TranscriptStore

# KEYS: meta, messages, the session's meta. ARGV: visitor, now, expires at (ms), kept, message json...
# A session deleted while its answer streamed leaves no copy behind.
_KEEP = """
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'created_at', ARGV[2])
redis.call('HSET', KEYS[1], 'visitor', ARGV[1], 'last_activity', ARGV[2], 'expires_at', ARGV[3])
for i = 5, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
if #ARGV > 4 then redis.call('PEXPIREAT', KEYS[2], ARGV[3]) end
return 0
"""

# KEYS: every transcript's index, the visitor's. ARGV: session id, expires at (ms), now.
# Expired entries go as new ones come; one slot ({transcripts}), so one script.
_INDEX = """
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[2], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[3])
  redis.call('PEXPIREAT', key, redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
end
return 0
"""

_ORDER_KEY = "pb:{transcripts}:order"


def _meta_key(session_id: str) -> str:
    return f"pb:tr:{{{session_id}}}:meta"


def _messages_key(session_id: str) -> str:
    return f"pb:tr:{{{session_id}}}:msgs"


def _session_key(session_id: str) -> str:
    return RedisBackend.session_key(session_id, "meta")  # the session's own meta: same hash tag


def _visitor_key(visitor: str) -> str:
    # in the index's slot, not the visitor's: a turn's settlement updates both in one script
    return f"pb:{{transcripts}}:v:{visitor}"


class RedisTranscriptStore(RedisPart, TranscriptStore):
    def __init__(self, backend: RedisBackend) -> None:
        super().__init__(backend)
        self._keep = self.client.register_script(_KEEP)
        self._index = self.client.register_script(_INDEX)

    def keep_step(
        self, session_id: str, visitor: str, messages: list[Message], now: int, retention_days: int
    ) -> RedisStep[None]:
        expires_at = now + retention_days * DAY_MS
        bodies = [message.to_json() for message in messages]
        keep_args: list[Any] = [visitor, now, expires_at, TRANSCRIPT_MESSAGES_KEPT, *bodies]
        index_args: list[Any] = [session_id, expires_at, now]
        return RedisStep(
            [
                (self._keep, [_meta_key(session_id), _messages_key(session_id), _session_key(session_id)], keep_args),
                (self._index, [_ORDER_KEY, _visitor_key(visitor)], index_args),
            ],
            no_result,
        )

    async def load(self, session_id: str, now: int) -> Transcript | None:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(_meta_key(session_id))
            pipe.lrange(_messages_key(session_id), 0, -1)
            raw, bodies = await pipe.execute()
        if not raw or int(raw.get("expires_at", 0)) <= now:
            return None
        return Transcript(_meta_from(session_id, raw, len(bodies)), [Message.from_json(body) for body in bodies])

    async def newest(self, count: int, now: int) -> list[TranscriptMeta]:
        ids: list[str] = await self.client.zrevrangebyscore(_ORDER_KEY, "+inf", f"({now}", start=0, num=count)
        if not ids:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for session_id in ids:
                pipe.hgetall(_meta_key(session_id))
                pipe.llen(_messages_key(session_id))
            replies = await pipe.execute()
        metas = [
            _meta_from(session_id, raw, int(length))
            for session_id, raw, length in zip(ids, replies[::2], replies[1::2], strict=True)
            if raw
        ]
        return [meta for meta in metas if meta.expires_at > now]

    async def for_visitor(self, visitor: str, now: int) -> list[str]:
        ids: list[str] = await self.client.zrevrangebyscore(_visitor_key(visitor), "+inf", f"({now}")
        return ids

    async def delete(self, session_ids: list[str]) -> int:
        if not session_ids:
            return 0
        visitors: list[str | None] = [await self.client.hget(_meta_key(sid), "visitor") for sid in session_ids]
        async with self.client.pipeline(transaction=False) as pipe:
            for session_id, visitor in zip(session_ids, visitors, strict=True):
                pipe.delete(_meta_key(session_id), _messages_key(session_id))
                pipe.zrem(_ORDER_KEY, session_id)
                if visitor:
                    pipe.zrem(_visitor_key(visitor), session_id)
            await pipe.execute()
        return sum(1 for visitor in visitors if visitor is not None)

    async def expire(self, now: int) -> int:
        # the transcripts' own keys expire by themselves (PEXPIREAT); the indexes forget them here
        # (all in one slot, so one node's SCAN finds every visitor's)
        node = self.client.get_node_from_key(_ORDER_KEY) if isinstance(self.client, RedisCluster) else None
        options: dict[str, Any] = {"target_nodes": node} if node is not None else {}
        async for key in self.client.scan_iter(match=_visitor_key("*"), count=500, **options):
            await self.client.zremrangebyscore(key, "-inf", now)
        return int(await self.client.zremrangebyscore(_ORDER_KEY, "-inf", now))


def _meta_from(session_id: str, raw: dict[str, str], message_count: int) -> TranscriptMeta:
    return TranscriptMeta(
        session_id=session_id,
        visitor=raw.get("visitor", ""),
        created_at=int(raw.get("created_at", 0)),
        last_activity=int(raw.get("last_activity", 0)),
        expires_at=int(raw.get("expires_at", 0)),
        message_count=message_count,
    )
