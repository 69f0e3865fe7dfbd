"""MCP_SERVERS: what start-up accepts, and a clear message naming the entry it refuses."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager

from portfolio_backend.app import create_app
from portfolio_backend.errors import StartupError
from portfolio_backend.mcp_client import load_servers, parse_servers
from portfolio_backend.mcp_client.tools import offered_name
from portfolio_backend.settings import Settings


def test_a_stdio_and_an_http_server_with_a_header_naming_an_environment_variable() -> None:
    servers = parse_servers(
        json.dumps(
            [
                {"name": "time", "command": "mcp-server-time", "args": ["--local-timezone", "UTC"]},
                {
                    "name": "cal",
                    "url": "https://mcp.example.com/mcp",
                    "headers": {"Authorization": "Bearer ${CAL_API_KEY}"},
                    "tools": ["book"],
                    "timeout": 30,
                },
            ]
        ),
        environ={"CAL_API_KEY": "cal-secret"},
    )
    assert [server.transport for server in servers] == ["stdio", "http"]
    assert servers[1].headers == {"Authorization": "Bearer cal-secret"}
    assert servers[1].allows("book")
    assert not servers[1].allows("cancel")
    assert servers[0].allows("anything")


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        pytest.param([{"name": "a", "command": "x", "url": "http://h/mcp"}], "entry 1 ('a')", id="both-transports"),
        pytest.param([{"name": "a"}], "give either `command`", id="no-transport"),
        pytest.param([{"name": "has_underscore", "command": "x"}], "name", id="bad-name"),
        pytest.param([{"name": "a", "url": "ftp://h"}], "url", id="bad-url"),
        pytest.param([{"name": "a", "command": "x"}, {"name": "a", "command": "y"}], "entry 2 ('a')", id="dup"),
        pytest.param([{"name": "a", "command": "x", "timeout": 0}], "timeout", id="zero-timeout"),
        pytest.param([{"name": "a", "command": "x", "colour": "red"}], "colour", id="unknown-field"),
        pytest.param({"name": "a"}, "JSON list", id="not-a-list"),
    ],
)
def test_a_bad_entry_stops_start_up_naming_it(entries: object, message: str) -> None:
    with pytest.raises(StartupError, match="MCP_SERVERS") as raised:
        parse_servers(json.dumps(entries), environ={})
    assert message in str(raised.value)


def test_a_header_naming_an_unset_variable_names_the_variable_not_a_value() -> None:
    entry = {"name": "cal", "url": "https://h/mcp", "headers": {"Authorization": "Bearer ${CAL_API_KEY}"}}
    with pytest.raises(StartupError, match="CAL_API_KEY is not set"):
        parse_servers(json.dumps([entry]), environ={"OTHER": "x"})


async def test_the_list_can_live_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps([{"name": "time", "command": "mcp-server-time"}]), encoding="utf-8")
    assert [server.name for server in await load_servers(str(path))] == ["time"]
    assert await load_servers("") == []
    with pytest.raises(StartupError, match="cannot be read"):
        await load_servers(str(tmp_path / "missing.json"))


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_the_service_does_not_start_with_a_bad_entry(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(mcp_servers='[{"name": "time"}]'))
    with pytest.raises(StartupError, match="entry 1 \\('time'\\)"):
        async with LifespanManager(app):
            pass


@pytest.mark.parametrize(
    ("server", "tool", "offered"),
    [
        pytest.param("time", "get_current_time", "time__get_current_time", id="plain"),
        pytest.param("cal", "bookings.create/v2", "cal__bookings_create_v2", id="characters-openai-refuses"),
        pytest.param("crm", "x" * 80, "crm__" + "x" * 59, id="capped-at-64"),
    ],
)
def test_tool_names_offered_to_the_model_fit_openais_pattern(server: str, tool: str, offered: str) -> None:
    name = offered_name(server, tool)
    assert name == offered
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", name)
