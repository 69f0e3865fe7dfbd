"""A process at MAX_INFLIGHT_TURNS refuses a new turn at once, with a 503 and Retry-After, and
charges nothing for it; the turns it had admitted finish as if nothing happened."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedUpstream
from ..sse import parse_events, text_of


@pytest.mark.parametrize("store_kind", ["sqlite"])  # a bound of the process, whatever the store
async def test_a_turn_past_the_bound_is_refused_at_once_uncharged_and_the_running_one_finishes(
    live_server_for: Callable[..., Any], upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream
) -> None:
    # the running turn's second chunk comes seconds after its first: the refusals happen in between
    upstream.script(Reply(chunks=["Still", " here."], delay=3.0), Reply(chunks=["Next."]))
    with live_server_for(upstream_settings(max_inflight_turns=1)) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            async with client.stream("POST", "/stream", json={"prompt": "a long one"}) as running:
                lines = running.aiter_lines()
                async for line in lines:
                    if "chunk" in line:
                        assert "Still" in line  # admitted, answering
                        break

                refused = await client.post("/stream", json={"prompt": "one more"})
                message = {"id": "m1", "role": "user", "parts": [{"type": "text", "text": "hi"}]}
                chat = await client.post("/api/chat", json={"id": "c1", "messages": [message]})
                info = (await client.get("/rate-limit-info")).json()
                rest = [line async for line in lines]
            after = await until_admitted(client, {"prompt": "and now?"})

    for answer in (refused, chat):
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1"
        assert answer.json()["error"] == "service_unavailable"
    assert info["current_requests"] == 1  # the running turn only: the refused ones cost nothing
    assert any('"end"' in line for line in rest)
    assert after.status_code == 200
    assert text_of(parse_events(after.text)) == "Next."


async def until_admitted(client: httpx2.AsyncClient, body: dict[str, Any]) -> httpx2.Response:
    """The finished turn is settled (its place given back) just after its response ends."""
    for _ in range(100):
        response = await client.post("/stream", json=body)
        if response.status_code != 503:
            return response
        await asyncio.sleep(0.02)
    raise AssertionError("the bound was never given back")
