"""Chats on Redis: one string key per binding, expiring on its own, in the visitor's hash slot."""

from __future__ import annotations

from ..redis import RedisPart
from . import ChatStore


def _chat_key(visitor: str, chat_id: str) -> str:
    return f"pb:v:{{{visitor}}}:chat:{chat_id}"


class RedisChatStore(RedisPart, ChatStore):
    async def find(self, visitor: str, chat_id: str, now: int, ttl_seconds: int) -> str | None:
        session_id: str | None = await self.client.getex(_chat_key(visitor, chat_id), ex=ttl_seconds)
        return session_id

    async def bind(self, visitor: str, chat_id: str, session_id: str, now: int, ttl_seconds: int) -> None:
        await self.client.set(_chat_key(visitor, chat_id), session_id, ex=ttl_seconds)
