"""Typed access to what the lifespan built, for route handlers: `XxxDep` aliases.

They are `async def` on purpose, though they never await: FastAPI runs a plain `def` dependency in a
worker thread, a thread hop per dependency per request (~1 ms of CPU per chat turn, measured with
bench/run.py). Do not make them plain functions again.
"""

from __future__ import annotations

from typing import Annotated, TypedDict

import httpx
from fastapi import Depends, Request

from .chat import ChatService
from .llm import LLMProvider
from .observability import Metrics
from .quota import Bounds, Limiter, client_address, visitor_key
from .settings import Settings
from .store import Store
from .tools import ToolRegistry


class State(TypedDict):
    """Lifespan state: built once at start-up, closed in reverse order at shutdown."""

    settings: Settings
    store: Store
    http: httpx.AsyncClient
    llm: LLMProvider
    tools: ToolRegistry
    chat: ChatService
    limiter: Limiter
    bounds: Bounds
    metrics: Metrics


async def _settings(request: Request) -> Settings:
    return request.state.settings  # type: ignore[no-any-return]


async def _store(request: Request) -> Store:
    return request.state.store  # type: ignore[no-any-return]


async def _chat(request: Request) -> ChatService:
    return request.state.chat  # type: ignore[no-any-return]


async def _tools(request: Request) -> ToolRegistry:
    return request.state.tools  # type: ignore[no-any-return]


async def _limiter(request: Request) -> Limiter:
    return request.state.limiter  # type: ignore[no-any-return]


async def _bounds(request: Request) -> Bounds:
    return request.state.bounds  # type: ignore[no-any-return]


async def _llm(request: Request) -> LLMProvider:
    return request.state.llm  # type: ignore[no-any-return]


async def _metrics(request: Request) -> Metrics:
    return request.state.metrics  # type: ignore[no-any-return]


async def _http(request: Request) -> httpx.AsyncClient:
    return request.state.http  # type: ignore[no-any-return]


async def _visitor(request: Request) -> Visitor:
    return visitor_of(request, request.state.settings)


def visitor_of(request: Request, settings: Settings) -> Visitor:
    peer = request.client.host if request.client else None
    headers = {
        "x-forwarded-for": request.headers.get("x-forwarded-for", ""),
        "forwarded": request.headers.get("forwarded", ""),
    }
    address = client_address(peer, headers, settings.trusted_proxies)
    return Visitor(
        ip=str(address) if address else "unknown",
        key=visitor_key(address, settings.ipv6_prefix),
    )


class Visitor:
    """The caller: `ip` as shown to them, `key` as counted (an IPv6 /64, say)."""

    __slots__ = ("ip", "key")

    def __init__(self, ip: str, key: str) -> None:
        self.ip = ip
        self.key = key


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[Store, Depends(_store)]
ChatDep = Annotated[ChatService, Depends(_chat)]
ToolsDep = Annotated[ToolRegistry, Depends(_tools)]
LimiterDep = Annotated[Limiter, Depends(_limiter)]
BoundsDep = Annotated[Bounds, Depends(_bounds)]
LLMDep = Annotated[LLMProvider, Depends(_llm)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
HttpDep = Annotated[httpx.AsyncClient, Depends(_http)]
VisitorDep = Annotated[Visitor, Depends(_visitor)]


class TurnContext:
    """What POST /stream uses, resolved as one dependency: FastAPI spends ~25 us per dependency per
    request, and on the streaming route that is a tenth of a turn (docs/performance.md)."""

    __slots__ = ("bounds", "chat", "limiter", "metrics", "settings", "store", "visitor")

    def __init__(self, request: Request) -> None:
        state = request.state
        self.settings: Settings = state.settings
        self.store: Store = state.store
        self.chat: ChatService = state.chat
        self.limiter: Limiter = state.limiter
        self.bounds: Bounds = state.bounds
        self.metrics: Metrics = state.metrics
        self.visitor = visitor_of(request, self.settings)


async def _turn_context(request: Request) -> TurnContext:
    return TurnContext(request)


TurnContextDep = Annotated[TurnContext, Depends(_turn_context)]
