"""The application: `create_app(settings)` and the lifespan that opens and closes what it uses."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import NoMatchFound

from . import __version__
from .api import chat, chat_stream, feedback, health, quota, sessions, stream, tools, widget
from .api.admin import admin_router
from .api.mcp_server import SiteServer
from .api.sse import SHUTDOWN_MESSAGE
from .chat import ChatService
from .deps import State
from .errors import PortfolioError, StoreError
from .knowledge import Knowledge
from .live import LiveTurns
from .logs import write_logs_directly
from .mcp_client import McpTools, load_servers
from .middleware import RequestEdge
from .observability import Metrics
from .quota import Bounds, Limiter, VisitorPseudonyms
from .service_parts import open_service_parts
from .settings import Settings
from .tools import registry_from_settings
from .turns import TurnLifecycle
from .usage import PriceTable
from .usage.ledger import SpendLedger
from .workers.reminders import ReminderDispatcher
from .workers.retention import RetentionWorker

log = logging.getLogger("portfolio_backend")


def _describe(knowledge: Knowledge | None) -> str:
    if knowledge is None:
        return "none"
    status = knowledge.status()
    return f"{status['passages']} passages ({status['mode']}, {status['ranking']}, {len(status['failures'])} not used)"


def create_app(settings: Settings | None = None, *, clock: Callable[[], float] = time.time) -> FastAPI:
    """The app. `clock` (epoch seconds) drives the quota windows and the budget days: tests pass
    their own to roll a UTC midnight over; nothing on the per-chunk path reads it."""
    settings = settings or Settings()
    metrics = Metrics()
    site = SiteServer() if settings.mcp_enabled else None  # the site as an MCP server at /mcp

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            stack.callback(write_logs_directly)  # last, once everything else has closed
            parts = await open_service_parts(settings, stack)
            system_prompt, stores, http, llm, knowledge = (
                parts.system_prompt,
                parts.stores,
                parts.http,
                parts.llm,
                parts.knowledge,
            )
            # the owner's MCP servers connect in the background: start-up never waits for one
            mcp_tools = McpTools(await load_servers(settings.mcp_servers))
            mcp_tools.start()
            stack.push_async_callback(mcp_tools.close)
            registry = registry_from_settings(settings, knowledge, mcp_tools)
            forced = settings.openai_tool_choice
            if forced not in ("", "auto") and forced not in {spec["function"]["name"] for spec in registry.specs()}:
                log.warning("OPENAI_TOOL_CHOICE names %s, which is not an enabled tool: it is never sent", forced)
            prices = PriceTable(settings.model_prices)
            if prices.price(llm.model) is None:
                log.warning(
                    "no price for model %s: its turns cost $0, so DAILY_BUDGET_USD cannot trigger; set MODEL_PRICES",
                    llm.model,
                )
            ledger = SpendLedger(stores.usage, prices, settings, llm.model, clock=clock)
            chat = ChatService(
                settings=settings,
                llm=llm,
                tools=registry,
                stores=stores,
                http=http,
                system_prompt=system_prompt,
                knowledge=knowledge,
                prices=prices,
            )
            if settings.reminder_webhook_url:
                dispatcher = asyncio.create_task(
                    ReminderDispatcher(stores.reminders, http, settings.reminder_webhook_url).run(),
                    name="reminder-dispatcher",
                )
                stack.callback(dispatcher.cancel)
            retention = asyncio.create_task(RetentionWorker(stores, settings).run(), name="retention")
            stack.callback(retention.cancel)
            # at shutdown, past uvicorn's grace period, live turns still running end first, before
            # the model client and the store close: they store nothing and settle their quota
            live = LiveTurns(settings, stores.turns)
            stack.push_async_callback(live.close, SHUTDOWN_MESSAGE)
            pseudonyms = VisitorPseudonyms(settings, stores.secrets)
            if site is not None:
                site.knowledge = knowledge
                await stack.enter_async_context(site.session_manager.run())
            try:
                await stores.check()
                await pseudonyms.ready()  # else at the first request that names its visitor
                storage = "ok"
            except StoreError as exc:
                storage = f"unavailable ({exc}); will retry on each request"
            log.info(
                "started: storage=%s (%s), model=%s via %s, knowledge=%s%s",
                stores.name,
                storage,
                llm.model,
                llm.provider,
                _describe(knowledge),
                " (offline demo: set OPENAI_API_KEY for a real model)" if llm.provider == "demo" else "",
            )
            limiter = Limiter(
                stores.counters,
                clock,
                fail_open=settings.rate_limit_fail_open,
                on_refused=lambda bound: metrics.quota_rejections.labels(bound.name).inc(),
            )
            bounds = Bounds.from_settings(settings)
            turns = TurnLifecycle(
                settings=settings,
                stores=stores,
                chat=chat,
                limiter=limiter,
                bounds=bounds,
                ledger=ledger,
                live=live,
                metrics=metrics,
            )
            yield State(
                settings=settings,
                stores=stores,
                http=http,
                llm=llm,
                tools=registry,
                chat=chat,
                limiter=limiter,
                ledger=ledger,
                bounds=bounds,
                metrics=metrics,
                knowledge=knowledge,
                live=live,
                turns=turns,
                pseudonyms=pseudonyms,
            )

    app = FastAPI(
        title="PortfolioBackend",
        version=__version__,
        description="Streaming chat API for AI assistants on personal, portfolio and small-business sites.",
        lifespan=lifespan,
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url="/redoc" if settings.docs_enabled else None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    for router in (
        health.router,
        stream.router,
        chat.router,
        chat_stream.router,
        feedback.router,
        quota.router,
        sessions.router,
        tools.router,
        widget.router,
    ):
        app.include_router(router)
    if settings.admin_token:  # no token, no admin route: not even one that answers 401
        app.include_router(admin_router())
    if site is not None:
        app.router.routes.append(site.route())
    _install_error_handlers(app)

    # Outermost last. All pure ASGI: none buffers the streaming body.
    if settings.cors_origins:
        wildcard = "*" in settings.cors_origins
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"] if wildcard else settings.cors_origins,
            # never `*` with credentials: Starlette would then echo any Origin back, letting every
            # site read answers sent with the visitor's cookies
            allow_credentials=not wildcard,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=[
                "Content-Type",
                "Authorization",
                "X-Request-ID",
                "Last-Event-ID",
                "Mcp-Protocol-Version",  # what an MCP client in a browser sends to /mcp
                "Mcp-Session-Id",
            ],
            expose_headers=[
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
                "RateLimit",
                "RateLimit-Policy",
                "Retry-After",
                "X-Request-ID",
                "X-Turn-Id",
                "X-Session-Id",
            ],
        )
    app.add_middleware(RequestEdge, metrics=metrics, max_bytes=settings.max_body_bytes)
    # FastAPI builds an included route's dependants at its first request: ~150 ms of CPU on the event
    # loop, in the middle of the first visitors' turns. Looking up a name no route has builds them all now.
    with contextlib.suppress(NoMatchFound):
        app.url_path_for("\0 build every route now")
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PortfolioError)
    async def service_error(request: Request, exc: PortfolioError) -> JSONResponse:
        """Every error of the tree (errors.py): its status, its code and its public message."""
        if isinstance(exc, StoreError):
            log.warning("answered 503: %s", exc)  # the visitor reads one message; the log says what failed
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                problems.append("the request body is not valid JSON")
                continue
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
            message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append(f"{where}: {message}")
        return JSONResponse(
            {
                "error": "validation_error",
                "detail": "; ".join(problems) or "Invalid request",
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        return JSONResponse(
            {"error": names.get(exc.status_code, "http_error"), "detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        route = getattr(request.scope.get("route"), "path", "unmatched")  # the path may hold a session id
        log.exception("unhandled error on %s %s", request.method, route)
        return JSONResponse(
            {"error": "internal_error", "detail": "Something went wrong on our side."},
            status_code=500,
        )
