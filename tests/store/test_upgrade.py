"""Data stored before the store was split by domain still loads, on every backend (tests/store/data)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis

from portfolio_backend.store import CounterCheck, Lead, Message, Reminder, Stores

from ..conftest import connect

DATA = Path(__file__).parent / "data"
SESSION = "5b1d4a5e-0c1f-4e7c-9d55-1d2b3c4d5e6f"
VISITOR = "198.51.100.7"
NOW = 1_800_000_000_000
COUNTER = "chat:198.51.100.7:1799971200"


def _restore_redis(client: Any) -> None:
    for item in json.loads((DATA / "redis-before-split.json").read_text(encoding="utf-8")):
        key, value = item["key"], item["value"]
        if item["type"] == "hash":
            client.hset(key, mapping=value)
        elif item["type"] == "list":
            client.rpush(key, *value)
        elif item["type"] == "zset":
            client.zadd(key, dict(value))
        else:
            client.set(key, value)


@pytest.fixture
async def old_stores(store_kind: str, store_env: dict[str, Any]) -> AsyncIterator[Stores]:
    """The stores under test, opened on data the earlier version wrote."""
    if store_kind == "sqlite":
        with sqlite3.connect(store_env["database_path"]) as db:
            db.executescript((DATA / "store-before-split.sql").read_text(encoding="utf-8"))
        db.close()
    else:
        kind = redis.RedisCluster if store_env.get("redis_cluster") else redis.Redis
        client = kind.from_url(store_env["redis_url"])
        _restore_redis(client)
        client.close()
    stores = await connect(store_env)
    yield stores
    await stores.close()


async def test_a_session_stored_before_the_split_loads_and_takes_new_turns(old_stores: Stores) -> None:
    call = [
        {"id": "call_1", "type": "function", "function": {"name": "calculate", "arguments": '{"expression":"2+2"}'}}
    ]
    history = [
        Message("user", "What is 2+2? ünïcode ✓", NOW + 1),
        Message("assistant", "", NOW + 2, tool_calls=call),
        Message("tool", "Result: 4", NOW + 3, tool_call_id="call_1", name="calculate"),
        Message("assistant", "It is 4.", NOW + 4),
    ]
    record = await old_stores.sessions.load(SESSION, NOW + 10)
    assert record is not None
    assert record.messages == history
    assert (record.meta.visitor, record.meta.created_at, record.meta.last_activity) == (VISITOR, NOW, NOW + 5)
    assert [meta.session_id for meta in await old_stores.sessions.list_for(VISITOR, NOW + 10)] == [SESSION]

    new_turn = [Message("user", "Thanks", NOW + 20), Message("assistant", "You're welcome", NOW + 21)]
    assert await old_stores.sessions.append_turn(SESSION, new_turn, NOW + 22, 86400, 20)
    again = await old_stores.sessions.load(SESSION, NOW + 30)
    assert again is not None
    assert again.messages == history + new_turn


async def test_reminders_leads_and_counters_stored_before_the_split_load(old_stores: Stores) -> None:
    (listed,) = await old_stores.reminders.list_for(SESSION)
    assert listed == Reminder(
        "0123456789abcdef0123456789abcdef",
        SESSION,
        "Call Ada",
        "about the job",
        NOW + 3_600_000,
        "2027-01-15T10:00:00+02:00",
        NOW,
    )
    assert [item.reminder_id for item in await old_stores.reminders.claim_due(NOW + 3_600_000, 60_000, 10)] == [
        listed.reminder_id
    ]
    assert await old_stores.leads.newest(10) == [
        Lead("lead-2", "question", NOW + 1, question="Do you speak Welsh?"),
        Lead("lead-1", "contact", NOW, SESSION, "ada@example.com", "Ada", "a job"),
    ]
    assert await old_stores.counters.peek(COUNTER) == 2
    assert (await old_stores.counters.hit([CounterCheck(COUNTER, 10, 86400)])).counts == (3,)
