"""Upstream faults: retries only before the first token, timeouts, rate limits, auth failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedUpstream
from ..sse import parse_events, text_of

pytestmark = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)


async def test_a_5xx_before_the_stream_starts_is_retried(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(status=502), Reply(chunks=["Recovered."]))
    async with client_for(upstream_settings(openai_max_retries=1)) as client:
        events = parse_events((await client.post("/stream", json={"prompt": "hi"})).text)
    assert text_of(events) == "Recovered."
    assert len(upstream.requests) == 2


async def test_nothing_is_retried_once_tokens_have_streamed(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(chunks=["Half ", "an answer"], cut_after=1), Reply(chunks=["A second answer"]))
    async with client_for(upstream_settings(openai_max_retries=2)) as client:
        events = parse_events((await client.post("/stream", json={"prompt": "hi"})).text)
    assert text_of(events) == "Half "
    assert events[-1]["type"] == "error"
    assert len(upstream.requests) == 1  # a visitor never sees an answer twice


async def test_a_stalled_upstream_times_out_with_a_clear_error(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(chunks=["never"], first_delay=30))
    async with client_for(upstream_settings(openai_read_timeout=0.3)) as client:
        events = parse_events((await client.post("/stream", json={"prompt": "hi"})).text)
    assert [event["type"] for event in events] == ["error"]
    assert "took too long" in events[0]["error"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [(429, "busy right now"), (401, "misconfigured"), (500, "upstream status 500")],
)
async def test_upstream_statuses_become_clear_secret_free_errors(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any, status: int, expected: str
) -> None:
    upstream.script(Reply(status=status, error_body={"error": {"message": "Incorrect API key: sk-test-secret-key"}}))
    async with client_for(upstream_settings()) as client:
        response = await client.post("/stream", json={"prompt": "hi"})
    events = parse_events(response.text)
    assert expected in events[-1]["error"]
    assert "sk-test" not in response.text


async def test_an_unreachable_upstream_is_a_clear_error(
    upstream_settings: Callable[..., Settings], client_for: Any
) -> None:
    from ..fixtures.processes import free_port

    settings = upstream_settings(openai_base_url=f"http://127.0.0.1:{free_port()}/v1", openai_connect_timeout=0.5)
    async with client_for(settings) as client:
        events = parse_events((await client.post("/stream", json={"prompt": "hi"})).text)
    assert "could not be reached" in events[-1]["error"]
