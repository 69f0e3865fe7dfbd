"""Leads on Redis: one capped list, newest at the head."""

from __future__ import annotations

from ..redis import RedisPart
from . import LEADS_KEPT, Lead, LeadStore

_LEADS_KEY = "pb:{leads}:list"


class RedisLeadStore(RedisPart, LeadStore):
    async def add(self, lead: Lead) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.lpush(_LEADS_KEY, lead.to_json())
            pipe.ltrim(_LEADS_KEY, 0, LEADS_KEPT - 1)
            await pipe.execute()

    async def newest(self, count: int) -> list[Lead]:
        if count <= 0:
            return []
        raw: list[str] = await self.client.lrange(_LEADS_KEY, 0, count - 1)
        return [Lead.from_json(item) for item in raw]
