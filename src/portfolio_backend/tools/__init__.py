"""Tools the model may call: one module per tool, all registered here."""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from .base import Tool, ToolContext, ToolError
from .current_time import CurrentTime
from .registry import InvalidArguments, ToolRegistry, ToolResult, UnknownTool
from .session_info import SessionInfo


def default_tools() -> list[Tool[Any]]:
    return [CurrentTime(), SessionInfo()]


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
