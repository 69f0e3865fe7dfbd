"""Storage: one contract (`Store`), a Redis and an embedded SQLite implementation."""

from __future__ import annotations

from ..settings import Settings
from .base import (
    CounterCheck,
    CounterState,
    Message,
    SessionMeta,
    SessionRecord,
    Store,
    StoreError,
)
from .redis import RedisStore  # at import time: an import inside the running event loop blocks it
from .sqlite import SqliteStore


async def store_from_settings(settings: Settings) -> Store:
    """Redis when REDIS_URL or REDIS_HOST is set, else the embedded SQLite file."""
    dsn = settings.redis_dsn
    if dsn:
        return RedisStore(dsn, timeout=settings.store_timeout, cluster=settings.redis_cluster)
    store = SqliteStore(settings.database_path, timeout=settings.store_timeout)
    await store.open()
    return store


__all__ = [
    "CounterCheck",
    "CounterState",
    "Message",
    "SessionMeta",
    "SessionRecord",
    "Store",
    "StoreError",
    "store_from_settings",
]
