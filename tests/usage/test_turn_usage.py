"""Usage per turn: the server's figures summed over every model round, else an estimate marked as one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedToolCall, ScriptedUpstream
from ..test_observability import metric

pytestmark = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)


async def _metrics_after(client: Any, *prompts: str) -> str:
    for prompt in prompts:
        await client.post("/stream", json={"prompt": prompt})
    return str((await client.get("/metrics")).text)


async def test_usage_is_asked_for_and_summed_over_every_tool_round(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(
        Reply(chunks=[], tool_calls=[ScriptedToolCall("get_current_time", "{}")], usage=(120, 9), cached_tokens=100),
        Reply(chunks=[], tool_calls=[ScriptedToolCall("calculate", '{"expression": "2+2"}')], usage=(150, 12)),
        Reply(chunks=["It is noon and 2+2 is 4."], usage=(170, 11)),
    )
    async with client_for(upstream_settings()) as client:
        text = await _metrics_after(client, "time and 2+2?")
    assert all(request["stream_options"] == {"include_usage": True} for request in upstream.requests)
    reported = {"model": "gpt-4o-mini", "source": "reported"}
    assert metric(text, "portfolio_llm_tokens_total", kind="prompt", **reported) == 120 + 150 + 170
    assert metric(text, "portfolio_llm_tokens_total", kind="cached", **reported) == 100
    assert metric(text, "portfolio_llm_tokens_total", kind="completion", **reported) == 9 + 12 + 11
    assert metric(text, "portfolio_llm_tokens_total", kind="prompt", model="gpt-4o-mini", source="estimated") == 0


async def test_a_server_that_sends_no_usage_is_estimated_never_zero(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(chunks=["Hello", " from", " upstream."], usage=None))
    async with client_for(upstream_settings()) as client:
        text = await _metrics_after(client, "Hi")
    estimated = {"model": "gpt-4o-mini", "source": "estimated"}
    assert metric(text, "portfolio_llm_tokens_total", kind="completion", **estimated) == 5  # 20 bytes / 4
    # the system prompt alone is hundreds of tokens: the estimate counts it
    assert metric(text, "portfolio_llm_tokens_total", kind="prompt", **estimated) > 100
    assert metric(text, "portfolio_llm_cost_usd_total", model="gpt-4o-mini") > 0


async def test_a_stream_cut_before_its_usage_chunk_is_estimated(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(chunks=["Half", " an", " answer", " and", " more"], cut_after=3))
    async with client_for(upstream_settings()) as client:
        text = await _metrics_after(client, "Hi")
    estimated = {"model": "gpt-4o-mini", "source": "estimated"}
    assert metric(text, "portfolio_llm_tokens_total", kind="completion", **estimated) == 4  # "Half an answer": 14 bytes
    assert metric(text, "portfolio_chat_turns_total", outcome="failed") == 1


async def test_the_demo_model_reports_estimated_usage(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings()) as client:
        text = await _metrics_after(client, "What is 15 * 7 + 23?")
    estimated = {"model": "offline-demo", "source": "estimated"}
    assert metric(text, "portfolio_llm_tokens_total", kind="prompt", **estimated) > 100
    assert metric(text, "portfolio_llm_tokens_total", kind="completion", **estimated) > 0
    assert metric(text, "portfolio_llm_cost_usd_total", model="offline-demo") == 0
