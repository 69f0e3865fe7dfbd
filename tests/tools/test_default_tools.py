"""The default tool list: what the model is offered, and the bounds every argument schema carries."""

from __future__ import annotations

from typing import Any

import pytest

from portfolio_backend.tools import Tool
from portfolio_backend.tools import default_tools as build_default_tools

from .conftest import MakeSettings, ToolBench

ALWAYS = ["get_current_time", "get_weather", "calculate", "get_session_info", "create_reminder"]
CONFIGURED = ["web_search", "record_user_details", "record_unknown_question"]
KNOWLEDGE = ["search_knowledge"]  # enabled when there is owner knowledge: tests/tools/test_search_knowledge.py


def _string_fields(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    fields = []
    for name, prop in schema.get("properties", {}).items():
        variants = prop.get("anyOf", [prop])
        fields += [(name, variant) for variant in variants if variant.get("type") == "string"]
    return fields


@pytest.mark.parametrize("tool", build_default_tools(), ids=lambda tool: tool.name)
def test_every_argument_is_described_and_every_string_bounded(tool: Tool[Any]) -> None:
    schema = tool.Args.model_json_schema()
    assert tool.description
    for name, prop in schema["properties"].items():
        assert prop.get("description"), f"{tool.name}.{name} has no description"
    for name, variant in _string_fields(schema):
        assert variant.get("maxLength", 10**9) <= 1000, f"{tool.name}.{name} is not bounded"


async def test_only_configured_tools_are_offered(bench: ToolBench) -> None:
    assert [spec["function"]["name"] for spec in bench.registry.specs()] == ALWAYS
    assert sorted(tool["name"] for tool in bench.registry.describe()) == sorted(ALWAYS + CONFIGURED + KNOWLEDGE)


def test_configured_tools_are_offered_once_configured(bench: ToolBench, tool_settings: MakeSettings) -> None:
    settings = tool_settings(searxng_url="http://127.0.0.1:9", notify_webhook_url="http://127.0.0.1:9/notify")
    configured = ToolBench(settings, bench.stores, bench.http)
    offered = [spec["function"]["name"] for spec in configured.registry.specs()]
    assert sorted(offered) == sorted(ALWAYS + CONFIGURED)
    assert all(tool["enabled"] for tool in configured.registry.describe() if tool["name"] not in KNOWLEDGE)
