"""The visitor quota over HTTP: headers, 429s, what is free, refunds, and the other bounds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedUpstream
from ..sse import parse_events


async def test_every_stream_response_carries_rate_limit_headers_and_the_eleventh_is_429(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings()) as client:
        remaining = []
        for _ in range(10):
            response = await client.post("/stream", json={"prompt": "hi"})
            assert response.status_code == 200
            assert response.headers["x-ratelimit-limit"] == "10"
            assert int(response.headers["x-ratelimit-reset"]) % 86400 == 0
            assert response.headers["ratelimit-policy"] == '"chat";q=10;w=86400'
            remaining.append(int(response.headers["x-ratelimit-remaining"]))
        refused = await client.post("/stream", json={"prompt": "hi"})
        info = (await client.get("/rate-limit-info")).json()
    assert remaining == list(range(9, -1, -1))
    assert refused.status_code == 429
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert int(refused.headers["retry-after"]) > 0
    body = refused.json()
    assert body["error"] == "rate_limited"
    assert "10/day" in body["detail"]
    assert body["reset"] == int(refused.headers["x-ratelimit-reset"])
    assert info["current_requests"] == 10
    assert info["remaining"] == 0


async def test_rate_limit_info_has_every_field_and_spends_nothing(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(), ip="198.51.100.20") as client:
        await client.post("/stream", json={"prompt": "hi"})
        for _ in range(3):
            info = (await client.get("/rate-limit-info")).json()
    assert info["ip"] == "198.51.100.20"
    assert (info["current_requests"], info["limit"], info["remaining"]) == (1, 10, 9)
    assert info["reset"] % 86400 == 0
    assert info["reset_at"].endswith("T00:00:00Z")


async def test_visitors_have_separate_quotas(make_settings: Callable[..., Settings], client_for: Any) -> None:
    settings = make_settings(rate_limit="1/day")
    async with client_for(settings, ip="198.51.100.1") as first:
        assert (await first.post("/stream", json={"prompt": "hi"})).status_code == 200
        assert (await first.post("/stream", json={"prompt": "hi"})).status_code == 429
    async with client_for(settings, ip="198.51.100.2") as second:
        assert (await second.post("/stream", json={"prompt": "hi"})).status_code == 200


async def test_forged_forwarded_for_does_not_dodge_the_quota(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(rate_limit="1/day"), ip="198.51.100.1") as client:
        await client.post("/stream", json={"prompt": "hi"})
        forged = await client.post("/stream", json={"prompt": "hi"}, headers={"X-Forwarded-For": "1.2.3.4"})
    assert forged.status_code == 429


async def test_a_trusted_proxy_gives_each_client_its_own_quota(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(rate_limit="1/day", trusted_proxies="10.0.0.0/8"), ip="10.0.0.2") as proxy:
        a = await proxy.post("/stream", json={"prompt": "hi"}, headers={"X-Forwarded-For": "203.0.113.1"})
        b = await proxy.post("/stream", json={"prompt": "hi"}, headers={"X-Forwarded-For": "203.0.113.2"})
        again = await proxy.post("/stream", json={"prompt": "hi"}, headers={"X-Forwarded-For": "9.9.9.9, 203.0.113.1"})
        info = (await proxy.get("/rate-limit-info", headers={"X-Forwarded-For": "203.0.113.2"})).json()
    assert (a.status_code, b.status_code, again.status_code) == (200, 200, 429)
    assert info["ip"] == "203.0.113.2"


async def test_rotating_ipv6_addresses_in_one_64_share_a_quota(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    settings = make_settings(rate_limit="2/day")
    statuses = []
    for host in ("2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6:ffff::3"):
        async with client_for(settings, ip=host) as client:
            statuses.append((await client.post("/stream", json={"prompt": "hi"})).status_code)
    assert statuses == [200, 200, 429]


async def test_validation_errors_are_free(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings(rate_limit="1/day")) as client:
        for _ in range(5):
            await client.post("/stream", json={"prompt": ""})
            await client.post("/stream", content=b"{")
        assert (await client.post("/stream", json={"prompt": "hi"})).status_code == 200


async def test_an_upstream_failure_before_any_text_is_refunded(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(status=500), Reply(chunks=["partial "], cut_after=1))
    async with client_for(upstream_settings(rate_limit="5/day")) as client:
        failed = await client.post("/stream", json={"prompt": "hi"})
        assert parse_events(failed.text)[-1]["type"] == "error"
        assert (await client.get("/rate-limit-info")).json()["current_requests"] == 0
        cut = await client.post("/stream", json={"prompt": "hi"})
        assert parse_events(cut.text)[-1]["type"] == "error"
        # text reached the visitor before the cut: that turn counts
        assert (await client.get("/rate-limit-info")).json()["current_requests"] == 1


async def test_session_creation_is_bounded_per_visitor(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings(session_create_limit="30/day")) as client:
        statuses = [(await client.post("/session")).status_code for _ in range(300)]
        listed = (await client.get("/sessions")).json()
    assert statuses.count(200) == 30
    assert statuses.count(429) == 270
    assert listed["total_sessions"] == 30


async def test_tool_tests_are_bounded_per_visitor(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings(tools_test_limit="2/day")) as client:
        body = {"tool_name": "get_current_time", "arguments": {}}
        statuses = [(await client.post("/tools/test", json=body)).status_code for _ in range(3)]
        refused = await client.post("/tools/test", json=body)
    assert statuses == [200, 200, 429]
    assert "tool tests" in refused.json()["detail"]
    assert refused.headers["retry-after"]


async def test_the_global_daily_cap_stops_a_distributed_crowd(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    settings = make_settings(global_daily_requests=3)
    statuses = []
    for number in range(5):
        async with client_for(settings, ip=f"198.51.100.{number + 1}") as client:
            statuses.append((await client.post("/stream", json={"prompt": "hi"})).status_code)
            if statuses[-1] == 429:
                assert "daily capacity" in (await client.post("/stream", json={"prompt": "hi"})).json()["detail"]
    assert statuses == [200, 200, 200, 429, 429]
