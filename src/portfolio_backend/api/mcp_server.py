"""The site as an MCP server at /mcp: agents ask what visitors ask, with the same quotas and budgets.

Streamable HTTP through the official SDK, stateless (no session handshake kept in memory), so any
replica answers any request with no sticky sessions; JSON responses. Tools: `ask` (one grounded turn
through the visitor's lifecycle, mcp_ask.py), `search_knowledge` (the owner's passages and their
sources) and `contact_owner` (a lead, by the chat's lead tool and its rules). Resources: the owner's
knowledge sources. The route sits behind the same middleware as every other one (CORS, the
request edge) and the caller is identified as any visitor is (TRUSTED_PROXIES).

Every failure is an MCP tool error with a message written for the agent: never a traceback, never
a 500. The SDK's own Host/Origin check (DNS rebinding) is off: it is meant for servers on a
developer's machine, and would refuse every request behind the production proxy; browsers are held
by CORS_ORIGINS as on every route.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import quote

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError, UnexpectedToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, InputRequiredResult, Resource
from pydantic import AnyUrl, BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..deps import visitor_of
from ..errors import PortfolioError, RateLimited
from ..knowledge import Knowledge, Passage
from ..settings import Settings
from ..tools import InvalidArguments, ToolContext, UnknownTool
from ..tools import ToolError as OurToolError
from ..tools.registry import validation_message
from .mcp_ask import QuestionRefused, answer_question

log = logging.getLogger(__name__)

PATH = "/mcp"
SEARCH_RESULTS = 5
FILE_SCHEME = "knowledge:///"
INSTRUCTIONS = (
    "The assistant of this site, for agents. `ask` answers a question about the site's owner from their own "
    "pages and documents, as the chat on the site does (pass `conversation_id` back to continue); "
    "`search_knowledge` returns the passages themselves with their sources; `contact_owner` passes a "
    "message and an email address to the owner. Quotas and daily budgets apply as to any visitor."
)


class Source(BaseModel):
    title: str
    url: str | None = None
    file: str | None = None
    snippet: str = ""


class AskResult(BaseModel):
    answer: str = Field(description="The assistant's answer, in Markdown.")
    sources: list[Source] = Field(description="The owner's pages and documents the answer used.")
    conversation_id: str = Field(description="Pass it back as `conversation_id` to ask a follow-up.")


class FoundPassage(BaseModel):
    text: str
    title: str
    section: str
    url: str | None = None
    file: str | None = None


class SearchResult(BaseModel):
    passages: list[FoundPassage]


class ContactResult(BaseModel):
    recorded: bool
    message: str


class SiteServer:
    """The MCP server and its ASGI route; the lifespan runs `session_manager` while the app runs."""

    def __init__(self) -> None:
        self.knowledge: Knowledge | None = None  # set by the lifespan once the index is open
        # MCPServer() calls logging.basicConfig, which adds a handler to a root logger that has none
        # (in tests, or before logs.configure_logging): the service's log format is its own to set
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        self.server = _Site(self, "portfolio-backend", version=__version__, instructions=INSTRUCTIONS)
        root.handlers[:] = handlers
        root.setLevel(level)
        self._register_tools()
        self.session_manager = StreamableHTTPSessionManager(
            app=self.server._lowlevel_server,
            json_response=True,
            stateless=True,
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    def route(self) -> Route:
        named = _Named(StreamableHTTPASGIApp(self.session_manager))
        named.route = Route(PATH, named, methods=["GET", "POST", "DELETE"])
        return named.route

    def _register_tools(self) -> None:
        server = self.server

        @server.tool(
            title="Ask the site's assistant",
            description="Ask a question about the site's owner (their work, projects, services, availability); "
            "answered from their own pages and documents, with the sources used.",
        )
        async def ask(
            question: Annotated[str, Field(min_length=1, max_length=4000, description="The question.")],
            ctx: Context,
            conversation_id: Annotated[
                str | None, Field(max_length=64, description="From an earlier answer, to ask a follow-up.")
            ] = None,
        ) -> AskResult:
            request = _request(ctx)
            settings: Settings = request.state.settings
            if len(question) > settings.prompt_max_chars:
                raise ToolError(f"The question is too long: at most {settings.prompt_max_chars} characters.")
            if not question.strip():
                raise ToolError("The question is empty.")
            try:
                visitor = await visitor_of(request, settings)
                found = await answer_question(request.state.turns, visitor.key, question, conversation_id)
            except RateLimited as exc:
                raise ToolError(_refusal(exc)) from None
            except QuestionRefused as exc:
                raise ToolError(str(exc)) from None
            except PortfolioError as exc:
                raise ToolError(exc.public_detail) from None
            return AskResult(
                answer=found.answer,
                sources=[Source(**source) for source in found.sources],
                conversation_id=found.conversation_id,
            )

        @server.tool(
            title="Search the owner's pages",
            description="Search the site owner's own pages, résumé and notes; returns the best passages and "
            "their sources, for an agent that wants the text itself rather than an answer.",
        )
        async def search_knowledge(
            query: Annotated[str, Field(min_length=1, max_length=500, description="A few words to look up.")],
        ) -> SearchResult:
            if self.knowledge is None or not self.knowledge.available:
                raise ToolError("This site has no pages or documents to search.")
            try:
                passages = await self.knowledge.search(query, SEARCH_RESULTS)
            except PortfolioError as exc:
                log.warning("MCP search_knowledge failed: %s", exc)
                raise ToolError("The owner's pages cannot be searched right now; please try again later.") from None
            return SearchResult(passages=[_found(passage) for passage in passages])

        @server.tool(
            title="Contact the owner",
            description="Pass a message and the sender's email address to the site's owner, who can reply to it. "
            "Send only an address and a message the person you act for gave you.",
        )
        async def contact_owner(
            email: Annotated[str, Field(max_length=254, description="The sender's email address.")],
            message: Annotated[str, Field(min_length=1, max_length=1000, description="What they want to say.")],
            ctx: Context,
            name: Annotated[str | None, Field(max_length=100, description="The sender's name.")] = None,
        ) -> ContactResult:
            request = _request(ctx)
            state = request.state
            visitor = await visitor_of(request, state.settings)
            # the caller's own words are what it sends: the lead tool checks the address against them
            tool_ctx = ToolContext(
                state.settings, state.stores, state.http, visitor.key, visitor_text=f"{email}\n{message}"
            )
            try:
                tool, args = state.tools.parse("record_user_details", {"email": email, "name": name, "notes": message})
                result = await state.tools.run(tool, args, tool_ctx)
            except UnknownTool:
                raise ToolError(
                    "This site does not take messages for its owner; use the contact details on it."
                ) from None
            except InvalidArguments as exc:
                raise ToolError(f"Invalid arguments for contact_owner: {exc}") from None
            except OurToolError as exc:
                raise ToolError(str(exc)) from None
            return ContactResult(recorded=True, message=result)


class _Site(MCPServer):
    """The SDK's server with our error messages, and the owner's knowledge sources, as indexed now
    (they change on a reload), as its resources."""

    def __init__(self, site: SiteServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            # the log has the traceback (the SDK writes it); the agent reads what a visitor would
            raise ToolError("Something went wrong on our side.") from None
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):  # bad input: which argument, and why
                raise ToolError(f"Invalid arguments for {name}: {validation_message(exc.__cause__)}") from None
            if isinstance(exc.__cause__, ToolError):  # ours, written for the agent: without the SDK's prefix
                raise ToolError(str(exc.__cause__)) from None
            raise

    def _sources(self) -> dict[str, list[Passage]]:
        knowledge = self.site.knowledge
        by_uri: dict[str, list[Passage]] = {}
        if knowledge is not None:
            for passage in knowledge.snapshot.passages:
                by_uri.setdefault(_uri(passage), []).append(passage)
        return by_uri

    async def list_resources(self) -> list[Resource]:
        return [
            Resource(
                uri=uri,
                name=passages[0].source,
                title=passages[0].title,
                description=f"The owner's {'page' if passages[0].is_url else 'document'} {passages[0].title!r}",
                mime_type="text/plain",
            )
            for uri, passages in self._sources().items()
        ]

    async def read_resource(self, uri: AnyUrl | str, context: Any = None) -> Iterable[ReadResourceContents]:
        passages = self._sources().get(str(uri))
        if not passages:
            raise ResourceNotFoundError(f"No knowledge source {str(uri)[:200]}")
        text = "\n\n".join(passage.text for passage in sorted(passages, key=lambda p: p.position))
        return [ReadResourceContents(content=text, mime_type="text/plain")]


class _Named:
    """Puts the route in the scope, as FastAPI's routes do, so logs and metrics name it (not "unmatched")."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route: Route | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.route
        await self.app(scope, receive, send)


def _uri(passage: Passage) -> str:
    return passage.source if passage.is_url else FILE_SCHEME + quote(passage.source.lstrip("/"))


def _found(passage: Passage) -> FoundPassage:
    where = {"url": passage.source} if passage.is_url else {"file": passage.source}
    return FoundPassage(text=passage.text, title=passage.title, section=passage.section, **where)


def _request(ctx: Context) -> Request:
    request = ctx.request_context.request
    if not isinstance(request, Request):  # only reachable through the HTTP route
        raise ToolError("This tool is served over HTTP only.")
    return request


def _refusal(exc: RateLimited) -> str:
    """A 429 as the agent reads it: what was refused, and when to try again."""
    retry = exc.extra.get("retry_after") or exc.headers.get("Retry-After")
    if retry is None:
        return f"Rate limited: {exc.detail}"
    return f"Rate limited: {exc.detail} Retry after {math.ceil(float(retry))} s."
