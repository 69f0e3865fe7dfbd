"""Typed access to what the lifespan built, for route handlers: `XxxDep` aliases.

They are `async def` on purpose, though they never await: FastAPI runs a plain `def` dependency in a
worker thread, a thread hop per dependency per request (~1 ms of CPU per chat turn, measured with
bench/run.py). Do not make them plain functions again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypedDict

import httpx2
from fastapi import Depends, Request

from .chat import ChatService
from .knowledge import Knowledge
from .live import LiveTurns
from .llm import LLMProvider
from .observability import Metrics
from .quota import Bounds, Limiter, VisitorPseudonyms, client_address, visitor_key
from .settings import Settings
from .store import ReminderStore, SessionStore, StoreError, Stores
from .tools import ToolRegistry
from .turns import TurnLifecycle
from .usage.ledger import SpendLedger


class State(TypedDict):
    """Lifespan state: built once at start-up, closed in reverse order at shutdown."""

    settings: Settings
    stores: Stores
    http: httpx2.AsyncClient
    llm: LLMProvider
    tools: ToolRegistry
    chat: ChatService
    limiter: Limiter
    bounds: Bounds
    metrics: Metrics
    knowledge: Knowledge | None
    live: LiveTurns
    ledger: SpendLedger
    turns: TurnLifecycle
    pseudonyms: VisitorPseudonyms


def _from_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency that returns one item of the lifespan state."""

    async def read(request: Request) -> Any:
        return getattr(request.state, name)

    read.__name__ = f"state_{name}"
    return read


async def _sessions(request: Request) -> SessionStore:
    stores: Stores = request.state.stores
    return stores.sessions


async def _reminders(request: Request) -> ReminderStore:
    stores: Stores = request.state.stores
    return stores.reminders


async def _visitor(request: Request) -> Visitor:
    return await visitor_of(request, request.state.settings)


async def visitor_of(request: Request, settings: Settings) -> Visitor:
    """The caller. StoreError (503) while the pseudonyms' key cannot be read from the store, unless
    RATE_LIMIT_FAIL_OPEN: then the visitor is "unknown", as uncounted as the turn it asks for."""
    pseudonyms: VisitorPseudonyms = request.state.pseudonyms
    peer = request.client.host if request.client else None
    headers = {
        "x-forwarded-for": request.headers.get("x-forwarded-for", ""),
        "forwarded": request.headers.get("forwarded", ""),
    }
    address = client_address(peer, headers, settings.trusted_proxies)
    shown = str(address) if address else "unknown"
    try:
        await pseudonyms.ready()  # returns at once after the first time
    except StoreError:
        if not settings.rate_limit_fail_open:
            raise
        return Visitor(ip=shown, key="unknown")
    return Visitor(ip=shown, key=pseudonyms.of(visitor_key(address, settings.ipv6_prefix)))


class Visitor:
    """The caller: `ip` as shown to them (and never stored or logged), `key` as counted and stored:
    a pseudonym of their address or IPv6 network (quota/pseudonym.py)."""

    __slots__ = ("ip", "key")

    def __init__(self, ip: str, key: str) -> None:
        self.ip = ip
        self.key = key


SettingsDep = Annotated[Settings, Depends(_from_state("settings"))]
StoresDep = Annotated[Stores, Depends(_from_state("stores"))]
SessionsDep = Annotated[SessionStore, Depends(_sessions)]
RemindersDep = Annotated[ReminderStore, Depends(_reminders)]
ToolsDep = Annotated[ToolRegistry, Depends(_from_state("tools"))]
LimiterDep = Annotated[Limiter, Depends(_from_state("limiter"))]
BoundsDep = Annotated[Bounds, Depends(_from_state("bounds"))]
LLMDep = Annotated[LLMProvider, Depends(_from_state("llm"))]
MetricsDep = Annotated[Metrics, Depends(_from_state("metrics"))]
LedgerDep = Annotated[SpendLedger, Depends(_from_state("ledger"))]
HttpDep = Annotated[httpx2.AsyncClient, Depends(_from_state("http"))]
KnowledgeDep = Annotated[Knowledge | None, Depends(_from_state("knowledge"))]
VisitorDep = Annotated[Visitor, Depends(_visitor)]
LiveTurnsDep = Annotated[LiveTurns, Depends(_from_state("live"))]


class TurnContext:
    """What a turn's route uses, resolved as one dependency: FastAPI spends ~25 us per dependency per
    request, and on the streaming route that is a tenth of a turn (docs/performance.md)."""

    __slots__ = ("keepalive_seconds", "settings", "turns", "visitor")

    def __init__(self, request: Request) -> None:
        state = request.state
        self.settings: Settings = state.settings
        self.turns: TurnLifecycle = state.turns
        self.keepalive_seconds = self.settings.keepalive_seconds
        self.visitor: Visitor  # set by _turn_context: finding the visitor may read the store


async def _turn_context(request: Request) -> TurnContext:
    context = TurnContext(request)
    context.visitor = await visitor_of(request, context.settings)
    return context


TurnContextDep = Annotated[TurnContext, Depends(_turn_context)]
