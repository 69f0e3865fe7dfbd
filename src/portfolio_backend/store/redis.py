"""The Redis store, for several processes or hosts sharing one Redis (or a Redis Cluster).

Every key carries a hash tag (`{...}`), so the keys one operation touches share a cluster slot:
a session's meta and history, or one counter. Each operation is one round trip: a Lua script
or a single pipeline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

from redis import asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.driver_info import DriverInfo
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

from .base import (
    LEADS_KEPT,
    REMINDERS_KEPT_MS,
    CounterCheck,
    CounterState,
    Lead,
    Message,
    Reminder,
    SessionMeta,
    SessionRecord,
    Store,
)

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

# How many session ids a visitor's index keeps; the session-creation quota bounds it first.
_INDEX_MAX = 200
_INDEX_TTL_SECONDS = 7 * 86400


def _meta_key(session_id: str) -> str:
    return f"pb:s:{{{session_id}}}:meta"


def _messages_key(session_id: str) -> str:
    return f"pb:s:{{{session_id}}}:msgs"


def _session_id_of(meta_key: str) -> str:
    return meta_key[len("pb:s:{") : -len("}:meta")]


def _index_key(visitor: str) -> str:
    return f"pb:v:{{{visitor}}}:sessions"


def _counter_key(key: str) -> str:
    # One hash tag for every counter: a turn's visitor, stream and global counters are checked in
    # one atomic script, which on a cluster needs one slot. Counters are tiny and a chat backend's
    # request rate is far below what one node serves.
    return f"pb:{{counters}}:{key}"


# reminders and leads -------------------------------------------------------------------------
# A reminder lives in its session's hash (`pb:s:{id}:reminders`, one field per reminder). Which
# reminders are due, and which are being delivered, are two sorted sets that share one hash tag,
# so a claim is one script in one slot: a due member moves to the claimed set with its lease end,
# and a script runs whole, so no two dispatchers can take the same member.

# KEYS: session reminders hash. ARGV: reminder id, json, limit, keep ms. Returns 1 stored, 0 full.
_ADD_REMINDER = """
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1
"""

# KEYS: due, claimed. ARGV: now ms, lease end ms, count. Returns the claimed members.
# Claims whose lease ran out (their dispatcher died) are taken again first.
_CLAIM_REMINDERS = """
local claimed = {}
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(stale) do
  redis.call('ZADD', KEYS[2], ARGV[2], member)
  claimed[#claimed + 1] = member
end
local room = tonumber(ARGV[3]) - #claimed
if room > 0 then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, room)
  for _, member in ipairs(due) do
    redis.call('ZREM', KEYS[1], member)
    redis.call('ZADD', KEYS[2], ARGV[2], member)
    claimed[#claimed + 1] = member
  end
end
return claimed
"""

# KEYS: due, claimed. ARGV: member, retry at ms. Back to due only if it was still claimed.
_RESCHEDULE_REMINDER = """
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end
return 0
"""

# KEYS: session reminders hash. ARGV: reminder id, json. Never recreates a hash that expired.
_UPDATE_REMINDER = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
"""

_DUE_KEY = "pb:{reminders}:due"
_CLAIMED_KEY = "pb:{reminders}:claimed"
_LEADS_KEY = "pb:{leads}:list"


def _reminders_key(session_id: str) -> str:
    return f"pb:s:{{{session_id}}}:reminders"


def _reminder_member(reminder: Reminder) -> str:
    # the reminder id is ours (hex), so the last ':' always splits it from any session id
    return f"{reminder.session_id}:{reminder.reminder_id}"


class _SlotMappedCluster(RedisCluster):
    """A cluster client that loads the slot map before its first command, even under concurrency.

    redis-py (8.1) sends commands issued before the map is loaded to the default node; each one
    answers MOVED, every fifth MOVED makes the client close and reopen every connection, and the
    commands in flight on them fail with AttributeError. 40 concurrent quota checks on a new client
    lost a few of them this way (tests/store and tests/quota on the cluster). `initialize()` takes
    a lock, so the first command loads the map and the others wait for it; it also runs again
    after the client drops its map (a node went away).
    """

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        if self._initialize:
            await self.initialize()
        return await super().execute_command(*args, **kwargs)


# Connections per process: each store call holds one for a single round trip, so a few hundred
# cover a burst of visitors; calls beyond that wait for one. A burst of 500 simultaneous turns on
# a saturated process made calls wait past 2 s for a connection (bench/run.py), so waiting for a
# free connection has its own, longer, bound than a Redis answer (the store timeout).
MAX_CONNECTIONS = 200
POOL_WAIT_SECONDS = 10.0


class RedisStore(Store):
    name = "redis"
    backend_errors: ClassVar[tuple[type[BaseException], ...]] = (
        RedisError,
        # not a RedisError: a cluster client with no reachable node, or a slot no node serves
        RedisClusterException,
        OSError,
        TimeoutError,
    )

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
        if cluster:
            self.client = _SlotMappedCluster.from_url(url, **options)
        else:
            # redis-py's default pool fails a call with MaxConnectionsError once 100 are in flight (500
            # visitors arriving together got 400 503s); this one makes the extra calls wait their turn.
            pool = aioredis.BlockingConnectionPool.from_url(
                url, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECONDS, health_check_interval=30, **options
            )
            self.client = aioredis.Redis.from_pool(pool)
        self._append = self.client.register_script(_APPEND)
        self._hit = self.client.register_script(_HIT)
        self._release = self.client.register_script(_RELEASE)
        self._add_reminder = self.client.register_script(_ADD_REMINDER)
        self._claim_reminders = self.client.register_script(_CLAIM_REMINDERS)
        self._reschedule_reminder = self.client.register_script(_RESCHEDULE_REMINDER)
        self._update_reminder = self.client.register_script(_UPDATE_REMINDER)

    async def check(self) -> None:
        if isinstance(self.client, RedisCluster):
            # every primary: one PING reaches one node, and a master that is down takes its slots
            # (perhaps the counters' one, so every /stream) with it
            await self.client.ping(target_nodes=RedisCluster.PRIMARIES)
        else:
            await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()

    # sessions ----------------------------------------------------------------------------------

    async def create_session(self, session_id: str, visitor: str, now: int, ttl_seconds: int) -> SessionMeta:
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
        self,
        session_id: str,
        messages: list[Message],
        now: int,
        ttl_seconds: int,
        keep: int,
        release: str | None = None,
    ) -> bool:
        keys = [_meta_key(session_id), _messages_key(session_id)]
        args = [
            keep,
            ttl_seconds * 1000,
            now,
            *(message.to_json() for message in messages),
        ]
        if release is None:
            return int(await self._append(keys=keys, args=args)) >= 0
        if isinstance(self.client, RedisCluster):
            # a cluster pipeline refuses scripts (EVALSHA): send both at once, to their own nodes
            appended, _ = await asyncio.gather(
                self._append(keys=keys, args=args),
                self._release(keys=[_counter_key(release)]),
            )
            return int(appended) >= 0
        # One round trip for both. Not `script(client=pipe)`: a pipeline holding Script objects sends
        # SCRIPT EXISTS first, a round trip of its own on every turn. A script Redis does not know yet
        # (first turn, Redis restarted) answers NOSCRIPT without running, and is loaded and run below.
        calls = [(self._append, keys, args), (self._release, [_counter_key(release)], [])]
        async with self.client.pipeline(transaction=False) as pipe:
            for script, script_keys, script_args in calls:
                pipe.evalsha(script.sha, len(script_keys), *script_keys, *script_args)
            results = await pipe.execute(raise_on_error=False)
        for position, result in enumerate(results):
            if isinstance(result, NoScriptError):
                script, script_keys, script_args = calls[position]
                results[position] = await script(keys=script_keys, args=script_args)
            elif isinstance(result, Exception):
                raise result
        return int(results[0]) >= 0

    async def delete_session(self, session_id: str) -> bool:
        meta = await self.client.hgetall(_meta_key(session_id))
        # one slot: the reminders hash shares the session's hash tag (due entries without it are skipped)
        deleted = int(
            await self.client.delete(_meta_key(session_id), _messages_key(session_id), _reminders_key(session_id))
        )
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
            return await self._list_all_cluster_sessions(cursor, count)
        next_cursor, ids = await self.client.scan(int(cursor or 0), match="pb:s:*:meta", count=count)
        metas = await self._metas([_session_id_of(key) for key in ids])
        return (str(next_cursor) if int(next_cursor) else ""), [meta for meta in metas if meta]

    async def _list_all_cluster_sessions(self, cursor: str, count: int) -> tuple[str, list[SessionMeta]]:
        """Each primary has its own SCAN cursor, so the page cursor is `<primary index>:<its cursor>`
        (primaries in name order). A page goes on to the next primary while it has room, and ends
        at the first primary not scanned to the end: at most one SCAN per primary per page."""
        await self.client.initialize()  # the primaries are known once the slot map is loaded
        primaries = sorted(self.client.get_primaries(), key=lambda node: node.name)
        index, _, node_cursor = (cursor or "0:0").partition(":")
        position, scan_cursor = int(index), int(node_cursor or 0)
        ids: list[str] = []
        while position < len(primaries) and len(ids) < count:
            node = primaries[position]
            cursors, keys = await self.client.scan(scan_cursor, match="pb:s:*:meta", count=count, target_nodes=node)
            ids += keys
            scan_cursor = int(cursors[node.name])
            if scan_cursor:
                break
            position += 1
        metas = await self._metas([_session_id_of(key) for key in ids])
        next_cursor = f"{position}:{scan_cursor}" if position < len(primaries) else ""
        return next_cursor, [meta for meta in metas if meta]

    # counters ----------------------------------------------------------------------------------

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

    # reminders and leads -----------------------------------------------------------------------

    async def add_reminder(self, reminder: Reminder, limit: int) -> bool:
        keep_ms = max(1, reminder.due_at + REMINDERS_KEPT_MS - reminder.created_at)
        stored = await self._add_reminder(
            keys=[_reminders_key(reminder.session_id)],
            args=[reminder.reminder_id, reminder.to_json(), limit, keep_ms],
        )
        if not int(stored):
            return False
        # a separate step (another slot): stored but not yet due-indexed only if we crash in between
        await self.client.zadd(_DUE_KEY, {_reminder_member(reminder): reminder.due_at})
        return True

    async def list_reminders(self, session_id: str) -> list[Reminder]:
        raw: dict[str, str] = await self.client.hgetall(_reminders_key(session_id))
        reminders = [Reminder.from_json(item) for item in raw.values()]
        return sorted(reminders, key=lambda reminder: (reminder.due_at, reminder.created_at))

    async def claim_due_reminders(self, now: int, lease_ms: int, count: int) -> list[Reminder]:
        members: list[str] = await self._claim_reminders(
            keys=[_DUE_KEY, _CLAIMED_KEY], args=[now, now + lease_ms, count]
        )
        if not members:
            return []
        owners = [member.rpartition(":") for member in members]
        async with self.client.pipeline(transaction=False) as pipe:
            for session_id, _, reminder_id in owners:
                pipe.hget(_reminders_key(session_id), reminder_id)
            raw = await pipe.execute()
        reminders = [Reminder.from_json(item) for item in raw if item]
        gone = [member for member, item in zip(members, raw, strict=True) if not item]
        if gone:  # the session's reminders expired or were deleted: nothing left to deliver
            await self.client.zrem(_CLAIMED_KEY, *gone)
        return sorted(reminders, key=lambda reminder: reminder.due_at)

    async def complete_reminder(self, reminder: Reminder, now: int, delivered: bool) -> None:
        done = replace(
            reminder,
            status="delivered" if delivered else "failed",
            delivered_at=now if delivered else None,
            attempts=reminder.attempts + 1,
        )
        await self._update_reminder(
            keys=[_reminders_key(reminder.session_id)],
            args=[done.reminder_id, done.to_json()],
        )
        await self.client.zrem(_CLAIMED_KEY, _reminder_member(reminder))

    async def reschedule_reminder(self, reminder: Reminder, retry_at: int) -> None:
        again = replace(reminder, status="pending", attempts=reminder.attempts + 1)
        await self._update_reminder(
            keys=[_reminders_key(reminder.session_id)],
            args=[again.reminder_id, again.to_json()],
        )
        await self._reschedule_reminder(keys=[_DUE_KEY, _CLAIMED_KEY], args=[_reminder_member(reminder), retry_at])

    async def add_lead(self, lead: Lead) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.lpush(_LEADS_KEY, lead.to_json())
            pipe.ltrim(_LEADS_KEY, 0, LEADS_KEPT - 1)
            await pipe.execute()

    async def list_leads(self, count: int) -> list[Lead]:
        if count <= 0:
            return []
        raw: list[str] = await self.client.lrange(_LEADS_KEY, 0, count - 1)
        return [Lead.from_json(item) for item in raw]


def _meta_from(session_id: str, raw: dict[str, str], message_count: int) -> SessionMeta:
    return SessionMeta(
        session_id=session_id,
        visitor=raw.get("visitor", ""),
        created_at=int(raw.get("created_at", 0)),
        last_activity=int(raw.get("last_activity", 0)),
        message_count=message_count,
    )
