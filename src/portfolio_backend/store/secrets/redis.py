"""Secrets on Redis: one string key per secret, without expiry, set only if absent."""

from __future__ import annotations

from ..redis import RedisPart
from . import SecretStore


def _secret_key(name: str) -> str:
    return f"pb:secret:{name}"


class RedisSecretStore(RedisPart, SecretStore):
    async def get_or_create(self, name: str, candidate: str) -> str:
        key = _secret_key(name)
        await self.client.set(key, candidate, nx=True)
        stored: str | None = await self.client.get(key)
        return stored if stored is not None else candidate  # only a FLUSHALL in between loses it
