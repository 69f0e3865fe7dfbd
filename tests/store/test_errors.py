"""Every domain store raises only StoreError when its backend fails: callers handle one thing."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from portfolio_backend.settings import Settings
from portfolio_backend.store import (
    CounterCheck,
    Lead,
    Message,
    Reminder,
    StoreError,
    Stores,
    TurnAppend,
    open_stores,
)
from portfolio_backend.store.usage import Reservation, TurnUsage

from ..fixtures.fake_http import closed_port_url

NOW = 1_800_000_000_000
REMINDER = Reminder("r1", "s1", "t", "", NOW, "2027-01-15T10:00:00+02:00", NOW)

Call = Callable[[Stores], Awaitable[Any]]
HELD = Reservation(NOW // 86_400_000, "v", 10, 10)
WRITES: dict[str, Call] = {
    "sessions.create": lambda s: s.sessions.create("s1", "v", NOW, 60),
    "sessions.append_turn": lambda s: s.sessions.append_turn("s1", [Message("user", "q", NOW)], NOW, 60, 20),
    "sessions.delete": lambda s: s.sessions.delete("s1"),
    "counters.hit": lambda s: s.counters.hit([CounterCheck("k", 1, 60)]),
    "counters.release": lambda s: s.counters.release("k"),
    "reminders.add": lambda s: s.reminders.add(REMINDER, 10),
    "reminders.claim_due": lambda s: s.reminders.claim_due(NOW, 1000, 10),
    "reminders.complete": lambda s: s.reminders.complete(REMINDER, NOW, delivered=True),
    "reminders.reschedule": lambda s: s.reminders.reschedule(REMINDER, NOW),
    "leads.add": lambda s: s.leads.add(Lead("l1", "question", NOW, question="?")),
    "turns.append_many": lambda s: s.turns.append_many(
        [TurnAppend("t1", [(1, "{}")], begin="s1"), TurnAppend("t2", [(1, "{}")])],
        now=NOW,
        ttl_seconds=60,
        max_events=9,
    ),
    "turns.read": lambda s: s.turns.read("t1", 0, 10, NOW),
    "turns.request_stop": lambda s: s.turns.request_stop("t1"),
    "usage.reserve": lambda s: s.usage.reserve(HELD, day_limit_micro_usd=1, visitor_limit_tokens=1, keep_days=90),
    "usage.record": lambda s: s.usage.record(TurnUsage(HELD, "s1", 1, 0, 1, 1, False), keep_days=90),
    "usage.release": lambda s: s.usage.release(HELD),
    "secrets.get_or_create": lambda s: s.secrets.get_or_create("visitor-hash", "x" * 64),
    "check": lambda s: s.check(),
}
READS: dict[str, Call] = {
    "sessions.load": lambda s: s.sessions.load("s1", NOW),
    "sessions.list_for": lambda s: s.sessions.list_for("v", NOW),
    "sessions.list_all": lambda s: s.sessions.list_all("", 10, NOW),
    "counters.peek": lambda s: s.counters.peek("k"),
    "reminders.list_for": lambda s: s.reminders.list_for("s1"),
    "leads.newest": lambda s: s.leads.newest(10),
    "turns.running_turn": lambda s: s.turns.running_turn("s1"),
    "usage.day_micro_usd": lambda s: s.usage.day_micro_usd(HELD.day),
    "usage.days": lambda s: s.usage.days(HELD.day - 1, HELD.day),
    "usage.visitor": lambda s: s.usage.visitor(HELD.day, "v"),
    "usage.session": lambda s: s.usage.session(HELD.day, "s1"),
}


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, store_timeout=0.2, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize("call", [*WRITES.values(), *READS.values()], ids=[*WRITES, *READS])
async def test_redis_down_is_a_store_error(call: Call) -> None:
    stores = await open_stores(settings(redis_url=closed_port_url().replace("http://", "redis://")))
    try:
        with pytest.raises(StoreError, match="redis store unavailable"):
            await call(stores)
    finally:
        await stores.close()


@pytest.mark.parametrize("call", WRITES.values(), ids=list(WRITES))
async def test_a_locked_sqlite_file_is_a_store_error(call: Call, tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    stores = await open_stores(settings(database_path=path))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        with pytest.raises(StoreError, match="sqlite store unavailable"):
            await call(stores)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        await stores.close()
