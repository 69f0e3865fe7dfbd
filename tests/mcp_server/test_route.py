"""/mcp as a route of the app: behind MCP_ENABLED, CORS_ORIGINS and the request edge like the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portfolio_backend.settings import Settings

pytestmark = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


async def test_mcp_enabled_false_serves_no_mcp_route(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings(mcp_enabled=False)) as client:
        response = await client.post("/mcp", json=LIST_TOOLS, headers=MCP_HEADERS)
    assert response.status_code == 404


async def test_a_browser_agent_on_an_allowed_origin_may_call_it(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    origin = {"Origin": "https://alex.dev"}
    preflight_headers = {
        **origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,mcp-protocol-version",
    }
    async with client_for(make_settings(cors_origins="https://alex.dev")) as client:
        preflight = await client.options("/mcp", headers=preflight_headers)
        refused = await client.options("/mcp", headers={**preflight_headers, "Origin": "https://evil.example"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://alex.dev"
    assert refused.status_code == 400  # Starlette refuses a preflight from an origin not on the list


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b'{"jsonrpc": "2.0", "id": 1}', id="no-method"),
        pytest.param(b"[" * 50_000 + b"]" * 50_000, id="deep"),
        pytest.param(b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": 7}}', id="bad-params"),
    ],
)
async def test_malformed_requests_are_answered_without_a_500(
    make_settings: Callable[..., Settings], client_for: Any, body: bytes
) -> None:
    async with client_for(make_settings()) as client:
        response = await client.post("/mcp", content=body, headers=MCP_HEADERS)
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
