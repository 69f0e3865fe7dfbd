"""One owner's MCP server, kept connected: started with the service, restarted with back-off.

The link runs in its own background task, so start-up never waits for a server or fails because of
one. While connected it offers the server's (allowed) tools; when the server fails to start, dies or
stops answering, that is logged, its tools leave the offer and it is started again after 1, 2, 4 ...
up to 60 s. A stdio server is a child process: the SDK's stdio client ends it and waits for it when
the connection closes, so a restarted server leaves no zombie behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, Implementation, Tool
from mcp_types import CONNECTION_CLOSED

from .. import __version__
from .config import McpServerConfig

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
LAST_RETRY_SECONDS = 60.0
# How often a connected server is asked for its tools: finds one that died while idle (and picks up
# a changed list) without a call failing first. The 2026 protocol has no ping.
CHECK_SECONDS = 15.0
# Tool listings beyond this many pages are ignored: a server that pages forever cannot hang the link.
MAX_PAGES = 20
# Starting a server can take longer than one call (`npx` may fetch the package first): connecting
# and the first listing get at least this long, whatever the server's `timeout`.
CONNECT_SECONDS = 30.0


class ServerUnavailable(Exception):
    """The server is not connected (not started yet, failed, or restarting)."""


class ServerLink:
    """A connection to one MCP server, and the tools it offers while connected."""

    def __init__(self, config: McpServerConfig) -> None:
        self.config = config
        self.tools: list[Tool] = []  # the last listing (allowed tools), kept while disconnected for GET /tools
        self.connected = False
        self._client: Client | None = None
        self._broken = asyncio.Event()
        self.listing_version = 0  # bumped on every new listing, so tool adapters are rebuilt only then

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def _connect_seconds(self) -> float:
        return max(self.config.timeout, CONNECT_SECONDS)

    async def run(self) -> None:
        """Keep the server connected until cancelled; never raises (but CancelledError)."""
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                async with self._connect() as client:
                    async with asyncio.timeout(self._connect_seconds):
                        await self._list(client)
                    self._client, self.connected = client, True
                    self._broken.clear()
                    delay = FIRST_RETRY_SECONDS
                    log.info("MCP server %s connected: %d tools offered", self.name, len(self.tools))
                    await self._watch(client)
                    log.warning("MCP server %s stopped answering; restarting it", self.name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of a third-party server is logged, never fatal
                log.warning("MCP server %s unavailable (%s); retrying in %g s", self.name, _describe(exc), delay)
            finally:
                self._client, self.connected = None, False
            await asyncio.sleep(delay)
            delay = min(delay * 2, LAST_RETRY_SECONDS)

    async def call(self, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        """Call one of the server's tools; ServerUnavailable when it is not connected or the
        connection closes during the call (the link then restarts it), MCPError for a refusal."""
        client = self._client
        if client is None:
            raise ServerUnavailable(f"the {self.name} server is not available right now")
        try:
            return await client.call_tool(tool, arguments, read_timeout_seconds=self.config.timeout)
        except MCPError as exc:
            if exc.code != CONNECTION_CLOSED:
                raise
            self._broken.set()
            raise ServerUnavailable(f"the {self.name} server stopped during the call") from exc

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[Client]:
        info = Implementation(name="portfolio-backend", version=__version__)
        async with contextlib.AsyncExitStack() as stack:
            if self.config.command is not None:
                # `env` replaces the SDK's safe defaults only by adding to them: the service's own
                # secrets (OPENAI_API_KEY ...) are never inherited by a child
                server: Any = StdioServerParameters(
                    command=self.config.command, args=self.config.args, env=self.config.env or None
                )
            else:
                assert self.config.url is not None
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(
                        headers=self.config.headers,
                        # no read timeout of its own: a server's event stream may idle for long; each
                        # call is bounded by `timeout` (here and in the registry), each listing too
                        timeout=httpx2.Timeout(None, connect=min(self.config.timeout, 10.0)),
                    )
                )
                server = streamable_http_client(self.config.url, http_client=http)
            async with asyncio.timeout(self._connect_seconds):
                client = await stack.enter_async_context(
                    Client(server, read_timeout_seconds=self.config.timeout, client_info=info, cache=None)
                )
            yield client

    async def _list(self, client: Client) -> None:
        tools: list[Tool] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await client.list_tools(cursor=cursor, cache_mode="bypass")
            tools.extend(tool for tool in page.tools if self.config.allows(tool.name))
            cursor = page.next_cursor
            if cursor is None:
                break
        if [tool.model_dump() for tool in tools] != [tool.model_dump() for tool in self.tools]:
            self.tools = tools
            self.listing_version += 1

    async def _watch(self, client: Client) -> None:
        """Return when the connection is broken: a call saw it close, or a listing failed."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CHECK_SECONDS):
                    await self._broken.wait()
                    return
            try:
                async with asyncio.timeout(self.config.timeout):
                    await self._list(client)
            except (MCPError, TimeoutError, OSError) as exc:
                log.warning("MCP server %s did not answer a tool listing (%s)", self.name, _describe(exc))
                return


def _describe(exc: BaseException) -> str:
    """One line for the log: the innermost errors of an exception group, never a traceback."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(inner) for inner in exc.exceptions)
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"
