"""Reattach streams hold an open-stream slot (issue 25): GET /stream/{turn_id} and
GET /api/chat/{id}/stream count against MAX_OPEN_STREAMS_PER_VISITOR like the turns themselves,
429 with the usual headers past it, and the slot comes back when the reattach ends.
Over a real socket, against the scripted upstream (an answer that stalls until Stop)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedUpstream
from ..sse import Events, UIChunks

pytestmark = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)


@asynccontextmanager
async def running_answer(client: httpx2.AsyncClient, route: str) -> AsyncIterator[str]:
    """Start a turn whose answer stalls after its first text and leave it running, its POST still
    open (one slot); yields the path that reattaches to it. Stopped on exit."""
    if route == "stream":
        session_id = (await client.post("/session")).json()["session_id"]
        async with client.stream("POST", "/stream", json={"prompt": "go on", "session_id": session_id}) as response:
            await Events(response).take(1)
            turn_id = response.headers["x-turn-id"]
            yield f"/stream/{turn_id}"
            await client.delete(f"/stream/{turn_id}")
    else:
        message = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "go on"}]}
        body = {"id": "chat-1", "messages": [message], "trigger": "submit-message", "resume": True}
        async with client.stream("POST", "/api/chat", json=body) as response:
            await UIChunks(response).take(until="text-delta")
            yield "/api/chat/chat-1/stream"
            await client.delete("/api/chat/chat-1/stream")


@pytest.mark.parametrize("route", ["stream", "api-chat"])
async def test_reattach_streams_count_against_the_open_stream_bound(
    route: str, upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=["Half an", " answer"], stall_after=1))
    with live_server_for(upstream_settings(max_open_streams_per_visitor=2)) as server:
        async with (
            httpx2.AsyncClient(base_url=server.url, timeout=10) as client,
            running_answer(client, route) as reattach,
        ):
            async with client.stream("GET", reattach) as second:
                assert second.status_code == 200
                third = await client.get(reattach)
                assert third.status_code == 429, third.text
                assert "open streams" in third.json()["detail"]
                assert third.headers["x-ratelimit-limit"] == "2"
                assert third.headers["x-ratelimit-remaining"] == "0"
                assert int(third.headers["retry-after"]) >= 1
            # the second reattach has ended: its slot comes back once the server has seen it go
            for _ in range(200):
                async with client.stream("GET", reattach) as again:
                    if again.status_code == 200:
                        break
                await asyncio.sleep(0.02)  # polling for the slot's release, not synchronising an assertion
            assert again.status_code == 200
