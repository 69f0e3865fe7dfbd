"""An agent's `ask` is held by the daily budgets as a visitor's turn is, and is accounted the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedUpstream

TOKEN = "mcp-budget-owner-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


async def ask(http: httpx2.AsyncClient, question: str) -> Any:
    """One call through the official client, over the app's own ASGI transport."""
    async with Client(streamable_http_client("http://test/mcp", http_client=http), cache=None) as client:
        return await client.call_tool("ask", {"question": question})


async def test_the_daily_budget_refuses_agents_and_visitors_alike(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    # gpt-4o-mini: 100,000 prompt tokens cost $0.015, past a $0.01 budget
    upstream.script(Reply(chunks=["Alex builds backends."], usage=(100_000, 10)))
    settings = upstream_settings(daily_budget_usd=0.01, admin_token=TOKEN)
    async with client_for(settings, ip="198.51.100.1") as agent:
        spent = await ask(agent, "What does Alex do?")
        usage = (await agent.get("/admin/api/usage", params={"days": 1}, headers=ADMIN)).json()
        refused = await ask(agent, "And what else?")
    async with client_for(settings, ip="198.51.100.2") as visitor:
        visitor_refused = await visitor.post("/stream", json={"prompt": "Hello!"})
    assert not spent.is_error
    assert spent.structured_content["answer"] == "Alex builds backends."
    # settled like a visitor's turn: its usage and cost are in the owner's account
    assert usage["days"][-1]["turns"] == 1
    assert usage["days"][-1]["cost_usd"] == pytest.approx(0.015006)
    assert refused.is_error
    assert refused.content[0].text.startswith("Rate limited: ")
    assert "daily budget" in refused.content[0].text
    assert "Retry after" in refused.content[0].text
    assert len(upstream.requests) == 1  # the refused question never reached the model
    assert visitor_refused.status_code == 429
