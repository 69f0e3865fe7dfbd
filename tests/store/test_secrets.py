"""The secrets contract, on SQLite, Redis and Redis Cluster (the `stores` fixture)."""

from __future__ import annotations

import asyncio
from typing import Any

from portfolio_backend.store import Stores

from ..conftest import connect


async def test_the_first_value_written_is_the_one_every_later_call_gets(stores: Stores) -> None:
    assert await stores.secrets.get_or_create("visitor-hash", "first") == "first"
    assert await stores.secrets.get_or_create("visitor-hash", "second") == "first"
    assert await stores.secrets.get_or_create("other", "third") == "third"


async def test_replicas_starting_together_share_one_secret(stores: Stores, store_env: dict[str, Any]) -> None:
    replicas = [await connect(store_env) for _ in range(4)]
    try:
        got = await asyncio.gather(
            *(replica.secrets.get_or_create("visitor-hash", f"candidate-{n}") for n, replica in enumerate(replicas))
        )
    finally:
        for replica in replicas:
            await replica.close()
    assert len(set(got)) == 1
    assert await stores.secrets.get_or_create("visitor-hash", "late") == got[0]
