"""CORS from CORS_ORIGINS: an allowlist may send credentials; `*` never does (Starlette would echo any Origin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portfolio_backend.settings import Settings

pytestmark = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


async def test_an_allowed_origin_may_stream_and_read_the_quota_headers(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(cors_origins="https://alex.dev")) as client:
        preflight = await client.options("/stream", headers={"Origin": "https://alex.dev", **PREFLIGHT})
        response = await client.post("/stream", json={"prompt": "hi"}, headers={"Origin": "https://alex.dev"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://alex.dev"
    assert response.headers["access-control-allow-origin"] == "https://alex.dev"
    assert "x-ratelimit-remaining" in response.headers["access-control-expose-headers"].lower()


async def test_a_site_using_the_ai_sdk_may_chat_and_read_the_session_and_quota_headers(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    """What docs/ai-sdk.md promises a Next.js site on another origin, its Stop button included."""
    chat = {"id": "c1", "messages": [{"id": "m1", "role": "user", "parts": [{"type": "text", "text": "hi"}]}]}
    async with client_for(make_settings(cors_origins="https://alex.dev")) as client:
        preflight = await client.options("/api/chat", headers={"Origin": "https://alex.dev", **PREFLIGHT})
        response = await client.post("/api/chat", json=chat, headers={"Origin": "https://alex.dev"})
        stop_preflight = await client.options(
            "/api/chat/c1/stream", headers={"Origin": "https://alex.dev", "Access-Control-Request-Method": "DELETE"}
        )
    assert preflight.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://alex.dev"
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "x-session-id" in exposed
    assert "x-ratelimit-remaining" in exposed
    # the page's Stop button calls DELETE /api/chat/{id}/stream; the turn id is readable too
    assert "x-turn-id" in exposed
    assert response.headers["x-turn-id"]
    assert stop_preflight.status_code == 200
    assert "DELETE" in stop_preflight.headers["access-control-allow-methods"]


async def test_an_unlisted_origin_is_refused(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings(cors_origins="https://alex.dev")) as client:
        preflight = await client.options("/stream", headers={"Origin": "https://evil.example", **PREFLIGHT})
        response = await client.get("/health", headers={"Origin": "https://evil.example", "Cookie": "a=b"})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_wildcard_never_allows_credentials(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings(cors_origins="*")) as client:
        response = await client.get("/health", headers={"Origin": "https://any.example", "Cookie": "session=1"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


async def test_without_cors_origins_no_cors_headers_are_sent(client: Any) -> None:
    response = await client.get("/health", headers={"Origin": "https://alex.dev"})
    assert "access-control-allow-origin" not in response.headers
