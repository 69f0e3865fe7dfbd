"""Privacy on Redis: erasure reads what it must (indexes, lists, scans of a few key patterns) and
deletes key by key; rare and owner-driven, so it favours finding everything over round trips."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from redis.asyncio.cluster import RedisCluster

from ..counters.redis import _counter_key
from ..feedback.redis import _ITEMS as FEEDBACK_ITEMS
from ..feedback.redis import _ORDER as FEEDBACK_ORDER
from ..leads.redis import _LEADS_KEY
from ..redis import RedisBackend, RedisPart
from ..reminders.redis import _CLAIMED_KEY, _DUE_KEY
from ..sessions.redis import _index_key as sessions_index_key
from ..transcripts.redis import _ORDER_KEY as TRANSCRIPTS_ORDER
from ..transcripts.redis import _messages_key as transcript_messages_key
from ..transcripts.redis import _meta_key as transcript_meta_key
from ..transcripts.redis import _visitor_key as transcripts_index_key
from ..turn_buffers.redis import _events_key as turn_events_key
from ..usage.redis import _day_key
from . import Expired, PrivacyStore, Subject

_SCAN_COUNT = 500


class RedisPrivacyStore(RedisPart, PrivacyStore):
    def __init__(self, backend: RedisBackend) -> None:
        super().__init__(backend)

    async def erase(self, subject: Subject, usage_days: range) -> None:
        client = self.client
        session_ids = set(subject.session_ids)
        for visitor in subject.visitors:  # what is kept per session goes with its visitor
            session_ids.update(await client.zrange(sessions_index_key(visitor), 0, -1))
            session_ids.update(await client.zrange(transcripts_index_key(visitor), 0, -1))
        visitors = set(subject.visitors)
        for session_id in session_ids:  # a session's visitor indexes must forget it
            for key in (RedisBackend.session_key(session_id, "meta"), transcript_meta_key(session_id)):
                owner = await client.hget(key, "visitor")
                if owner:
                    await client.zrem(sessions_index_key(owner), session_id)
                    await client.zrem(transcripts_index_key(owner), session_id)
        doomed: list[str] = []
        for session_id in session_ids:
            parts = ("meta", "msgs", *self.backend.session_parts)
            doomed += [RedisBackend.session_key(session_id, part) for part in parts]
            doomed += [transcript_meta_key(session_id), transcript_messages_key(session_id)]
            doomed += [_day_key(day, f"s:{session_id}") for day in usage_days]
        for visitor in visitors:
            doomed += [sessions_index_key(visitor), transcripts_index_key(visitor)]
            doomed += [_day_key(day, f"v:{visitor}") for day in usage_days]
        names = session_ids | visitors
        doomed += [key async for key in self._scan("pb:v:*:chat:*") if await _chat_of(client, key, names)]
        doomed += [key async for key in self._scan(_counter_key("*")) if any(name in key for name in names)]
        async for key in self._scan("pb:t:*:meta"):  # resume buffers: the turn's meta names its session
            if await client.hget(key, "session") in session_ids:
                doomed += [key, turn_events_key(key[len("pb:t:{") : -len("}:meta")])]
        await self._delete(doomed)
        if session_ids:
            await client.zrem(TRANSCRIPTS_ORDER, *session_ids)
            for key in (_DUE_KEY, _CLAIMED_KEY):  # members are `<session id>:<reminder id>`
                members = [m for m in await client.zrange(key, 0, -1) if m.rpartition(":")[0] in session_ids]
                if members:
                    await client.zrem(key, *members)
        await self._drop_feedback(lambda item: item["session_id"] in session_ids or item["visitor"] in visitors)
        await self._drop_leads(
            lambda lead: lead.get("session_id") in session_ids or (lead.get("email") or "").lower() in subject.emails
        )

    async def expire(self, *, feedback_before: int, leads_before: int) -> Expired:
        feedback = await self._drop_feedback(lambda item: int(item["created_at"]) < feedback_before)
        leads = await self._drop_leads(lambda lead: int(lead["created_at"]) < leads_before)
        return Expired(feedback=feedback, leads=leads)

    async def _drop_feedback(self, doomed: Any) -> int:
        items: dict[str, str] = await self.client.hgetall(FEEDBACK_ITEMS)
        turn_ids = [turn_id for turn_id, raw in items.items() if doomed(json.loads(raw))]
        if turn_ids:
            await self.client.hdel(FEEDBACK_ITEMS, *turn_ids)
            await self.client.zrem(FEEDBACK_ORDER, *turn_ids)
        return len(turn_ids)

    async def _drop_leads(self, doomed: Any) -> int:
        raw: list[str] = await self.client.lrange(_LEADS_KEY, 0, -1)
        gone = [item for item in raw if doomed(json.loads(item))]
        for item in gone:  # each stored lead has its own id, so its text is unique
            await self.client.lrem(_LEADS_KEY, 0, item)
        return len(gone)

    async def _delete(self, keys: Iterable[str]) -> None:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:  # one key per DEL: on a cluster they live in many slots
                pipe.delete(key)
            await pipe.execute()

    async def _scan(self, match: str) -> AsyncIterator[str]:
        """Every key matching `match`, on every primary of a cluster."""
        if not isinstance(self.client, RedisCluster):
            async for key in self.client.scan_iter(match=match, count=_SCAN_COUNT):
                yield key
            return
        await self.client.initialize()
        for node in self.client.get_primaries():
            cursor = 0
            while True:
                reply: Any = await self.client.scan(cursor, match=match, count=_SCAN_COUNT, target_nodes=node)
                cursors, keys = reply
                for key in keys:
                    yield key
                cursor = int(cursors[node.name])
                if not cursor:
                    break


async def _chat_of(client: Any, key: str, names: set[str]) -> bool:
    """Whether a chat binding's key names a visitor in `names`, or it points at a session in it."""
    visitor = key[len("pb:v:{") :].partition("}")[0]
    return visitor in names or (await client.get(key)) in names
