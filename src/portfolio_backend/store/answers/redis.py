"""Owner answers on Redis: a hash of answers by id and a version counter under one hash tag,
changed together by one script each (a cluster keeps them in one slot)."""

from __future__ import annotations

from typing import Any

from ..redis import RedisBackend, RedisPart, RedisStep
from . import ANSWERS_KEPT, OwnerAnswer, OwnerAnswerStore

_ITEMS = "pb:{answers}:items"
_VERSION = "pb:{answers}:version"

# KEYS: items, version. ARGV: id, json, kept. Returns 1 if added, 0 when full.
_ADD = """
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[2])
return 1
"""

# KEYS: items, version. ARGV: id, question, answer, now. Returns the updated json, or false.
_UPDATE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local item = cjson.decode(raw)
item['question'] = ARGV[2]
item['answer'] = ARGV[3]
item['updated_at'] = tonumber(ARGV[4])
local encoded = cjson.encode(item)
redis.call('HSET', KEYS[1], ARGV[1], encoded)
redis.call('INCR', KEYS[2])
return encoded
"""

# KEYS: items, version. ARGV: id. Returns 1 if deleted.
_DELETE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('INCR', KEYS[2])
return 1
"""


# KEYS: the version. A script, so a turn's admission sends it in its batch (store/base.py Step).
_READ_VERSION = "return redis.call('GET', KEYS[1])"


def _version_of(replies: list[Any]) -> int:
    return int(replies[0] or 0)


class RedisOwnerAnswerStore(RedisPart, OwnerAnswerStore):
    def __init__(self, backend: RedisBackend) -> None:
        super().__init__(backend)
        self._add = self.client.register_script(_ADD)
        self._update = self.client.register_script(_UPDATE)
        self._delete = self.client.register_script(_DELETE)
        self._version = self.client.register_script(_READ_VERSION)

    async def add(self, answer: OwnerAnswer) -> bool:
        added = await self._add(keys=[_ITEMS, _VERSION], args=[answer.answer_id, answer.to_json(), ANSWERS_KEPT])
        return bool(int(added))

    async def update(self, answer_id: str, question: str, answer: str, now: int) -> OwnerAnswer | None:
        raw = await self._update(keys=[_ITEMS, _VERSION], args=[answer_id, question, answer, now])
        return None if raw is None else OwnerAnswer.from_json(raw)

    async def delete(self, answer_id: str) -> bool:
        return bool(int(await self._delete(keys=[_ITEMS, _VERSION], args=[answer_id])))

    async def all(self) -> tuple[int, list[OwnerAnswer]]:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(_VERSION)
            pipe.hvals(_ITEMS)
            version, raw = await pipe.execute()
        answers = [OwnerAnswer.from_json(item) for item in raw]
        answers.sort(key=lambda item: (item.updated_at, item.answer_id), reverse=True)
        return int(version or 0), answers

    def version_step(self) -> RedisStep[int]:
        return RedisStep([(self._version, [_VERSION], [])], _version_of)
