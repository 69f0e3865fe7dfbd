"""Streaming behaviour over a real socket: incremental delivery, disconnects, keep-alives."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedUpstream
from ..sse import Events, parse_events


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_chunks_arrive_before_the_upstream_has_finished(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=["first", " second"], stall_after=1))
    with live_server_for(upstream_settings()) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            async with client.stream("POST", "/stream", json={"prompt": "hi"}) as response:
                events = await Events(response).take(1)
            # the upstream is still holding its stream open: the chunk was relayed, not buffered
            assert events == [{"type": "chunk", "content": "first", "seq": 2, "timestamp": events[0]["timestamp"]}]
            assert await asyncio.to_thread(upstream.disconnected.wait, 10)


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_a_visitor_leaving_before_the_first_token_closes_the_upstream_call(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    """Nobody pays for tokens nobody reads: leaving closes the upstream call, also before the first token."""
    upstream.script(Reply(chunks=["never"], first_delay=60))
    with live_server_for(upstream_settings(max_open_streams_per_visitor=1)) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            async with client.stream("POST", "/stream", json={"prompt": "hi"}) as response:
                assert response.status_code == 200
                # leave once the service is waiting on the upstream for its first token
                assert await asyncio.to_thread(upstream.received.wait, 10)
            assert await asyncio.to_thread(upstream.disconnected.wait, 10)
            assert upstream.completed_streams == 0
            # the open-stream slot comes back once the relay has wound down
            upstream.script(Reply(chunks=["again"]))
            for _ in range(200):
                retry = await client.post("/stream", json={"prompt": "hi"})
                if retry.status_code == 200:
                    break
                await asyncio.sleep(0.02)  # polling for the slot's release, not synchronising an assertion
            assert retry.status_code == 200


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_a_slow_first_token_gets_data_keepalives(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    """Proxies cut streams idle for about a minute; the keep-alive is a data event clients can parse."""
    upstream.script(Reply(chunks=["late"], first_delay=1.0))
    with live_server_for(upstream_settings(keepalive_seconds=0.2)) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            response = await client.post("/stream", json={"prompt": "hi"})
    types = [event["type"] for event in parse_events(response.text)]  # every line a data: line
    assert types[0] == "keepalive"
    assert types[-2:] == ["chunk", "end"]


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_open_streams_per_visitor_are_bounded(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=["a"], stall_after=0), Reply(chunks=["b"], stall_after=0))
    with live_server_for(upstream_settings(max_open_streams_per_visitor=2)) as server:
        async with (
            httpx2.AsyncClient(base_url=server.url, timeout=10) as client,
            client.stream("POST", "/stream", json={"prompt": "1"}) as one,
            client.stream("POST", "/stream", json={"prompt": "2"}) as two,
        ):
            assert (one.status_code, two.status_code) == (200, 200)
            third = await client.post("/stream", json={"prompt": "3"})
            assert third.status_code == 429
            assert "open streams" in third.json()["detail"]


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_a_turn_the_visitor_abandons_mid_answer_is_not_stored(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    """Decision: only complete turns are stored; the history stays as it was. A turn with a session
    waits RESUME_GRACE_SECONDS for its visitor to reattach, then the upstream call is closed."""
    upstream.script(Reply(chunks=["Hi Ada."]), Reply(chunks=["partial", " more"], stall_after=1))
    with live_server_for(upstream_settings(resume_grace_seconds=0.2)) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            session_id = (await client.post("/session")).json()["session_id"]
            await client.post("/stream", json={"prompt": "I am Ada", "session_id": session_id})
            async with client.stream("POST", "/stream", json={"prompt": "go on", "session_id": session_id}) as r:
                assert (await Events(r).take(1))[0]["content"] == "partial"
            assert await asyncio.to_thread(upstream.disconnected.wait, 10)
            history = (await client.get(f"/session/{session_id}")).json()
    assert [(m["role"], m["content"]) for m in history["messages"]] == [("user", "I am Ada"), ("assistant", "Hi Ada.")]
