"""Usage on Redis: a hash per day, per (day, visitor) and per (day, session), all under the day's
hash tag, so each operation is one script on one cluster slot."""

from __future__ import annotations

from typing import Any

from ..redis import RedisBackend, RedisPart, RedisStep, no_result
from . import DAY_SECONDS, BudgetKind, BudgetState, DayUsage, Reservation, TallyUsage, TurnUsage, UsageStore

# KEYS: day hash, visitor hash. ARGV: tokens, micro_usd, day limit, visitor limit, expire-at (s).
# Returns {refused (0 none, 1 daily USD, 2 visitor tokens), day micro-usd, visitor tokens}.
_RESERVE = """
local day_usd = tonumber(redis.call('HGET', KEYS[1], 'micro_usd') or '0')
  + tonumber(redis.call('HGET', KEYS[1], 'reserved_micro_usd') or '0')
local visitor_tokens = tonumber(redis.call('HGET', KEYS[2], 'tokens') or '0')
  + tonumber(redis.call('HGET', KEYS[2], 'reserved_tokens') or '0')
local day_limit, visitor_limit = tonumber(ARGV[3]), tonumber(ARGV[4])
if day_limit > 0 and day_usd >= day_limit then return {1, day_usd, visitor_tokens} end
if visitor_limit > 0 and visitor_tokens >= visitor_limit then return {2, day_usd, visitor_tokens} end
redis.call('HINCRBY', KEYS[1], 'reserved_micro_usd', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'reserved_tokens', ARGV[1])
redis.call('EXPIREAT', KEYS[1], ARGV[5])
redis.call('EXPIREAT', KEYS[2], ARGV[5])
return {0, day_usd + tonumber(ARGV[2]), visitor_tokens + tonumber(ARGV[1])}
"""

# KEYS: day hash, visitor hash, session hash (or none). ARGV: minus the reserved tokens and micro-usd
# (negated by the caller: Lua's -0 would reach HINCRBY as "-0", not an integer), prompt, cached,
# completion, micro_usd, estimated (0/1), expire-at (s).
_RECORD = """
local tokens = tonumber(ARGV[3]) + tonumber(ARGV[5])
redis.call('HINCRBY', KEYS[1], 'reserved_micro_usd', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'reserved_tokens', ARGV[1])
if redis.call('HINCRBY', KEYS[2], 'turns', 1) == 1 then redis.call('HINCRBY', KEYS[1], 'visitors', 1) end
redis.call('HINCRBY', KEYS[2], 'tokens', tokens)
redis.call('HINCRBY', KEYS[2], 'micro_usd', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'turns', 1)
redis.call('HINCRBY', KEYS[1], 'prompt_tokens', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'cached_tokens', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'completion_tokens', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'micro_usd', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'estimated_turns', ARGV[7])
if KEYS[3] then
  redis.call('HINCRBY', KEYS[3], 'turns', 1)
  redis.call('HINCRBY', KEYS[3], 'tokens', tokens)
  redis.call('HINCRBY', KEYS[3], 'micro_usd', ARGV[6])
end
for _, key in ipairs(KEYS) do redis.call('EXPIREAT', key, ARGV[8]) end
return 0
"""

# KEYS: day hash, visitor hash. ARGV: minus the reserved tokens and micro-usd.
_RELEASE = """
redis.call('HINCRBY', KEYS[1], 'reserved_micro_usd', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'reserved_tokens', ARGV[1])
return 0
"""

_DAY_FIELDS = (
    "turns",
    "visitors",
    "prompt_tokens",
    "cached_tokens",
    "completion_tokens",
    "micro_usd",
    "estimated_turns",
    "reserved_micro_usd",
)


def _day_key(day: int, part: str = "day") -> str:
    # the day's hash tag: one script touches only one day's keys, so one cluster slot
    return f"pb:{{usage:{day}}}:{part}"


def _expire_at(day: int, keep_days: int) -> int:
    return (day + 1 + keep_days) * DAY_SECONDS


def _int(value: Any) -> int:
    return int(value or 0)


_BUDGET_KINDS = {1: BudgetKind.DAILY_USD, 2: BudgetKind.VISITOR_TOKENS}


def _budget_state(replies: list[Any]) -> BudgetState:
    refused, day_usd, visitor_tokens = replies[0]
    return BudgetState(_BUDGET_KINDS.get(int(refused)), int(day_usd), int(visitor_tokens))


class RedisUsageStore(RedisPart, UsageStore):
    def __init__(self, backend: RedisBackend) -> None:
        super().__init__(backend)
        self._reserve = self.client.register_script(_RESERVE)
        self._record = self.client.register_script(_RECORD)
        self._release = self.client.register_script(_RELEASE)

    def reserve_step(
        self, reservation: Reservation, *, day_limit_micro_usd: int, visitor_limit_tokens: int, keep_days: int
    ) -> RedisStep[BudgetState]:
        day = reservation.day
        keys = [_day_key(day), _day_key(day, f"v:{reservation.visitor}")]
        args = [
            reservation.tokens,
            reservation.micro_usd,
            day_limit_micro_usd,
            visitor_limit_tokens,
            _expire_at(day, keep_days),
        ]
        return RedisStep([(self._reserve, keys, args)], _budget_state)

    def record_step(self, turn: TurnUsage, *, keep_days: int) -> RedisStep[None]:
        held = turn.reservation
        keys = [_day_key(held.day), _day_key(held.day, f"v:{held.visitor}")]
        if turn.session_id:
            keys.append(_day_key(held.day, f"s:{turn.session_id}"))
        args = [
            -held.tokens,
            -held.micro_usd,
            turn.prompt_tokens,
            turn.cached_tokens,
            turn.completion_tokens,
            turn.micro_usd,
            int(turn.estimated),
            _expire_at(held.day, keep_days),
        ]
        return RedisStep([(self._record, keys, args)], no_result)

    def release_step(self, reservation: Reservation) -> RedisStep[None]:
        day = reservation.day
        keys = [_day_key(day), _day_key(day, f"v:{reservation.visitor}")]
        return RedisStep([(self._release, keys, [-reservation.tokens, -reservation.micro_usd])], no_result)

    async def day_micro_usd(self, day: int) -> int:
        spent, reserved = await self.client.hmget(_day_key(day), ["micro_usd", "reserved_micro_usd"])
        return _int(spent) + _int(reserved)

    async def days(self, first: int, last: int) -> list[DayUsage]:
        # one slot per day: a pipeline on one Redis, parallel single-key reads on a cluster
        days = list(range(first, last + 1))
        async with self.client.pipeline(transaction=False) as pipe:
            for day in days:
                pipe.hmget(_day_key(day), list(_DAY_FIELDS))
            rows = await pipe.execute()
        return [DayUsage(day, *(_int(value) for value in row)) for day, row in zip(days, rows, strict=True)]

    async def visitor(self, day: int, visitor: str) -> TallyUsage:
        row = await self.client.hmget(_day_key(day, f"v:{visitor}"), ["turns", "tokens", "micro_usd"])
        return TallyUsage(*(_int(value) for value in row))

    async def session(self, day: int, session_id: str) -> TallyUsage:
        row = await self.client.hmget(_day_key(day, f"s:{session_id}"), ["turns", "tokens", "micro_usd"])
        return TallyUsage(*(_int(value) for value in row))
