"""Sessions on Redis: a meta hash and a message list per session, a sorted-set index per visitor."""

from __future__ import annotations

from typing import Any

from redis.asyncio.cluster import RedisCluster

from ..redis import RedisBackend, RedisPart, RedisStep
from . import Message, SessionMeta, SessionRecord, SessionStore

# KEYS: meta, messages. ARGV: keep, ttl ms, now ms, replace last turn (1/0), message json...
# Returns the new message count, or -1 when the session is gone.
# Replacing drops the last user message and all after it, before the new turn is pushed.
# The trimming rule: keep the last `keep`, then drop leading messages until a user message.
_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local user = '{"role":"user",'
if ARGV[4] == '1' then
  local held = redis.call('LRANGE', KEYS[2], 0, -1)
  for i = #held, 1, -1 do
    if string.sub(held[i], 1, #user) == user then
      if i == 1 then redis.call('DEL', KEYS[2]) else redis.call('LTRIM', KEYS[2], 0, i - 2) end
      break
    end
  end
end
for i = 5, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[1]), -1)
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

# KEYS: meta, messages. Returns {} for an unknown session, else {meta as field, value..., messages}.
_LOAD = """
local meta = redis.call('HGETALL', KEYS[1])
if #meta == 0 then return {} end
return {meta, redis.call('LRANGE', KEYS[2], 0, -1)}
"""

# How many session ids a visitor's index keeps; the session-creation quota bounds it first.
_INDEX_MAX = 200
_INDEX_TTL_SECONDS = 7 * 86400
_META_PATTERN = "pb:s:*:meta"


def _meta_key(session_id: str) -> str:
    return RedisBackend.session_key(session_id, "meta")


def _messages_key(session_id: str) -> str:
    return RedisBackend.session_key(session_id, "msgs")


def _session_id_of(meta_key: str) -> str:
    return meta_key[len("pb:s:{") : -len("}:meta")]


def _index_key(visitor: str) -> str:
    return f"pb:v:{{{visitor}}}:sessions"


class RedisSessionStore(RedisPart, SessionStore):
    def __init__(self, backend: RedisBackend) -> None:
        super().__init__(backend)
        self._append = self.client.register_script(_APPEND)
        self._load = self.client.register_script(_LOAD)

    async def create(self, session_id: str, visitor: str, now: int, ttl_seconds: int) -> SessionMeta:
        meta = {
            "visitor": visitor,
            "created_at": now,
            "last_activity": now,
            "message_count": 0,
        }
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

    def load_step(self, session_id: str, now: int) -> RedisStep[SessionRecord | None]:
        def decode(replies: list[Any]) -> SessionRecord | None:
            if not replies[0]:
                return None
            flat, raw_messages = replies[0]
            messages = [Message.from_json(item) for item in raw_messages]
            raw_meta = dict(zip(flat[::2], flat[1::2], strict=True))
            return SessionRecord(_meta_from(session_id, raw_meta, len(messages)), messages)

        return RedisStep([(self._load, [_meta_key(session_id), _messages_key(session_id)], [])], decode)

    def append_turn_step(
        self,
        session_id: str,
        messages: list[Message],
        now: int,
        ttl_seconds: int,
        keep: int,
        replace_last_turn: bool = False,
    ) -> RedisStep[bool]:
        keys = [_meta_key(session_id), _messages_key(session_id)]
        replace = 1 if replace_last_turn else 0
        args = [keep, ttl_seconds * 1000, now, replace, *(message.to_json() for message in messages)]
        return RedisStep([(self._append, keys, args)], _appended)

    async def delete(self, session_id: str) -> bool:
        meta = await self.client.hgetall(_meta_key(session_id))
        # one slot: what other domains keep per session shares the session's hash tag
        others = [RedisBackend.session_key(session_id, part) for part in self.backend.session_parts]
        deleted = int(await self.client.delete(_meta_key(session_id), _messages_key(session_id), *others))
        if meta.get("visitor"):
            await self.client.zrem(_index_key(meta["visitor"]), session_id)
        return deleted > 0

    async def list_for(self, visitor: str, now: int) -> list[SessionMeta]:
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

    async def list_all(self, cursor: str, count: int, now: int) -> tuple[str, list[SessionMeta]]:
        if isinstance(self.client, RedisCluster):
            return await self._list_all_cluster(cursor, count)
        scan_cursor = int(cursor or 0)
        metas: list[SessionMeta] = []
        # SCAN walks the whole keyspace (quota counters, turn buffers...) a few buckets at a time and
        # may find no session in a step: go on until the page is full or the scan is done, so no
        # page is empty while sessions remain (issue 25). A step that would overfill a page that has
        # some is left for the next page, which starts at that step's cursor.
        while True:
            after, keys = await self.client.scan(scan_cursor, match=_META_PATTERN, count=count)
            found = await self._live_metas(keys)
            if metas and len(metas) + len(found) > count:
                return str(scan_cursor), metas
            metas += found
            scan_cursor = int(after)
            if not scan_cursor or len(metas) >= count:
                return (str(scan_cursor) if scan_cursor else ""), metas

    async def _live_metas(self, meta_keys: list[str]) -> list[SessionMeta]:
        """The sessions of these meta keys that still exist (one may expire between SCAN and read)."""
        return [meta for meta in await self._metas([_session_id_of(key) for key in meta_keys]) if meta]

    async def _list_all_cluster(self, cursor: str, count: int) -> tuple[str, list[SessionMeta]]:
        """Each primary has its own SCAN cursor, so the page cursor is `<primary index>:<its cursor>`
        (primaries in name order). A page goes on, primary after primary, until it is full or every
        primary is scanned to the end, as `list_all` does on one server."""
        await self.client.initialize()  # the primaries are known once the slot map is loaded
        primaries = sorted(self.client.get_primaries(), key=lambda node: node.name)
        index, _, node_cursor = (cursor or "0:0").partition(":")
        position, scan_cursor = int(index), int(node_cursor or 0)
        metas: list[SessionMeta] = []
        while position < len(primaries) and len(metas) < count:
            node = primaries[position]
            cursors, keys = await self.client.scan(scan_cursor, match=_META_PATTERN, count=count, target_nodes=node)
            found = await self._live_metas(keys)
            if metas and len(metas) + len(found) > count:
                break
            metas += found
            scan_cursor = int(cursors[node.name])
            if not scan_cursor:
                position += 1
        next_cursor = f"{position}:{scan_cursor}" if position < len(primaries) else ""
        return next_cursor, metas


def _appended(replies: list[Any]) -> bool:
    return int(replies[0]) >= 0


def _meta_from(session_id: str, raw: dict[str, str], message_count: int) -> SessionMeta:
    return SessionMeta(
        session_id=session_id,
        visitor=raw.get("visitor", ""),
        created_at=int(raw.get("created_at", 0)),
        last_activity=int(raw.get("last_activity", 0)),
        message_count=message_count,
    )
