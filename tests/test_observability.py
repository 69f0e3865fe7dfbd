"""Prometheus metrics, request ids and what logs may contain."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from portfolio_backend.observability import RequestIdFilter
from portfolio_backend.settings import Settings

from .fixtures.upstream import Reply, ScriptedToolCall, ScriptedUpstream


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))  # exposition sorts labels
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        if sample == (f"{name}{{{wanted}}}" if wanted else name):
            return float(value)
    return 0.0


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_metrics_count_requests_turns_tokens_tools_and_rejections(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(
        Reply(chunks=[], tool_calls=[ScriptedToolCall("get_current_time", "{}")], usage=(5, 1)),
        Reply(chunks=["It is now."], usage=(9, 3)),
        Reply(status=503),
    )
    async with client_for(upstream_settings(rate_limit="2/day")) as client:
        await client.post("/stream", json={"prompt": "time?"})
        await client.post("/stream", json={"prompt": "fails upstream, so it is refunded"})
        await client.post("/stream", json={"prompt": "the default reply"})
        await client.post("/stream", json={"prompt": "refused"})
        text = (await client.get("/metrics")).text
    assert metric(text, "portfolio_http_requests_total", method="POST", route="/stream", status="200") == 3
    assert metric(text, "portfolio_http_requests_total", method="POST", route="/stream", status="429") == 1
    assert metric(text, "portfolio_chat_turns_total", outcome="completed") == 2
    assert metric(text, "portfolio_chat_turns_total", outcome="failed") == 1
    tokens = {"model": "gpt-4o-mini", "source": "reported"}
    assert metric(text, "portfolio_llm_tokens_total", kind="prompt", **tokens) == 5 + 9 + 11
    assert metric(text, "portfolio_llm_tokens_total", kind="completion", **tokens) == 1 + 3 + 7
    # gpt-4o-mini: $0.15 in, $0.60 out per 1M tokens; each turn's cost is rounded up to a micro-dollar
    assert metric(text, "portfolio_llm_cost_usd_total", model="gpt-4o-mini") == pytest.approx((5 + 6) / 1_000_000)
    assert metric(text, "portfolio_tool_calls_total", tool="get_current_time", outcome="ok") == 1
    assert metric(text, "portfolio_upstream_errors_total", kind="status_503") == 1
    assert metric(text, "portfolio_quota_rejections_total", bound="chat") == 1
    assert metric(text, "portfolio_time_to_first_token_seconds_count") == 2
    assert metric(text, "portfolio_stream_duration_seconds_count") == 3


async def test_a_request_id_is_returned_and_a_sane_one_is_kept(client: httpx2.AsyncClient) -> None:
    given = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await client.get("/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert len(generated.headers["x-request-id"]) == 32


async def test_logs_carry_the_request_id_and_never_the_prompt_or_key(
    upstream_settings: Callable[..., Settings], client_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for handler in (caplog.handler,):
        handler.addFilter(RequestIdFilter())
    async with client_for(upstream_settings()) as client:
        await client.post("/stream", json={"prompt": "my secret diary entry"}, headers={"X-Request-ID": "req-42"})
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert any(getattr(record, "request_id", None) == "req-42" for record in caplog.records)
    assert "my secret diary entry" not in logged
    assert "sk-test-secret-key" not in logged


async def test_prompts_are_logged_only_when_asked(
    upstream_settings: Callable[..., Settings], client_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with client_for(upstream_settings(log_prompts=True)) as client:
        session_id = (await client.post("/session")).json()["session_id"]
        for prompt in ("log this one", "and this one"):
            await client.post("/stream", json={"prompt": prompt, "session_id": session_id})
        await client.post("/stream", json={"prompt": "no session"})
    prompts = [record for record in caplog.records if hasattr(record, "prompt")]
    assert [record.prompt for record in prompts] == ["log this one", "and this one", "no session"]
    # one conversation's prompts can be followed, by a fingerprint: the session id is a secret
    first, second, alone = (getattr(record, "session", None) for record in prompts)
    assert first is not None
    assert second == first
    assert alone is None
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert session_id not in logged


METRICS_TOKEN = "scrape-token-0123456789abcdef"


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_with_a_metrics_token_metrics_answer_only_that_bearer_token(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    """Tokens and spend are the owner's business: with METRICS_TOKEN only the scraper reads them."""
    async with client_for(make_settings(metrics_token=METRICS_TOKEN)) as client:
        refused = [
            await client.get("/metrics"),
            await client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789abcdeg"}),
            await client.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"}),
            await client.get("/metrics", headers={"Authorization": METRICS_TOKEN}),
            await client.get("/metrics", params={"token": METRICS_TOKEN}),
        ]
        scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    for response in refused:
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert "METRICS_TOKEN" not in response.text
        assert METRICS_TOKEN not in response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "portfolio_llm_tokens_total" not in response.text
    assert scraped.status_code == 200
    assert "portfolio_http_requests_total" in scraped.text


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_without_a_metrics_token_metrics_stay_open_and_the_start_up_log_says_so(
    make_settings: Callable[..., Settings], client_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="portfolio_backend")
    async with client_for(make_settings()) as client:
        assert (await client.get("/metrics")).status_code == 200
    opened = [record.getMessage() for record in caplog.records if "METRICS_TOKEN" in record.getMessage()]
    caplog.clear()
    async with client_for(make_settings(metrics_token=METRICS_TOKEN)):
        pass
    protected = [record.getMessage() for record in caplog.records if "METRICS_TOKEN" in record.getMessage()]
    assert len(opened) == 1
    assert "/metrics is open" in opened[0]
    assert protected == []
