"""web_search against a fake SearXNG and a fake Tavily over real HTTP; off when neither is set."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from portfolio_backend.store import Stores

from ..fixtures.fake_http import Answer, FakeHTTP, closed_port_url
from .conftest import MakeSettings, ToolBench

TAVILY_KEY = "tvly-test-secret-0123456789"


def result(n: int, **extra: Any) -> dict[str, Any]:
    return {"title": f"Result {n}", "url": f"https://example.org/{n}", "content": f"Snippet {n}.", **extra}


def searxng_bench(fake_http: FakeHTTP, make: MakeSettings, stores: Stores, http: Any, **overrides: Any) -> ToolBench:
    return ToolBench(make(searxng_url=fake_http.url("/searx/"), **overrides), stores, http)


def tavily_bench(fake_http: FakeHTTP, make: MakeSettings, stores: Stores, http: Any, **overrides: Any) -> ToolBench:
    values = {"tavily_api_key": TAVILY_KEY, "tavily_url": fake_http.url("/tavily/search"), **overrides}
    return ToolBench(make(**values), stores, http)


async def test_is_disabled_and_not_offered_without_a_provider(bench: ToolBench) -> None:
    offered = [spec["function"]["name"] for spec in bench.registry.specs()]
    listed = {tool["name"]: tool["enabled"] for tool in bench.registry.describe()}

    assert "web_search" not in offered
    assert listed["web_search"] is False
    assert await bench.call("web_search", {"query": "python"}) == (
        False,
        "Error: Unknown or disabled tool: 'web_search'",
    )


async def test_searxng_results_are_listed_as_title_url_snippet(
    fake_http: FakeHTTP, tool_settings: MakeSettings, plain_stores: Stores, http: Any
) -> None:
    fake_http.on("GET", "/searx/search", Answer(body={"results": [result(n) for n in range(1, 9)]}))
    bench = searxng_bench(fake_http, tool_settings, plain_stores, http)

    ok, text = await bench.call("web_search", {"query": "  fastapi   streaming "})

    assert ok
    assert text.splitlines() == [
        "Web results for 'fastapi streaming' (third-party content):",
        *(f"{n}. Result {n} — https://example.org/{n} — Snippet {n}." for n in range(1, 6)),
    ]
    (request,) = fake_http.requests
    assert request.path == "/searx/search"
    assert request.query == {"q": "fastapi streaming", "format": "json"}
    assert "web_search" in [spec["function"]["name"] for spec in bench.registry.specs()]


async def test_results_are_cleaned_and_trimmed(
    fake_http: FakeHTTP, tool_settings: MakeSettings, plain_stores: Stores, http: Any
) -> None:
    items = [
        {"title": "Script", "url": "javascript:alert(1)", "content": "not a web page"},
        {"title": "  Many\n\n  lines\t", "url": "https://example.org/a", "content": "word " * 200},
        {"url": "https://example.org/untitled"},
        "not an object",
    ]
    fake_http.on("GET", "/searx/search", Answer(body={"results": items}))
    bench = searxng_bench(fake_http, tool_settings, plain_stores, http)

    ok, text = await bench.call("web_search", {"query": "q"})

    assert ok
    _, first, second = text.splitlines()
    assert first.startswith("1. Many lines — https://example.org/a — word word")
    assert first.endswith("…")
    assert len(first.split(" — ")[2]) == 300
    assert second == "2. https://example.org/untitled — https://example.org/untitled"
    assert "javascript" not in text


async def test_no_results_is_said_plainly(
    fake_http: FakeHTTP, tool_settings: MakeSettings, plain_stores: Stores, http: Any
) -> None:
    fake_http.on("GET", "/searx/search", Answer(body={"results": []}))
    bench = searxng_bench(fake_http, tool_settings, plain_stores, http)
    assert await bench.call("web_search", {"query": "zzqx"}) == (True, "No web results for 'zzqx'.")


async def test_tavily_gets_the_key_and_the_results_never_show_it(
    fake_http: FakeHTTP, tool_settings: MakeSettings, plain_stores: Stores, http: Any
) -> None:
    fake_http.on("POST", "/tavily/search", Answer(body={"query": "q", "results": [result(1), result(2)]}))
    bench = tavily_bench(fake_http, tool_settings, plain_stores, http)

    ok, text = await bench.call("web_search", {"query": "uv workspaces"})

    assert ok
    assert text.splitlines()[1:] == [
        "1. Result 1 — https://example.org/1 — Snippet 1.",
        "2. Result 2 — https://example.org/2 — Snippet 2.",
    ]
    assert TAVILY_KEY not in text
    (request,) = fake_http.requests
    assert request.headers["authorization"] == f"Bearer {TAVILY_KEY}"
    body = request.json()
    assert body["query"] == "uv workspaces"
    assert body["max_results"] == 5


async def test_a_tavily_failure_names_the_service_but_not_the_key(
    fake_http: FakeHTTP,
    tool_settings: MakeSettings,
    plain_stores: Stores,
    http: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_http.on("POST", "/tavily/search", Answer(401, {"detail": {"error": f"Unauthorized: {TAVILY_KEY}"}}))
    bench = tavily_bench(fake_http, tool_settings, plain_stores, http)

    with caplog.at_level(logging.DEBUG):
        ok, text = await bench.call("web_search", {"query": "q"})

    assert (ok, text) == (False, "Error: The search service (Tavily) answered with an error (HTTP 401)")
    assert TAVILY_KEY not in caplog.text


async def test_falls_back_to_tavily_when_searxng_fails(
    fake_http: FakeHTTP, tool_settings: MakeSettings, plain_stores: Stores, http: Any
) -> None:
    fake_http.on("GET", "/searx/search", Answer(502, {}))
    fake_http.on("POST", "/tavily/search", Answer(body={"results": [result(7)]}))
    bench = tavily_bench(fake_http, tool_settings, plain_stores, http, searxng_url=fake_http.url("/searx"))

    ok, text = await bench.call("web_search", {"query": "q"})

    assert ok
    assert "1. Result 7 — https://example.org/7 — Snippet 7." in text
    assert [request.path for request in fake_http.requests] == ["/searx/search", "/tavily/search"]


async def test_every_provider_failing_is_one_clear_error(
    tool_settings: MakeSettings, plain_stores: Stores, http: Any
) -> None:
    down = closed_port_url()
    settings = tool_settings(searxng_url=down, tavily_api_key=TAVILY_KEY, tavily_url=f"{down}/search")
    bench = ToolBench(settings, plain_stores, http)

    assert await bench.call("web_search", {"query": "q"}) == (
        False,
        "Error: The search service (SearXNG) is unreachable right now; "
        "The search service (Tavily) is unreachable right now",
    )


async def test_an_unexpected_answer_is_a_clear_error(
    fake_http: FakeHTTP, tool_settings: MakeSettings, plain_stores: Stores, http: Any
) -> None:
    fake_http.on("GET", "/searx/search", Answer(body={"answers": ["no results key"]}))
    bench = searxng_bench(fake_http, tool_settings, plain_stores, http)
    assert await bench.call("web_search", {"query": "q"}) == (
        False,
        "Error: The search service sent an unexpected answer",
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "query: String should have at least 1 character"),
        ("q" * 301, "query: String should have at most 300 characters"),
    ],
)
async def test_bad_queries_are_argument_errors(
    fake_http: FakeHTTP, tool_settings: MakeSettings, plain_stores: Stores, http: Any, query: str, message: str
) -> None:
    bench = searxng_bench(fake_http, tool_settings, plain_stores, http)
    assert await bench.call("web_search", {"query": query}) == (False, f"Error: {message}")
    assert fake_http.requests == []
