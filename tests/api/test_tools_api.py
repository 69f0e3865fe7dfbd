"""GET /tools and POST /tools/test."""

from __future__ import annotations

import httpx2
import pytest


async def test_tools_lists_the_six_documented_tools_with_schemas(client: httpx2.AsyncClient) -> None:
    body = (await client.get("/tools")).json()
    names = {tool["name"] for tool in body["tools"]}
    assert names >= {
        "get_current_time",
        "get_weather",
        "calculate",
        "web_search",
        "get_session_info",
        "create_reminder",
    }
    by_name = {tool["name"]: tool for tool in body["tools"]}
    assert by_name["calculate"]["parameters"]["required"] == ["expression"]
    assert by_name["calculate"]["enabled"] is True
    assert by_name["web_search"]["enabled"] is False  # no search provider configured


async def test_tools_test_runs_the_calculator(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        "/tools/test", json={"tool_name": "calculate", "arguments": {"expression": "2 + 2 * 3"}}
    )
    assert response.status_code == 200
    assert response.json()["result"] == "Result: 2 + 2 * 3 = 8"


async def test_tools_test_unknown_tool_is_404(client: httpx2.AsyncClient) -> None:
    response = await client.post("/tools/test", json={"tool_name": "rm_rf", "arguments": {}})
    assert response.status_code == 404
    assert "rm_rf" in response.json()["detail"]


async def test_tools_test_bad_arguments_are_422_with_the_reason(client: httpx2.AsyncClient) -> None:
    response = await client.post("/tools/test", json={"tool_name": "calculate", "arguments": {}})
    assert response.status_code == 422
    assert "expression" in response.json()["detail"]


async def test_an_unknown_time_zone_is_a_clear_tool_error(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        "/tools/test", json={"tool_name": "get_current_time", "arguments": {"timezone": "Mars/Olympus"}}
    )
    assert response.status_code == 200
    assert response.json()["success"] is False
    assert "Unknown time zone" in response.json()["result"]


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"tool_name": "calculate", "arguments": {"expression": "1 + \\ud800"}}', id="in-arguments"),
        pytest.param(b'{"tool_name": "calc\\udc00", "arguments": {}}', id="in-the-name"),
        pytest.param(b'{"tool_name": "calculate", "arguments": {"\xed\xb0\x80": 1}}', id="raw-in-a-key"),
    ],
)
async def test_a_lone_surrogate_anywhere_in_the_body_is_422(client: httpx2.AsyncClient, body: bytes) -> None:
    response = await client.post("/tools/test", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert "lone surrogate" in response.json()["detail"]
