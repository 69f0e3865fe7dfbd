"""create_reminder and exactly-once webhook delivery, on every backend (the store itself: tests/store)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import uuid4

import httpx2
import pytest

from portfolio_backend.api.session_views import public_reminder
from portfolio_backend.settings import Settings
from portfolio_backend.store import Reminder, Stores
from portfolio_backend.tools.reminder import MAX_DAYS_AHEAD, MAX_REMINDERS_PER_SESSION
from portfolio_backend.workers.reminders import (
    MAX_ATTEMPTS,
    RETRY_DELAYS_MS,
    ReminderDispatcher,
    dispatch_due,
)

from ..conftest import connect
from ..fixtures.fake_http import Answer, FakeHTTP, closed_port_url
from .conftest import MakeSettings, ToolBench

BenchFor = Callable[[Settings, Stores], ToolBench]


def now_ms() -> int:
    return int(time.time() * 1000)


def in_future(**delta: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(**delta)).astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()


def reminder(session_id: str = "session-a", due_at: int = 1_000_000, title: str = "Call back") -> Reminder:
    return Reminder(uuid4().hex, session_id, title, "", due_at, "2030-01-01T10:00:00+02:00", due_at - 10_000)


@pytest.fixture
async def second_stores(store_env: dict[str, Any]) -> AsyncIterator[Stores]:
    """Another connection to the same store, as a second process would have."""
    other = await connect(store_env)
    yield other
    await other.close()


@pytest.fixture
def webhook(fake_http: FakeHTTP) -> FakeHTTP:
    fake_http.on("POST", "/hook", Answer(200, {"ok": True}))
    return fake_http


# the tool ----------------------------------------------------------------------------------------


async def test_creates_a_reminder_listed_with_its_session(
    stores: Stores, tool_settings: MakeSettings, bench_for: BenchFor
) -> None:
    bench = bench_for(tool_settings(reminder_webhook_url="http://127.0.0.1:9/hook"), stores)
    when = in_future(hours=3)

    ok, text = await bench.call(
        "create_reminder", {"title": "Call Ada", "datetime": when, "description": "about the job"}
    )

    assert ok
    assert text.startswith(f"Reminder set: 'Call Ada' on {when[:16]}")
    assert "(in 2 hours)" in text or "(in 3 hours)" in text
    assert "nobody will be notified" not in text
    (stored,) = await stores.reminders.list_for("session-a")
    assert public_reminder(stored) == {
        "reminder_id": stored.reminder_id,
        "title": "Call Ada",
        "description": "about the job",
        "due_at": when,
        "status": "pending",
        "created_at": stored.created_at,
        "delivered_at": None,
    }
    assert stored.due_at == int(dt.datetime.fromisoformat(when).timestamp() * 1000)
    assert await stores.reminders.list_for("session-b") == []


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
    assert await bench.stores.reminders.list_for("session-a") == []


async def test_a_time_too_far_ahead_is_refused(bench: ToolBench) -> None:
    ok, text = await bench.call("create_reminder", {"title": "x", "datetime": in_future(days=MAX_DAYS_AHEAD + 2)})
    assert (ok, text) == (False, f"Error: Reminders can be set at most {MAX_DAYS_AHEAD} days ahead")


async def test_needs_a_session(bench: ToolBench) -> None:
    ok, text = await bench.call("create_reminder", {"title": "x", "datetime": in_future(hours=1)}, session_id=None)
    assert (ok, text) == (False, "Error: Reminders belong to a session, and this conversation has none")


async def test_a_session_holds_a_bounded_number_of_reminders(
    stores: Stores, tool_settings: MakeSettings, bench_for: BenchFor
) -> None:
    bench = bench_for(tool_settings(), stores)
    arguments = {"title": "again", "datetime": in_future(hours=5)}
    for _ in range(MAX_REMINDERS_PER_SESSION):
        assert (await bench.call("create_reminder", arguments))[0]

    ok, text = await bench.call("create_reminder", arguments)

    assert (ok, text) == (
        False,
        f"Error: This conversation already has {MAX_REMINDERS_PER_SESSION} reminders, the most allowed",
    )
    assert len(await stores.reminders.list_for("session-a")) == MAX_REMINDERS_PER_SESSION
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


# delivery ----------------------------------------------------------------------------------------


async def test_due_reminders_are_posted_once_as_json(
    stores: Stores, http: httpx2.AsyncClient, webhook: FakeHTTP
) -> None:
    now = now_ms()
    due = Reminder(
        uuid4().hex, "session-secret-id", "Call Ada", "about the job", now - 1, "2030-01-01T10:00:00+02:00", 0
    )
    await stores.reminders.add(due, 10)
    await stores.reminders.add(reminder(due_at=now + 3_600_000), 10)

    assert await dispatch_due(stores.reminders, http, webhook.url("/hook"), now) == 1
    assert await dispatch_due(stores.reminders, http, webhook.url("/hook"), now) == 0

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
    statuses = sorted(r.status for r in await stores.reminders.list_for("session-secret-id"))
    assert statuses == ["delivered"]


async def test_concurrent_dispatchers_deliver_each_reminder_exactly_once(
    stores: Stores, second_stores: Stores, http: httpx2.AsyncClient, webhook: FakeHTTP
) -> None:
    now = now_ms()
    ids = set()
    for n in range(45):
        item = reminder(f"session-{n % 7}", now - n)
        ids.add(item.reminder_id)
        assert await stores.reminders.add(item, 100)

    url = webhook.url("/hook")
    rounds = 0
    while True:
        rounds += 1
        # four dispatchers in two "processes" (two connections) race for the same reminders
        delivered = await asyncio.gather(
            *(dispatch_due(s.reminders, http, url, now) for s in (stores, second_stores) * 2)
        )
        if not any(delivered):
            break

    posted = Counter(request.json()["reminder_id"] for request in webhook.requests)
    assert set(posted) == ids
    assert set(posted.values()) == {1}
    assert rounds >= 2


async def test_a_failed_delivery_is_retried_later_then_marked_failed(
    stores: Stores, http: httpx2.AsyncClient, fake_http: FakeHTTP
) -> None:
    fake_http.on("POST", "/hook", Answer(500, {"error": "down"}))
    now = now_ms()
    await stores.reminders.add(reminder(due_at=now), 10)
    url = fake_http.url("/hook")

    for attempt in range(1, MAX_ATTEMPTS):
        assert await dispatch_due(stores.reminders, http, url, now) == 0
        (listed,) = await stores.reminders.list_for("session-a")
        assert (listed.status, listed.attempts) == ("pending", attempt)
        assert await dispatch_due(stores.reminders, http, url, now) == 0  # not due again yet
        now += RETRY_DELAYS_MS[attempt - 1]

    assert await dispatch_due(stores.reminders, http, url, now) == 0
    (listed,) = await stores.reminders.list_for("session-a")
    assert (listed.status, listed.attempts) == ("failed", MAX_ATTEMPTS)
    assert len(fake_http.requests) == MAX_ATTEMPTS
    assert await dispatch_due(stores.reminders, http, url, now + 10**9) == 0
    assert len(fake_http.requests) == MAX_ATTEMPTS


async def test_an_unreachable_webhook_counts_as_a_failed_attempt(stores: Stores, http: httpx2.AsyncClient) -> None:
    now = now_ms()
    await stores.reminders.add(reminder(due_at=now), 10)

    assert await dispatch_due(stores.reminders, http, closed_port_url() + "/hook", now) == 0

    (listed,) = await stores.reminders.list_for("session-a")
    assert (listed.status, listed.attempts) == ("pending", 1)


async def test_the_dispatcher_loop_delivers_due_reminders(
    plain_stores: Stores, http: httpx2.AsyncClient, webhook: FakeHTTP
) -> None:
    item = reminder(due_at=now_ms() - 1)
    await plain_stores.reminders.add(item, 10)
    task = asyncio.create_task(
        ReminderDispatcher(plain_stores.reminders, http, webhook.url("/hook"), interval=0.05).run()
    )
    try:
        await webhook.wait_for_requests(1)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert webhook.requests[0].json()["reminder_id"] == item.reminder_id


async def test_deleting_a_session_deletes_its_reminders_and_they_are_never_sent(
    stores: Stores, http: httpx2.AsyncClient, webhook: FakeHTTP
) -> None:
    session_id = str(uuid4())
    now = now_ms()
    await stores.sessions.create(session_id, "visitor", now, 3600)
    await stores.reminders.add(reminder(session_id, due_at=now - 1), 10)
    assert await stores.sessions.delete(session_id)
    assert await stores.reminders.list_for(session_id) == []
    assert await dispatch_due(stores.reminders, http, webhook.url("/hook"), now) == 0
    assert webhook.requests == []
