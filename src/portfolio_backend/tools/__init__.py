"""Tools the model may call: one module per tool, all registered here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..settings import Settings
from .base import Tool, ToolContext, ToolError
from .calculator import Calculator
from .current_time import CurrentTime
from .knowledge import SearchKnowledge
from .leads import RecordUnknownQuestion, RecordUserDetails
from .registry import InvalidArguments, ToolRegistry, ToolResult, ToolSource, UnknownTool
from .reminder import CreateReminder
from .session_info import SessionInfo
from .weather import Weather
from .web_search import WebSearch

if TYPE_CHECKING:
    from ..knowledge import Knowledge
    from ..quota import Limiter


def default_tools(knowledge: Knowledge | None = None) -> list[Tool[Any]]:
    """Every tool, in the order GET /tools lists them; each call builds fresh instances (and caches)."""
    return [
        CurrentTime(),
        Weather(),
        Calculator(),
        WebSearch(),
        SessionInfo(),
        CreateReminder(),
        RecordUserDetails(),
        RecordUnknownQuestion(),
        SearchKnowledge(knowledge),
    ]


def registry_from_settings(
    settings: Settings,
    knowledge: Knowledge | None = None,
    source: ToolSource | None = None,
    limiter: Limiter | None = None,
) -> ToolRegistry:
    """The built-in tools, and those of `source` (the owner's MCP servers) beside them; `limiter`:
    the app's, for the tools that charge a quota (the lead tools' notifications)."""
    return ToolRegistry(default_tools(knowledge), settings, source, limiter)


__all__ = [
    "InvalidArguments",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "ToolSource",
    "UnknownTool",
    "registry_from_settings",
]
