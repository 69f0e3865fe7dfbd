"""Feedback on Redis: a hash of ratings by turn id and a sorted set of turn ids by time, under one
hash tag, changed together by one script (so the cap and the replacement stay atomic)."""

from __future__ import annotations

from ..redis import RedisBackend, RedisPart
from . import FEEDBACK_KEPT, Feedback, FeedbackStore

_ITEMS = "pb:{feedback}:items"
_ORDER = "pb:{feedback}:order"

# KEYS: items, order. ARGV: turn id, created at, json, kept.
# Adds or replaces the rating and drops the oldest past the cap.
_RATE = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, extra - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
  redis.call('HDEL', KEYS[1], unpack(old))
end
return 0
"""


class RedisFeedbackStore(RedisPart, FeedbackStore):
    def __init__(self, backend: RedisBackend) -> None:
        super().__init__(backend)
        self._rate = self.client.register_script(_RATE)

    async def rate(self, feedback: Feedback) -> None:
        await self._rate(
            keys=[_ITEMS, _ORDER], args=[feedback.turn_id, feedback.created_at, feedback.to_json(), FEEDBACK_KEPT]
        )

    async def newest(self, count: int, rating: str | None = None) -> list[Feedback]:
        if count <= 0:
            return []
        # every kept turn id, newest first: at most FEEDBACK_KEPT, so one read filters them all
        turn_ids: list[str] = await self.client.zrevrange(_ORDER, 0, -1)
        if not turn_ids:
            return []
        raw: list[str | None] = await self.client.hmget(_ITEMS, turn_ids)
        found = [Feedback.from_json(item) for item in raw if item is not None]
        return [item for item in found if rating is None or item.rating == rating][:count]
