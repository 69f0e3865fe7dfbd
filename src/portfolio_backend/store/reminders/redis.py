"""Reminders on Redis.

A reminder lives in its session's hash (`session_key(id, "reminders")`, one field per reminder),
so it goes with the session. Which reminders are due, and which are being delivered, are two
sorted sets that share one hash tag, so a claim is one script in one slot: a due member moves to
the claimed set with its lease end, and a script runs whole, so no two dispatchers can take the
same member.
"""

from __future__ import annotations

from dataclasses import replace

from ..redis import RedisBackend, RedisPart
from . import REMINDERS_KEPT_MS, Reminder, ReminderStore

# KEYS: session reminders hash. ARGV: reminder id, json, limit, keep ms. Returns 1 stored, 0 full.
_ADD = """
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1
"""

# KEYS: due, claimed. ARGV: now ms, lease end ms, count. Returns the claimed members.
# Claims whose lease ran out (their dispatcher died) are taken again first.
_CLAIM = """
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
_RESCHEDULE = """
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end
return 0
"""

# KEYS: session reminders hash. ARGV: reminder id, json. Never recreates a hash that expired.
_UPDATE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
"""

_DUE_KEY = "pb:{reminders}:due"
_CLAIMED_KEY = "pb:{reminders}:claimed"
_PART = "reminders"


def _reminders_key(session_id: str) -> str:
    return RedisBackend.session_key(session_id, _PART)


def _member(reminder: Reminder) -> str:
    # the reminder id is ours (hex), so the last ':' always splits it from any session id
    return f"{reminder.session_id}:{reminder.reminder_id}"


class RedisReminderStore(RedisPart, ReminderStore):
    def __init__(self, backend: RedisBackend) -> None:
        super().__init__(backend)
        backend.keep_with_session(_PART)  # due entries left behind are skipped when claimed
        self._add = self.client.register_script(_ADD)
        self._claim = self.client.register_script(_CLAIM)
        self._reschedule = self.client.register_script(_RESCHEDULE)
        self._update = self.client.register_script(_UPDATE)

    async def add(self, reminder: Reminder, limit: int) -> bool:
        keep_ms = max(1, reminder.due_at + REMINDERS_KEPT_MS - reminder.created_at)
        stored = await self._add(
            keys=[_reminders_key(reminder.session_id)],
            args=[reminder.reminder_id, reminder.to_json(), limit, keep_ms],
        )
        if not int(stored):
            return False
        # a separate step (another slot): stored but not yet due-indexed only if we crash in between
        await self.client.zadd(_DUE_KEY, {_member(reminder): reminder.due_at})
        return True

    async def list_for(self, session_id: str) -> list[Reminder]:
        raw: dict[str, str] = await self.client.hgetall(_reminders_key(session_id))
        reminders = [Reminder.from_json(item) for item in raw.values()]
        return sorted(reminders, key=lambda reminder: (reminder.due_at, reminder.created_at))

    async def claim_due(self, now: int, lease_ms: int, count: int) -> list[Reminder]:
        members: list[str] = await self._claim(keys=[_DUE_KEY, _CLAIMED_KEY], args=[now, now + lease_ms, count])
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

    async def complete(self, reminder: Reminder, now: int, delivered: bool) -> None:
        done = replace(
            reminder,
            status="delivered" if delivered else "failed",
            delivered_at=now if delivered else None,
            attempts=reminder.attempts + 1,
        )
        await self._update(keys=[_reminders_key(reminder.session_id)], args=[done.reminder_id, done.to_json()])
        await self.client.zrem(_CLAIMED_KEY, _member(reminder))

    async def reschedule(self, reminder: Reminder, retry_at: int) -> None:
        again = replace(reminder, status="pending", attempts=reminder.attempts + 1)
        await self._update(keys=[_reminders_key(reminder.session_id)], args=[again.reminder_id, again.to_json()])
        await self._reschedule(keys=[_DUE_KEY, _CLAIMED_KEY], args=[_member(reminder), retry_at])
