"""The tool registry: what is offered to the model, and the one place tool calls are run.

Every call is validated against the tool's argument model, bounded in time and in result size;
any failure becomes a plain-words error result the model can read, never an exception upstream.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ValidationError

from ..errors import PortfolioError
from ..settings import Settings
from .base import Tool, ToolContext, ToolError

if TYPE_CHECKING:
    from ..quota import Limiter

log = logging.getLogger(__name__)


class UnknownTool(PortfolioError, LookupError):
    pass


class InvalidArguments(PortfolioError, ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ToolResult:
    tool_name: str
    result: str
    ok: bool


def validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(item) for item in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


class ToolSource(Protocol):
    """Tools that come and go while the service runs (the owner's MCP servers, mcp_client/)."""

    def offered(self) -> list[Tool[Any]]:
        """The tools that can be called now."""
        ...

    def listed(self) -> list[Tool[Any]]:
        """Every tool known, callable now or not."""
        ...


class ToolRegistry:
    def __init__(
        self,
        tools: Iterable[Tool[Any]],
        settings: Settings,
        source: ToolSource | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self.settings = settings
        self.limiter = limiter  # the app's, handed to tools that charge a quota (ToolContext.limiter)
        self.tools = {tool.name: tool for tool in tools}
        self.source = source
        self._offered_key: tuple[tuple[int, str], ...] = ()
        self._offered_specs: list[dict[str, Any]] = []
        self._specs = [self._spec(tool) for tool in self.tools.values() if tool.enabled(settings)]

    @staticmethod
    def _spec(tool: Tool[Any]) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters(),
            },
        }

    def specs(self) -> list[dict[str, Any]]:
        """The `tools` parameter for the chat completions API: enabled tools only."""
        if self.source is None:
            return self._specs
        offered = self.source.offered()
        if not offered:
            return self._specs
        # the same list while the offer is the same: callers (the budget estimate) count it once
        key = tuple((id(tool), tool.name) for tool in offered)
        if key != self._offered_key:
            self._offered_key, self._offered_specs = key, [*self._specs, *(self._spec(tool) for tool in offered)]
        return self._offered_specs

    def describe(self) -> list[dict[str, Any]]:
        """What GET /tools lists: every tool, its schema, whether it is enabled and where it comes from."""
        listed = [*self.tools.values(), *(self.source.listed() if self.source is not None else ())]
        return [
            {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters(),
                "enabled": tool.enabled(self.settings),
                "origin": tool.origin,
            }
            for tool in listed
        ]

    def labels(self) -> dict[str, str]:
        """What the chat widget shows for each tool that has a label, by name (disabled ones too: history)."""
        return {tool.name: tool.label for tool in self.tools.values() if tool.label}

    def parse(self, name: str, arguments: str | dict[str, Any] | None) -> tuple[Tool[Any], BaseModel]:
        """Find an enabled tool and validate its arguments; UnknownTool or InvalidArguments."""
        tool = self.tools.get(name)
        if tool is None and self.source is not None:
            tool = next((found for found in self.source.offered() if found.name == name), None)
        if tool is None or not tool.enabled(self.settings):
            raise UnknownTool(f"Unknown or disabled tool: {name!r}")
        if isinstance(arguments, str):
            try:
                # strict=False: a raw newline or tab inside a string, which small models under
                # llama.cpp's JSON grammar write, is read as itself rather than refused
                arguments = json.loads(arguments, strict=False) if arguments.strip() else {}
            except json.JSONDecodeError as exc:
                raise InvalidArguments(f"arguments are not valid JSON ({exc.msg})") from exc
        if not isinstance(arguments, dict):
            raise InvalidArguments("arguments must be a JSON object")
        try:
            return tool, tool.Args.model_validate(arguments)
        except ValidationError as exc:
            raise InvalidArguments(validation_message(exc)) from exc

    async def call(self, name: str, arguments: str | dict[str, Any] | None, ctx: ToolContext) -> ToolResult:
        """Run one tool call from the model; every failure is returned as an error result."""
        try:
            tool, args = self.parse(name, arguments)
            return ToolResult(name, await self.run(tool, args, ctx), True)
        except (UnknownTool, InvalidArguments, ToolError) as exc:
            return ToolResult(name, f"Error: {exc}", False)

    async def run(self, tool: Tool[Any], args: BaseModel, ctx: ToolContext) -> str:
        """Run validated arguments with the time and size bounds; raises ToolError."""
        limit = tool.timeout_seconds or self.settings.tool_timeout_seconds
        if ctx.limiter is None and self.limiter is not None:
            ctx = replace(ctx, limiter=self.limiter)  # a copy: its passages_found list is the same one
        try:
            async with asyncio.timeout(limit):
                result = await tool.run(args, ctx)
        except TimeoutError as exc:
            raise ToolError(f"{tool.name} took longer than {limit:g} s") from exc
        except ToolError:
            raise
        except Exception as exc:  # a bug in a tool must not end the visitor's stream
            log.exception("tool %s failed", tool.name)
            raise ToolError(f"{tool.name} failed unexpectedly") from exc
        cap = self.settings.tool_result_max_chars
        return result if len(result) <= cap else result[: cap - 1] + "…"
