"""create_reminder, the reminder store methods on both stores, and exactly-once webhook delivery."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import uuid4

import httpx
import pytest
from redis.crc import key_slot

from portfolio_backend.settings import Settings
from portfolio_backend.store import Store
from portfolio_backend.store.base import Reminder
from portfolio_backend.store.redis import _CLAIMED_KEY, _DUE_KEY, _meta_key, _reminders_key
from portfolio_backend.tools.reminder import MAX_DAYS_AHEAD, MAX_REMINDERS_PER_SESSION
from portfolio_backend.tools.reminder_dispatch import (
    LEASE_MS,
    MAX_ATTEMPTS,
    RETRY_DELAYS_MS,
    ReminderDispatcher,
    dispatch_due,
)

from ..conftest import open_store
from ..fixtures.fake_http import Answer, FakeHTTP, closed_port_url
from .conftest import MakeSettings, ToolBench

BenchFor = Callable[[Settings, Store], ToolBench]


def now_ms() -> int:
    return int(time.time() * 1000)


def in_future(**delta: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(**delta)).astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()


def reminder(session_id: str = "session-a", due_at: int = 1_000_000, title: str = "Call back") -> Reminder:
    return Reminder(uuid4().hex, session_id, title, "", due_at, "2030-01-01T10:00:00+02:00", due_at - 10_000)


@pytest.fixture
async def second_store(store_env: dict[str, Any]) -> AsyncIterator[Store]:
    """Another connection to the same store, as a second process would have."""
    other = await open_store(store_env)
    yield other
    await other.close()


@pytest.fixture
def webhook(fake_http: FakeHTTP) -> FakeHTTP:
    fake_http.on("POST", "/hook", Answer(200, {"ok": True}))
    return fake_http


# the tool ----------------------------------------------------------------------------------------


async def test_creates_a_reminder_listed_with_its_session(
    store: Store, tool_settings: MakeSettings, bench_for: BenchFor
) -> None:
    bench = bench_for(tool_settings(reminder_webhook_url="http://127.0.0.1:9/hook"), store)
    when = in_future(hours=3)

    ok, text = await bench.call(
        "create_reminder", {"title": "Call Ada", "datetime": when, "description": "about the job"}
    )

    assert ok
    assert text.startswith(f"Reminder set: 'Call Ada' on {when[:16]}")
    assert "(in 2 hours)" in text or "(in 3 hours)" in text
    assert "nobody will be notified" not in text
    (stored,) = await store.list_reminders("session-a")
    assert stored.public() == {
        "reminder_id": stored.reminder_id,
        "title": "Call Ada",
        "description": "about the job",
        "due_at": when,
        "status": "pending",
        "created_at": stored.created_at,
        "delivered_at": None,
    }
    assert stored.due_at == int(dt.datetime.fromisoformat(when).timestamp() * 1000)
    assert await store.list_reminders("session-b") == []


async def test_says_so_when_no_delivery_is_configured(bench: ToolBench) -> None:
    ok, text = await bench.call("create_reminder", {"title": "x", "datetime": in_future(days=2)})
    assert ok
    assert text.endswith("so it is saved but nobody will be notified.")
    assert "(in 2 days)" in text or "(in 47 hours)" in text


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2030-07-01T09:30:00", "datetime needs a time zone"),
        ("2030-07-01", "datetime needs a time zone"),
        ("tomorrow at nine", "datetime must be an ISO 8601 date and time"),
        ("2030-13-45T25:00:00Z", "datetime must be an ISO 8601 date and time"),
    ],
)
async def test_a_datetime_without_zone_or_not_iso_is_an_argument_error(
    bench: ToolBench, when: str, message: str
) -> None:
    ok, text = await bench.call("create_reminder", {"title": "x", "datetime": when})
    assert not ok
    assert text.startswith(f"Error: datetime: Value error, {message}")


async def test_a_past_time_is_refused(bench: ToolBench) -> None:
    ok, text = await bench.call("create_reminder", {"title": "x", "datetime": "2001-01-01T09:00:00+01:00"})
    assert not ok
    assert text.startswith("Error: 2001-01-01T09:00:00+01:00 is in the past (it is now ")
    assert await bench.store.list_reminders("session-a") == []


async def test_a_time_too_far_ahead_is_refused(bench: ToolBench) -> None:
    ok, text = await bench.call("create_reminder", {"title": "x", "datetime": in_future(days=MAX_DAYS_AHEAD + 2)})
    assert (ok, text) == (False, f"Error: Reminders can be set at most {MAX_DAYS_AHEAD} days ahead")


async def test_needs_a_session(bench: ToolBench) -> None:
    ok, text = await bench.call("create_reminder", {"title": "x", "datetime": in_future(hours=1)}, session_id=None)
    assert (ok, text) == (False, "Error: Reminders belong to a session, and this conversation has none")


async def test_a_session_holds_a_bounded_number_of_reminders(
    store: Store, tool_settings: MakeSettings, bench_for: BenchFor
) -> None:
    bench = bench_for(tool_settings(), store)
    arguments = {"title": "again", "datetime": in_future(hours=5)}
    for _ in range(MAX_REMINDERS_PER_SESSION):
        assert (await bench.call("create_reminder", arguments))[0]

    ok, text = await bench.call("create_reminder", arguments)

    assert (ok, text) == (
        False,
        f"Error: This conversation already has {MAX_REMINDERS_PER_SESSION} reminders, the most allowed",
    )
    assert len(await store.list_reminders("session-a")) == MAX_REMINDERS_PER_SESSION
    assert (await bench.call("create_reminder", arguments, session_id="session-b"))[0]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"datetime": "2030-01-01T00:00:00Z"}, "title: Field required"),
        ({"title": "t" * 201, "datetime": "2030-01-01T00:00:00Z"}, "title: String should have at most 200"),
        ({"title": "t", "datetime": "2030-01-01T00:00:00Z", "description": "d" * 1001}, "description: String"),
    ],
)
async def test_bounds_are_argument_errors(bench: ToolBench, arguments: dict[str, Any], message: str) -> None:
    ok, text = await bench.call("create_reminder", arguments)
    assert not ok
    assert text.startswith(f"Error: {message}")


# the store ---------------------------------------------------------------------------------------


async def test_claims_only_due_reminders_and_each_once(store: Store) -> None:
    due, later = reminder(due_at=1_000), reminder(due_at=5_000)
    for item in (due, later):
        assert await store.add_reminder(item, 10)

    claimed = await store.claim_due_reminders(2_000, LEASE_MS, 10)

    assert [item.reminder_id for item in claimed] == [due.reminder_id]
    assert await store.claim_due_reminders(2_000, LEASE_MS, 10) == []
    assert [item.reminder_id for item in await store.claim_due_reminders(6_000, LEASE_MS, 10)] == [later.reminder_id]


async def test_a_claim_is_taken_again_when_its_lease_runs_out(store: Store) -> None:
    item = reminder(due_at=1_000)
    await store.add_reminder(item, 10)
    await store.claim_due_reminders(1_000, 500, 10)

    assert await store.claim_due_reminders(1_499, 500, 10) == []
    assert [r.reminder_id for r in await store.claim_due_reminders(1_500, 500, 10)] == [item.reminder_id]


async def test_claims_at_most_count(store: Store) -> None:
    for due_at in range(1_000, 1_010):
        await store.add_reminder(reminder(due_at=due_at), 20)

    first = await store.claim_due_reminders(2_000, LEASE_MS, 4)
    rest = await store.claim_due_reminders(2_000, LEASE_MS, 100)

    assert len(first) == 4
    assert len(rest) == 6
    assert {r.reminder_id for r in first}.isdisjoint({r.reminder_id for r in rest})


async def test_a_completed_reminder_is_listed_as_delivered_and_never_claimed_again(store: Store) -> None:
    item = reminder(due_at=1_000)
    await store.add_reminder(item, 10)
    (claimed,) = await store.claim_due_reminders(1_000, 500, 10)

    await store.complete_reminder(claimed, 1_200, delivered=True)

    (listed,) = await store.list_reminders("session-a")
    assert (listed.status, listed.delivered_at, listed.attempts) == ("delivered", 1_200, 1)
    assert await store.claim_due_reminders(10_000, 500, 10) == []


async def test_a_rescheduled_reminder_is_due_again_at_its_retry_time(store: Store) -> None:
    item = reminder(due_at=1_000)
    await store.add_reminder(item, 10)
    (claimed,) = await store.claim_due_reminders(1_000, 500, 10)

    await store.reschedule_reminder(claimed, 60_000)

    (listed,) = await store.list_reminders("session-a")
    assert (listed.status, listed.attempts) == ("pending", 1)
    assert await store.claim_due_reminders(59_999, 500, 10) == []
    (again,) = await store.claim_due_reminders(60_000, 500, 10)
    assert again.attempts == 1


async def test_lists_reminders_soonest_first_per_session(store: Store) -> None:
    late, early = reminder(due_at=9_000, title="late"), reminder(due_at=3_000, title="early")
    await store.add_reminder(late, 10)
    await store.add_reminder(early, 10)
    await store.add_reminder(reminder("session-b", 1_000, "other"), 10)

    assert [r.title for r in await store.list_reminders("session-a")] == ["early", "late"]
    assert [r.title for r in await store.list_reminders("session-b")] == ["other"]
    assert await store.list_reminders("no-such-session") == []


def test_redis_claim_keys_share_a_slot_and_reminders_sit_with_their_session() -> None:
    assert key_slot(_DUE_KEY.encode()) == key_slot(_CLAIMED_KEY.encode())
    assert key_slot(_reminders_key("s1").encode()) == key_slot(_meta_key("s1").encode())


# delivery ----------------------------------------------------------------------------------------


async def test_due_reminders_are_posted_once_as_json(store: Store, http: httpx.AsyncClient, webhook: FakeHTTP) -> None:
    now = now_ms()
    due = Reminder(
        uuid4().hex, "session-secret-id", "Call Ada", "about the job", now - 1, "2030-01-01T10:00:00+02:00", 0
    )
    await store.add_reminder(due, 10)
    await store.add_reminder(reminder(due_at=now + 3_600_000), 10)

    assert await dispatch_due(store, http, webhook.url("/hook"), now) == 1
    assert await dispatch_due(store, http, webhook.url("/hook"), now) == 0

    (request,) = webhook.requests
    assert request.headers["idempotency-key"] == due.reminder_id
    assert request.json() == {
        "type": "reminder",
        "reminder_id": due.reminder_id,
        "title": "Call Ada",
        "description": "about the job",
        "due_at": "2030-01-01T10:00:00+02:00",
        "message": "Reminder: Call Ada — about the job (due 2030-01-01T10:00:00+02:00)",
        "text": "Reminder: Call Ada — about the job (due 2030-01-01T10:00:00+02:00)",
    }
    assert b"session-secret-id" not in request.body
    statuses = sorted(r.status for r in await store.list_reminders("session-secret-id"))
    assert statuses == ["delivered"]


async def test_concurrent_dispatchers_deliver_each_reminder_exactly_once(
    store: Store, second_store: Store, http: httpx.AsyncClient, webhook: FakeHTTP
) -> None:
    now = now_ms()
    ids = set()
    for n in range(45):
        item = reminder(f"session-{n % 7}", now - n)
        ids.add(item.reminder_id)
        assert await store.add_reminder(item, 100)

    url = webhook.url("/hook")
    rounds = 0
    while True:
        rounds += 1
        # four dispatchers in two "processes" (two connections) race for the same reminders
        delivered = await asyncio.gather(*(dispatch_due(s, http, url, now) for s in (store, second_store) * 2))
        if not any(delivered):
            break

    posted = Counter(request.json()["reminder_id"] for request in webhook.requests)
    assert set(posted) == ids
    assert set(posted.values()) == {1}
    assert rounds >= 2


async def test_a_failed_delivery_is_retried_later_then_marked_failed(
    store: Store, http: httpx.AsyncClient, fake_http: FakeHTTP
) -> None:
    fake_http.on("POST", "/hook", Answer(500, {"error": "down"}))
    now = now_ms()
    await store.add_reminder(reminder(due_at=now), 10)
    url = fake_http.url("/hook")

    for attempt in range(1, MAX_ATTEMPTS):
        assert await dispatch_due(store, http, url, now) == 0
        (listed,) = await store.list_reminders("session-a")
        assert (listed.status, listed.attempts) == ("pending", attempt)
        assert await dispatch_due(store, http, url, now) == 0  # not due again yet
        now += RETRY_DELAYS_MS[attempt - 1]

    assert await dispatch_due(store, http, url, now) == 0
    (listed,) = await store.list_reminders("session-a")
    assert (listed.status, listed.attempts) == ("failed", MAX_ATTEMPTS)
    assert len(fake_http.requests) == MAX_ATTEMPTS
    assert await dispatch_due(store, http, url, now + 10**9) == 0
    assert len(fake_http.requests) == MAX_ATTEMPTS


async def test_an_unreachable_webhook_counts_as_a_failed_attempt(store: Store, http: httpx.AsyncClient) -> None:
    now = now_ms()
    await store.add_reminder(reminder(due_at=now), 10)

    assert await dispatch_due(store, http, closed_port_url() + "/hook", now) == 0

    (listed,) = await store.list_reminders("session-a")
    assert (listed.status, listed.attempts) == ("pending", 1)


async def test_the_dispatcher_loop_delivers_due_reminders(
    plain_store: Store, http: httpx.AsyncClient, webhook: FakeHTTP
) -> None:
    item = reminder(due_at=now_ms() - 1)
    await plain_store.add_reminder(item, 10)
    task = asyncio.create_task(ReminderDispatcher(plain_store, http, webhook.url("/hook"), interval=0.05).run())
    try:
        await webhook.wait_for_requests(1)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert webhook.requests[0].json()["reminder_id"] == item.reminder_id


async def test_deleting_a_session_deletes_its_reminders_and_they_are_never_sent(
    store: Store, http: httpx.AsyncClient, webhook: FakeHTTP
) -> None:
    session_id = str(uuid4())
    now = now_ms()
    await store.create_session(session_id, "visitor", now, 3600)
    await store.add_reminder(reminder(session_id, due_at=now - 1), 10)
    assert await store.delete_session(session_id)
    assert await store.list_reminders(session_id) == []
    assert await dispatch_due(store, http, webhook.url("/hook"), now) == 0
    assert webhook.requests == []
