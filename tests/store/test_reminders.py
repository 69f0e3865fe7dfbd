"""The reminders contract, on SQLite, Redis and Redis Cluster (the `stores` fixture)."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from portfolio_backend.store import Reminder, Stores

LEASE_MS = 60_000


def reminder(session_id: str = "session-a", due_at: int = 1_000_000, title: str = "Call back") -> Reminder:
    return Reminder(uuid4().hex, session_id, title, "", due_at, "2030-01-01T10:00:00+02:00", due_at - 10_000)


async def test_a_reminder_comes_back_whole_and_pending(stores: Stores) -> None:
    item = Reminder(uuid4().hex, "session-a", "Call Ada", "about the job", 5_000, "2030-01-01T10:00:00+02:00", 1_000)
    assert await stores.reminders.add(item, 10)
    assert await stores.reminders.list_for("session-a") == [item]


async def test_a_session_holds_at_most_limit_reminders(stores: Stores) -> None:
    for _ in range(3):
        assert await stores.reminders.add(reminder(), 3)
    assert not await stores.reminders.add(reminder(), 3)
    assert len(await stores.reminders.list_for("session-a")) == 3
    assert await stores.reminders.add(reminder("session-b"), 3)


async def test_claims_only_due_reminders_and_each_once(stores: Stores) -> None:
    due, later = reminder(due_at=1_000), reminder(due_at=5_000)
    for item in (due, later):
        assert await stores.reminders.add(item, 10)

    claimed = await stores.reminders.claim_due(2_000, LEASE_MS, 10)

    assert [item.reminder_id for item in claimed] == [due.reminder_id]
    assert await stores.reminders.claim_due(2_000, LEASE_MS, 10) == []
    assert [item.reminder_id for item in await stores.reminders.claim_due(6_000, LEASE_MS, 10)] == [later.reminder_id]


async def test_a_claim_is_taken_again_when_its_lease_runs_out(stores: Stores) -> None:
    item = reminder(due_at=1_000)
    await stores.reminders.add(item, 10)
    await stores.reminders.claim_due(1_000, 500, 10)

    assert await stores.reminders.claim_due(1_499, 500, 10) == []
    assert [r.reminder_id for r in await stores.reminders.claim_due(1_500, 500, 10)] == [item.reminder_id]


async def test_claims_at_most_count(stores: Stores) -> None:
    for due_at in range(1_000, 1_010):
        await stores.reminders.add(reminder(due_at=due_at), 20)

    first = await stores.reminders.claim_due(2_000, LEASE_MS, 4)
    rest = await stores.reminders.claim_due(2_000, LEASE_MS, 100)

    assert len(first) == 4
    assert len(rest) == 6
    assert {r.reminder_id for r in first}.isdisjoint({r.reminder_id for r in rest})


async def test_a_completed_reminder_is_listed_as_delivered_and_never_claimed_again(stores: Stores) -> None:
    item = reminder(due_at=1_000)
    await stores.reminders.add(item, 10)
    (claimed,) = await stores.reminders.claim_due(1_000, 500, 10)

    await stores.reminders.complete(claimed, 1_200, delivered=True)

    (listed,) = await stores.reminders.list_for("session-a")
    assert (listed.status, listed.delivered_at, listed.attempts) == ("delivered", 1_200, 1)
    assert await stores.reminders.claim_due(10_000, 500, 10) == []


async def test_a_rescheduled_reminder_is_due_again_at_its_retry_time(stores: Stores) -> None:
    item = reminder(due_at=1_000)
    await stores.reminders.add(item, 10)
    (claimed,) = await stores.reminders.claim_due(1_000, 500, 10)

    await stores.reminders.reschedule(claimed, 60_000)

    (listed,) = await stores.reminders.list_for("session-a")
    assert (listed.status, listed.attempts) == ("pending", 1)
    assert await stores.reminders.claim_due(59_999, 500, 10) == []
    (again,) = await stores.reminders.claim_due(60_000, 500, 10)
    assert again.attempts == 1


async def test_lists_reminders_soonest_first_per_session(stores: Stores) -> None:
    late, early = reminder(due_at=9_000, title="late"), reminder(due_at=3_000, title="early")
    await stores.reminders.add(late, 10)
    await stores.reminders.add(early, 10)
    await stores.reminders.add(reminder("session-b", 1_000, "other"), 10)

    assert [r.title for r in await stores.reminders.list_for("session-a")] == ["early", "late"]
    assert [r.title for r in await stores.reminders.list_for("session-b")] == ["other"]
    assert await stores.reminders.list_for("no-such-session") == []


async def test_concurrent_claims_take_each_reminder_exactly_once(stores: Stores) -> None:
    ids = set()
    for n in range(30):
        item = reminder(f"session-{n % 4}", due_at=1_000 + n)
        ids.add(item.reminder_id)
        await stores.reminders.add(item, 100)

    batches = await asyncio.gather(*(stores.reminders.claim_due(5_000, LEASE_MS, 4) for _ in range(10)))

    claimed = [item.reminder_id for batch in batches for item in batch]
    assert sorted(claimed) == sorted(ids)


async def test_deleting_a_session_deletes_its_reminders(stores: Stores) -> None:
    session_id = str(uuid4())
    await stores.sessions.create(session_id, "visitor", 1_000, 3600)
    await stores.reminders.add(reminder(session_id, due_at=500), 10)
    await stores.reminders.add(reminder("another-session", due_at=500), 10)

    assert await stores.sessions.delete(session_id)

    assert await stores.reminders.list_for(session_id) == []
    assert [item.session_id for item in await stores.reminders.claim_due(1_000, LEASE_MS, 10)] == ["another-session"]
