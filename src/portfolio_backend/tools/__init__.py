"""Tools the model may call: one module per tool, all registered here."""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from .base import Tool, ToolContext, ToolError
from .calculator import Calculator
from .current_time import CurrentTime
from .leads import RecordUnknownQuestion, RecordUserDetails
from .registry import InvalidArguments, ToolRegistry, ToolResult, UnknownTool
from .reminder import CreateReminder
from .session_info import SessionInfo
from .weather import Weather
from .web_search import WebSearch


def default_tools() -> list[Tool[Any]]:
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
    ]


def registry_from_settings(settings: Settings) -> ToolRegistry:
    return ToolRegistry(default_tools(), settings)


__all__ = [
    "InvalidArguments",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "UnknownTool",
    "registry_from_settings",
]
