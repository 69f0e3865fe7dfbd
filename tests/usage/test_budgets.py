"""Budgets: DAILY_BUDGET_USD for everyone together, VISITOR_DAILY_TOKENS per visitor, reset at UTC
midnight (field note 14), with the clock injected so midnight comes when the test says."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from asgi_lifespan import LifespanManager

from portfolio_backend.app import create_app
from portfolio_backend.chat.service import BUDGET_REACHED
from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedToolCall, ScriptedUpstream
from ..sse import parse_events

TOKEN = "owner-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
# the coming UTC midnight: Redis drops usage by the wall clock, USAGE_RETENTION_DAYS after its day
MIDNIGHT = (int(time.time()) // 86400 + 1) * 86400


class Clock:
    """Epoch seconds that move only when the test moves them."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _client(settings: Settings, clock: Clock, ip: str = "203.0.113.7") -> Any:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def open_client() -> Any:
        async with LifespanManager(create_app(settings, clock=clock)) as manager:
            transport = httpx2.ASGITransport(app=manager.app, client=(ip, 50000))
            async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
                yield client

    return open_client()


async def test_a_visitor_over_their_tokens_waits_for_midnight_and_no_longer(
    make_settings: Callable[..., Settings],
) -> None:
    clock = Clock(MIDNIGHT - 3)  # 23:59:57 UTC
    settings = make_settings(visitor_daily_tokens=1, admin_token=TOKEN)
    async with await _client(settings, clock) as client:
        first = await client.post("/stream", json={"prompt": "Hello!"})
        refused = await client.post("/stream", json={"prompt": "Hello again!"})
        clock.now = MIDNIGHT - 0.5
        still = await client.post("/stream", json={"prompt": "Hello again!"})
        clock.now = MIDNIGHT  # 00:00:00 UTC: a new day
        next_day = await client.post("/stream", json={"prompt": "Good morning!"})
        usage = (await client.get("/admin/api/usage", params={"days": 2}, headers=ADMIN)).json()
    assert parse_events(first.text)[-1]["type"] == "end"
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert "tokens" in refused.json()["detail"]
    assert refused.headers["retry-after"] == "3"
    assert refused.headers["x-ratelimit-reset"] == str(int(MIDNIGHT))
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert still.status_code == 429
    assert still.headers["retry-after"] == "1"
    assert parse_events(next_day.text)[-1]["type"] == "end"
    dates = [datetime.fromtimestamp(MIDNIGHT - 86400, UTC), datetime.fromtimestamp(MIDNIGHT, UTC)]
    assert [day["date"] for day in usage["days"]] == [date.date().isoformat() for date in dates]
    assert [day["turns"] for day in usage["days"]] == [1, 1]


async def test_the_daily_budget_refuses_every_visitor_until_midnight(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream
) -> None:
    clock = Clock(MIDNIGHT - 60)
    # gpt-4o-mini: 100,000 prompt tokens cost $0.015, past a $0.01 budget
    upstream.script(Reply(usage=(100_000, 10)))
    settings = upstream_settings(daily_budget_usd=0.01, admin_token=TOKEN)
    async with await _client(settings, clock, ip="198.51.100.1") as first_visitor:
        spent = await first_visitor.post("/stream", json={"prompt": "Hello!"})
        usage = (await first_visitor.get("/admin/api/usage", params={"days": 1}, headers=ADMIN)).json()
    async with await _client(settings, clock, ip="198.51.100.2") as other_visitor:
        refused = await other_visitor.post("/stream", json={"prompt": "Hello!"})
        clock.now = MIDNIGHT
        tomorrow = await other_visitor.post("/stream", json={"prompt": "Hello!"})
    assert parse_events(spent.text)[-1]["type"] == "end"
    assert usage["days"][-1]["cost_usd"] == pytest.approx(0.015006)
    assert usage["budget"]["used_fraction"] == pytest.approx(1.5006)
    assert refused.status_code == 429
    assert "daily budget" in refused.json()["detail"]
    assert refused.headers["retry-after"] == "60"
    assert parse_events(tomorrow.text)[-1]["type"] == "end"


async def test_a_turn_that_reaches_the_budget_runs_no_further_model_round(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream
) -> None:
    upstream.script(
        Reply(chunks=[], tool_calls=[ScriptedToolCall("get_current_time", "{}")], usage=(100_000, 10)),
        Reply(chunks=["It is noon."]),
    )
    settings = upstream_settings(daily_budget_usd=0.01, admin_token=TOKEN)
    async with await _client(settings, Clock(MIDNIGHT + 3600)) as client:
        response = await client.post("/stream", json={"prompt": "What time is it?"})
        usage = (await client.get("/admin/api/usage", params={"days": 1}, headers=ADMIN)).json()
    events = parse_events(response.text)
    assert [event["type"] for event in events] == ["tool_result", "error"]
    assert events[-1]["error"] == BUDGET_REACHED
    assert len(upstream.requests) == 1  # the second round was never asked for
    assert usage["days"][-1]["turns"] == 1
    assert usage["days"][-1]["prompt_tokens"] == 100_000


async def test_no_budget_means_no_limit_but_still_an_account(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(admin_token=TOKEN)
    async with await _client(settings, Clock(MIDNIGHT + 7200)) as client:
        for _ in range(3):
            assert (await client.post("/stream", json={"prompt": "Hello!"})).status_code == 200
        usage = (await client.get("/admin/api/usage", params={"days": 1}, headers=ADMIN)).json()
    today = usage["days"][-1]
    assert today["turns"] == 3
    assert today["visitors"] == 1
    assert today["estimated_turns"] == 3  # the demo model reports no usage: estimated
    assert today["tokens"] > 3 * 100
    assert usage["budget"]["daily_usd"] is None


def _chat(text: str, message_id: str) -> dict[str, Any]:
    message = {"id": message_id, "role": "user", "parts": [{"type": "text", "text": text}]}
    return {"id": "chat-1", "trigger": "submit-message", "messages": [message]}


async def test_an_ai_sdk_chat_is_held_to_the_same_budget_and_its_usage_recorded(
    make_settings: Callable[..., Settings],
) -> None:
    clock = Clock(MIDNIGHT - 60)
    settings = make_settings(visitor_daily_tokens=1, admin_token=TOKEN)
    async with await _client(settings, clock) as client:
        first = await client.post("/api/chat", json=_chat("Hello!", "u1"))
        refused = await client.post("/api/chat", json=_chat("Hello again!", "u2"))
        usage = (await client.get("/admin/api/usage", params={"days": 1}, headers=ADMIN)).json()
    assert first.status_code == 200
    assert first.text.rstrip().endswith("data: [DONE]")
    assert refused.status_code == 429
    assert refused.json()["budget"] == "visitor_tokens"
    assert refused.headers["retry-after"] == "60"
    assert usage["days"][-1]["turns"] == 1
    assert usage["days"][-1]["prompt_tokens"] > 0


async def test_a_new_chat_the_budget_refuses_creates_no_session_and_costs_none(
    make_settings: Callable[..., Settings],
) -> None:
    clock = Clock(MIDNIGHT - 60)
    settings = make_settings(visitor_daily_tokens=1, session_create_limit="1/day")
    async with await _client(settings, clock) as client:
        assert (await client.post("/stream", json={"prompt": "Hello!"})).status_code == 200
        refused = await client.post("/api/chat", json=_chat("Hello again!", "u1"))
        created = await client.post("/session")
        listed = (await client.get("/sessions")).json()
    assert refused.status_code == 429
    assert refused.json()["budget"] == "visitor_tokens"
    assert created.status_code == 200, "the refused chat's session charge was given back"
    assert listed["total_sessions"] == 1
